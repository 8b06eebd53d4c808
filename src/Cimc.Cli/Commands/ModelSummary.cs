using System.Text;
using Cimc.Ir;

namespace Cimc.Cli.Commands;

/// <summary>What `cimc inspect` reports; its JSON field names are a contract for scripts.</summary>
internal sealed record ModelSummary(
    string Name,
    IReadOnlyList<ModelSummary.Port> Inputs,
    IReadOnlyList<ModelSummary.Port> Outputs,
    IReadOnlyList<ModelSummary.Layer> Layers,
    long ParameterCount,
    int DenseLayers,
    int ConvLayers)
{
    public sealed record Port(string Name, string Type, IReadOnlyList<int> Shape);

    public sealed record Layer(string Name, string Op, string Attributes, IReadOnlyList<int> InputShape, IReadOnlyList<int> OutputShape, long Parameters);

    public static ModelSummary Of(Graph graph)
    {
        IReadOnlyDictionary<string, TensorType> types = ShapeInference.Infer(graph);
        var layers = graph.Nodes.Select(n => new Layer(
            n.Name,
            n.Op.Mnemonic,
            Describe(n.Op),
            [.. types[n.Input].Dims],
            [.. types[n.Output].Dims],
            n.Op switch
            {
                Dense d => d.Weight.Length + (d.Bias?.Length ?? 0),
                Conv2d c => c.Weight.Length + (c.Bias?.Length ?? 0),
                _ => 0L,
            })).ToList();
        return new ModelSummary(
            graph.Name,
            [.. graph.Inputs.Select(i => new Port(i.Name, i.Type.ToString(), [.. i.Type.Dims]))],
            [.. graph.Outputs.Select(o => new Port(o.Name, types[o.Name].ToString(), [.. types[o.Name].Dims]))],
            layers,
            graph.ParameterCount,
            graph.DenseLayers.Count(),
            graph.ConvLayers.Count());
    }

    private static string Describe(Op op) => op switch
    {
        Dense d => $"{d.InFeatures}->{d.OutFeatures}{(d.Bias is null ? ", no bias" : "")}",
        LeakyRelu l => $"alpha={l.Alpha}",
        Softmax s => $"axis={s.Axis}",
        LogSoftmax s => $"axis={s.Axis}",
        Clip c => FormattableString.Invariant($"min={c.Min}, max={c.Max}"),
        Flatten f => $"axis={f.Axis}",
        Reshape r => $"shape=({string.Join(",", r.Shape)})",
        Conv2d c => $"{c.InChannels}->{c.OutChannels}, {c.Window}{(c.Group == 1 ? "" : $", group {c.Group}")}{(c.Bias is null ? ", no bias" : "")}",
        MaxPool2d p => p.Window.ToString(),
        AvgPool2d p => p.Window.ToString(),
        Concat c => $"axis={c.Axis}",
        _ => "",
    };

    public string ToTable()
    {
        static string Shape(IReadOnlyList<int> dims) => "[" + string.Join(",", dims.Select(d => d < 0 ? "?" : d.ToString())) + "]";
        var rows = Layers.Select((l, i) => new[] { i.ToString(), l.Name, l.Op, l.Attributes, Shape(l.InputShape), Shape(l.OutputShape), l.Parameters.ToString("N0") }).ToList();
        string[] header = ["#", "name", "op", "details", "input", "output", "params"];
        int[] widths = [.. header.Select((h, c) => rows.Select(r => r[c].Length).Append(h.Length).Max())];
        var sb = new StringBuilder();
        sb.AppendLine($"model {Name}: input {string.Join(", ", Inputs.Select(i => $"{i.Name} {i.Type}"))} -> output {string.Join(", ", Outputs.Select(o => $"{o.Name} {o.Type}"))}");
        sb.AppendLine(string.Join("  ", header.Select((h, c) => h.PadRight(widths[c]))).TrimEnd());
        foreach (string[] row in rows)
        {
            sb.AppendLine(string.Join("  ", row.Select((v, c) => c == 6 ? v.PadLeft(widths[c]) : v.PadRight(widths[c]))).TrimEnd());
        }

        string convs = ConvLayers > 0 ? $", {ConvLayers} convolutions" : "";
        sb.AppendLine($"{DenseLayers} dense layers{convs}, {ParameterCount:N0} parameters");
        return sb.ToString();
    }
}
