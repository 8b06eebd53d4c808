using System.Collections.Immutable;
using System.Text.Json;
using Cimc.Diagnostics;

namespace Cimc.Quantization;

/// <summary>
/// Per-layer bits from a JSON file (`--precision FILE`):
/// <code>{ "weight_bits": 8, "activation_bits": 8, "layers": { "fc1": { "weight_bits": 4 }, "2": { "activation_bits": 6 } } }</code>
/// Layers are named as `cimc inspect` shows them, or by index from 0. A layer's activation bits are
/// those of its input. The top-level keys are optional defaults.
/// </summary>
public static class PrecisionFile
{
    public static QuantizationOptions Apply(QuantizationOptions options, string path)
    {
        if (!File.Exists(path))
        {
            throw new CimcException("file-not-found", path, "no such file");
        }

        try
        {
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new CimcException("bad-precision", path, "expected a JSON object");
            }

            var layers = ImmutableDictionary.CreateBuilder<string, LayerPrecision>();
            foreach (JsonProperty p in doc.RootElement.EnumerateObject())
            {
                switch (p.Name)
                {
                    case "weight_bits":
                        options = options with { WeightBits = Bits(p.Value, path, p.Name) };
                        break;
                    case "activation_bits":
                        options = options with { ActivationBits = Bits(p.Value, path, p.Name) };
                        break;
                    case "layers":
                        if (p.Value.ValueKind != JsonValueKind.Object)
                        {
                            throw new CimcException("bad-precision", $"{path}: layers", "expected an object of layer name -> bits");
                        }

                        foreach (JsonProperty layer in p.Value.EnumerateObject())
                        {
                            layers[layer.Name] = Layer(layer.Value, path, $"layers.{layer.Name}");
                        }

                        break;
                    default:
                        throw new CimcException("bad-precision", $"{path}: {p.Name}", "unknown key; expected weight_bits, activation_bits or layers");
                }
            }

            return (options with { PerLayer = layers.ToImmutable() }).Validate();
        }
        catch (JsonException e)
        {
            throw new CimcException("bad-precision", path, $"invalid JSON at line {e.LineNumber + 1}: {e.Message.Split('.')[0]}");
        }
    }

    private static LayerPrecision Layer(JsonElement e, string path, string where)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            throw new CimcException("bad-precision", $"{path}: {where}", "expected an object with weight_bits and/or activation_bits");
        }

        int? w = null, a = null;
        foreach (JsonProperty p in e.EnumerateObject())
        {
            switch (p.Name)
            {
                case "weight_bits":
                    w = Bits(p.Value, path, $"{where}.weight_bits");
                    break;
                case "activation_bits":
                    a = Bits(p.Value, path, $"{where}.activation_bits");
                    break;
                default:
                    throw new CimcException("bad-precision", $"{path}: {where}.{p.Name}", "unknown key; expected weight_bits or activation_bits");
            }
        }

        return new LayerPrecision(w, a);
    }

    private static int Bits(JsonElement e, string path, string where) =>
        e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int v) && v is >= 1 and <= 16
            ? v
            : throw new CimcException("bad-precision", $"{path}: {where}", $"must be an integer from 1 to 16 (got {e.GetRawText()})");
}
