using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using Cimc.Import;
using Cimc.Ir;

namespace Cimc.Cli.Commands;

/// <summary>Options and helpers shared by several commands, so each is spelled one way everywhere.</summary>
internal static class CommonOptions
{
    public static Argument<string> Model() => new("MODEL")
    {
        Description = "model file: ONNX (.onnx), TorchScript archive, state_dict (.pt/.pth) or whole module saved with torch.save",
    };

    public static Option<string?> Activation() => new("--activation")
    {
        Description = "activation between layers of a state_dict, which cannot carry it: relu, sigmoid, tanh or none",
    };

    public static Option<bool> Json() => new("--json")
    {
        Description = "print one JSON object instead of a table",
    };

    public static Graph LoadModel(string path, string? activation) =>
        ModelLoader.Load(path, new ImportOptions(activation is null ? null : ImportOptions.ParseActivation(activation)));

    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static string ToJson(object value) => JsonSerializer.Serialize(value, JsonOptions);

    /// <summary>A compile's warnings on stderr, one line each, before the command's own output.</summary>
    public static void Warn(CliContext context, IEnumerable<string> warnings)
    {
        foreach (string w in warnings)
        {
            context.Error.WriteLine($"cimc: warning: {w}");
        }
    }
}
