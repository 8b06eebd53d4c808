using System.Collections.Immutable;
using Cimc.Ir;
using Cimc.Quantization;

namespace Cimc.Performance;

/// <summary>
/// A crossbar layer whose outputs another layer reads (directly or through pools, adds and
/// concats). <see cref="ReadsAll"/>: every output of <see cref="Layer"/> is read by some mvm of the
/// reader, so the reader's last mvm ends no earlier than the producer's last mvm plus one of its own
/// (a window that skips input rows or columns, e.g. stride 2 over an odd map, makes this false).
/// </summary>
public sealed record LayerInput(int Layer, bool ReadsAll);

/// <summary>What the lower bounds need of a network's structure: each crossbar layer's windows per inference and its producers.</summary>
public static class LayerInputs
{
    /// <summary>
    /// Per crossbar layer (in <see cref="QuantizedModel.Layers"/> order): its output pixels (1 for a
    /// dense layer) and the crossbar layers it reads, walking back through the vector nodes. A
    /// producer reached by several paths reads all of its outputs when any path does.
    /// </summary>
    public static ImmutableArray<(int Windows, ImmutableArray<LayerInput> Inputs)> Of(QuantizedGraph graph, int layers)
    {
        var result = new (int, ImmutableArray<LayerInput>)[layers];
        for (int l = 0; l < layers; l++)
        {
            result[l] = (1, []);
        }

        foreach (LayerNode node in graph.Nodes.OfType<LayerNode>())
        {
            var inputs = new Dictionary<int, bool>();
            bool covers = node.Conv is not { } conv || Covers(conv.Window, conv.Input);
            foreach (int i in node.Inputs)
            {
                Reach(graph, i, covers, inputs);
            }

            int windows = node.Conv is { } c ? c.OutHeight * c.OutWidth : 1;
            result[node.Layer] = (windows, [.. inputs.OrderBy(kv => kv.Key).Select(kv => new LayerInput(kv.Key, kv.Value))]);
        }

        return [.. result];
    }

    private static void Reach(QuantizedGraph graph, int index, bool covers, Dictionary<int, bool> found)
    {
        if (index == QuantizedGraph.NetworkInput)
        {
            return;
        }

        QuantizedNode node = graph.Nodes[index];
        if (node is LayerNode layer)
        {
            found[layer.Layer] = found.GetValueOrDefault(layer.Layer) || covers;
            return;
        }

        // An add or concat reads every element of every input at its own pixel; a pool reads what its windows reach.
        bool through = node switch
        {
            MaxPoolNode p => Covers(p.Window, ShapeOf(graph, node.Inputs[0])),
            AvgPoolNode p => Covers(p.Window, ShapeOf(graph, node.Inputs[0])),
            _ => true,
        };
        foreach (int i in node.Inputs)
        {
            Reach(graph, i, covers && through, found);
        }
    }

    private static MapShape ShapeOf(QuantizedGraph graph, int index) =>
        index == QuantizedGraph.NetworkInput ? graph.InputShape : graph.Nodes[index].Shape;

    /// <summary>Whether the windows together read every cell of the input map.</summary>
    internal static bool Covers(Window2d w, MapShape input) =>
        CoversAxis(input.Height, w.OutputHeight(input.Height), w.KernelH, w.StrideH, w.PadTop, w.DilationH)
        && CoversAxis(input.Width, w.OutputWidth(input.Width), w.KernelW, w.StrideW, w.PadLeft, w.DilationW);

    private static bool CoversAxis(int size, int outputs, int kernel, int stride, int pad, int dilation)
    {
        var read = new bool[size];
        for (int o = 0; o < outputs; o++)
        {
            for (int k = 0; k < kernel; k++)
            {
                long i = ((long)o * stride) - pad + ((long)k * dilation);
                if (i >= 0 && i < size)
                {
                    read[i] = true;
                }
            }
        }

        return read.All(r => r);
    }
}
