using System.Globalization;
using System.Text;

namespace Cimc.Ir;

/// <summary>
/// The graph's text form (`cimc inspect --emit graph`, `cimc compile --emit graph`): one line per
/// node with its op, attributes, inputs and output type. Stable, so golden tests can diff it.
/// </summary>
public static class GraphPrinter
{
    public static string Print(Graph graph)
    {
        IReadOnlyDictionary<string, Ir.TensorType> types = ShapeInference.Infer(graph);
        var sb = new StringBuilder();
        sb.Append("graph ").Append(graph.Name).Append('(');
        sb.AppendJoin(", ", graph.Inputs.Select(i => $"%{i.Name}: {i.Type}"));
        sb.AppendLine(") {");
        foreach (Node node in graph.Nodes)
        {
            sb.Append("  %").Append(node.Output).Append(": ").Append(types[node.Output])
              .Append(" = ").Append(node.Op.Mnemonic).Append(Attributes(node.Op))
              .Append('(').AppendJoin(", ", node.Inputs.Select(i => "%" + i)).Append(')')
              .Append("  # ").Append(node.Name).AppendLine();
        }

        sb.Append("  return ");
        sb.AppendJoin(", ", graph.Outputs.Select(o => $"%{o.Name}"));
        sb.AppendLine();
        sb.AppendLine("}");
        return sb.ToString();
    }

    private static string Attributes(Op op) => op switch
    {
        Dense d => $"[out={d.OutFeatures}, in={d.InFeatures}, bias={(d.Bias is null ? "no" : "yes")}{IntegerWeights(d.Quantized)}]",
        FakeQuant q => string.Create(CultureInfo.InvariantCulture, $"[scale={q.Scale:R}, zero_point={q.ZeroPoint}, range=[{q.QMin},{q.QMax}]]"),
        LeakyRelu l => $"[alpha={l.Alpha.ToString("R", CultureInfo.InvariantCulture)}]",
        Softmax s => $"[axis={s.Axis}]",
        LogSoftmax s => $"[axis={s.Axis}]",
        Clip c => string.Create(CultureInfo.InvariantCulture, $"[min={c.Min:R}, max={c.Max:R}]"),
        Flatten f => $"[axis={f.Axis}]",
        Reshape r => $"[shape=({string.Join(",", r.Shape)})]",
        Conv2d c => $"[out={c.OutChannels}, in={c.InChannels}, {c.Window}{(c.Group == 1 ? "" : $", group={c.Group}")}, bias={(c.Bias is null ? "no" : "yes")}{IntegerWeights(c.Quantized)}]",
        MaxPool2d p => $"[{p.Window}]",
        AvgPool2d p => $"[{p.Window}, count_pad={(p.CountIncludePad ? "yes" : "no")}]",
        Concat c => $"[axis={c.Axis}]",
        Relu or Sigmoid or Tanh or Identity or GlobalAvgPool or Add => "",
        _ => throw new InvalidOperationException($"printer has no case for {op.GetType().Name}"),
    };

    private static string IntegerWeights(IntegerWeights? q) => q is null ? ""
        : $", weights=int[{q.QMin},{q.QMax}] {(q.PerChannel ? "per-channel" : "per-tensor")}";
}
