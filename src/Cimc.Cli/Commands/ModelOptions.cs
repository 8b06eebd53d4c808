using System.CommandLine;
using Cimc.Ir;

namespace Cimc.Cli.Commands;

/// <summary>
/// `MODEL [--activation A]`: the model file a command reads and the activation a state_dict cannot
/// carry, read one way by every command that takes a model. The command lists <see cref="Model"/> and
/// <see cref="Activation"/> itself, where its help shows them.
/// </summary>
internal sealed class ModelOptions
{
    public Argument<string> Model { get; } = CommonOptions.Model();

    public Option<string?> Activation { get; } = CommonOptions.Activation();

    public string Path(ParseResult parse) => parse.GetValue(Model)!;

    public Graph Load(ParseResult parse) => CommonOptions.LoadModel(Path(parse), parse.GetValue(Activation));
}
