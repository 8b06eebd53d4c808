using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using Cimc.Data;
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

    public static Option<double> DivideBy() => new("--divide-by")
    {
        Description = "divide every input value by D, e.g. 255 for byte images",
        DefaultValueFactory = _ => 1.0,
    };

    /// <summary>Inputs from a data file, divided by --divide-by, refused when a value is not finite.</summary>
    public static NdArray ReadInputs(string path, double divisor, string option)
    {
        if (!(divisor > 0) || double.IsInfinity(divisor))
        {
            throw new Diagnostics.CimcException("bad-option", "--divide-by", $"must be a positive number, got {divisor}");
        }

        return FiniteValues.Check(DataFiles.ReadArray(path), $"{option} {path}").DivideBy((float)divisor);
    }

    public static Graph LoadModel(string path, string? activation) =>
        ModelLoader.Load(path, new ImportOptions(activation is null ? null : ImportOptions.ParseActivation(activation)));

    public static JsonSerializerOptions JsonOptions => JsonFormat.Options;

    public static string ToJson(object value) => JsonSerializer.Serialize(value, JsonOptions);
}
