using System.Globalization;
using System.Text;

namespace Cimc.Quantization;

/// <summary>The quantized model's text form (`cimc compile --emit quantized`).</summary>
public static class QuantizedPrinter
{
    public static string Print(QuantizedModel model)
    {
        var sb = new StringBuilder();
        QuantizationOptions o = model.Options;
        sb.AppendLine(CultureInfo.InvariantCulture, $"quantized {model.Name} (weights {o.WeightBits} bits {(o.Granularity == Granularity.PerTensor ? "per-tensor" : "per-channel")}, activations {o.ActivationBits} bits, signed weights {QuantizationOptions.EncodingName(o.SignedWeights)})");
        sb.AppendLine(CultureInfo.InvariantCulture, $"  input {Describe(model.Input)}");
        foreach (QuantizedLayer l in model.Layers)
        {
            int min = l.Weights.Min(), max = l.Weights.Max();
            sb.AppendLine(CultureInfo.InvariantCulture, $"  layer {l.Name}: dense {l.InFeatures}->{l.OutFeatures}, w_q in [{min}, {max}] (Qw={l.WeightMax}), s_w in [{l.WeightScales.Min():G6}, {l.WeightScales.Max():G6}], activation {ActivationName(l.Activation)}");
            if (!l.Requant.IsEmpty)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"    requant M/2^r in [{l.Requant.Min(r => r.Value):G6}, {l.Requant.Max(r => r.Value):G6}]");
            }

            if (l.PreActivation is { } pre)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"    pre-activation {Describe(pre)}, {ActivationName(l.Activation)} on the special-function unit");
            }

            sb.AppendLine(l.Output is { } y ? $"    output {Describe(y)}" : "    output: accumulator, dequantized by the host");
        }

        if (model.SoftmaxAtEnd)
        {
            sb.AppendLine("  softmax on the host");
        }

        foreach (string note in model.Notes)
        {
            sb.Append("  note: ").AppendLine(note);
        }

        return sb.ToString();
    }

    /// <summary>The names the command line and the ONNX ops use, not the C# ones.</summary>
    private static string ActivationName(ActivationKind kind) => kind switch
    {
        ActivationKind.None => "none",
        ActivationKind.Relu => "relu",
        ActivationKind.LeakyRelu => "leaky-relu",
        ActivationKind.Sigmoid => "sigmoid",
        _ => "tanh",
    };

    private static string Describe(ActivationQuant q) =>
        string.Create(CultureInfo.InvariantCulture, $"codes [0, {q.Max}] ({q.Bits} bits), scale {q.Scale:G6}, zero point {q.ZeroPoint}");
}
