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
        if (model.Graph is { } graph)
        {
            PrintGraph(sb, model, graph);
        }
        else
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"  input {Describe(model.Input)}");
            foreach (QuantizedLayer l in model.Layers)
            {
                PrintLayer(sb, l, $"dense {l.InFeatures}->{l.OutFeatures}");
            }
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

    /// <summary>
    /// A graph node by node, in order: each names its inputs, its map (C x H x W, held HWC) and
    /// its output quantization; a layer node prints as a layer of a chain, with its window.
    /// </summary>
    private static void PrintGraph(StringBuilder sb, QuantizedModel model, QuantizedGraph graph)
    {
        sb.AppendLine(CultureInfo.InvariantCulture, $"  input {graph.InputShape} (held HWC) {Describe(model.Input)}");
        string NameOf(int i) => i == QuantizedGraph.NetworkInput ? "input" : graph.Nodes[i].Name;
        MapShape ShapeOf(int i) => i == QuantizedGraph.NetworkInput ? graph.InputShape : graph.Nodes[i].Shape;
        foreach (QuantizedNode node in graph.Nodes)
        {
            string from = $"{string.Join(" + ", node.Inputs.Select(i => $"{NameOf(i)} {ShapeOf(i)}"))} -> {node.Shape}";
            switch (node)
            {
                case LayerNode { Conv: { } conv } l:
                    QuantizedLayer layer = model.Layers[l.Layer];
                    PrintLayer(sb, layer, $"conv ({conv.Window}{(conv.Group > 1 ? $", group {conv.Group}" : "")}) {from}, im2col {layer.InFeatures}->{layer.OutFeatures}");
                    break;
                case LayerNode l:
                    QuantizedLayer dense = model.Layers[l.Layer];
                    PrintLayer(sb, dense, $"dense {dense.InFeatures}->{dense.OutFeatures} ({from}{(ShapeOf(l.Inputs[0]).Pixels > 1 ? ", columns in HWC order" : "")})");
                    break;
                case MaxPoolNode p:
                    sb.AppendLine(CultureInfo.InvariantCulture, $"  max_pool {p.Name} ({p.Window}): {from}, output keeps its input's quantization");
                    break;
                case AvgPoolNode p:
                    sb.AppendLine(CultureInfo.InvariantCulture, $"  avg_pool {p.Name} ({p.Window}{(p.CountIncludePad ? ", padding counted" : "")}): {from}, output {Describe(p.Output)}");
                    break;
                case AddNode a:
                    sb.AppendLine(CultureInfo.InvariantCulture, $"  add {a.Name}{(a.Relu ? " + relu" : "")}: {from}, M/2^r {a.ScaleA.Value:G6} and {a.ScaleB.Value:G6}, output {Describe(a.Output)}");
                    break;
                case ConcatNode c:
                    sb.AppendLine(CultureInfo.InvariantCulture, $"  concat {c.Name}: {from}, every input and the output {Describe(c.Output)}");
                    break;
            }
        }
    }

    private static void PrintLayer(StringBuilder sb, QuantizedLayer l, string what)
    {
        int min = l.Weights.Min(), max = l.Weights.Max();
        sb.AppendLine(CultureInfo.InvariantCulture, $"  layer {l.Name}: {what}, w_q in [{min}, {max}] (Qw={l.WeightMax}), s_w in [{l.WeightScales.Min():G6}, {l.WeightScales.Max():G6}], activation {ActivationName(l.Activation)}");
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
