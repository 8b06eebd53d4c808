using System.Collections.Immutable;
using Cimc.Ir;
using Cimc.Quantization;

namespace Cimc.Codegen;

/// <summary>
/// The order in which a quantized graph's work is emitted: one global sequence of row steps (node,
/// output row), each node's rows ascending, made by pulling from the network output: before a node
/// emits output row oy, every map it reads has been made up to the rows its windows at oy reach
/// (<see cref="Needs"/>). Row -1's "node" is <see cref="QuantizedGraph.NetworkInput"/>: spreading an
/// input row to the input's other copies. Why pull: a map is made only as far as its readers need
/// it, so few of its rows are alive at once (what <see cref="GraphPlan"/> sizes ring buffers by), and
/// the layers run as a pipeline over rows, as in ISAAC. Every core's operations follow this one order
/// and each receive is emitted after its send, so the program cannot deadlock.
/// </summary>
internal sealed class GraphWavefront
{
    private readonly Dictionary<(int Node, int Row), int> times = [];

    private GraphWavefront(QuantizedGraph graph, ImmutableArray<(int Node, int Row)> steps)
    {
        Graph = graph;
        Steps = steps;
        for (int t = 0; t < steps.Length; t++)
        {
            times[steps[t]] = t;
        }
    }

    public QuantizedGraph Graph { get; }

    /// <summary>The row steps in emission order; a concat has none (its inputs' producers write its copies).</summary>
    public ImmutableArray<(int Node, int Row)> Steps { get; }

    /// <summary>Position of step (node, row) in <see cref="Steps"/>.</summary>
    public int TimeOf(int node, int row) => times[(node, row)];

    public static GraphWavefront Of(QuantizedGraph graph)
    {
        ImmutableArray<QuantizedNode> nodes = graph.Nodes;
        var done = new int[nodes.Length + 1]; // [0] the network input, [n + 1] node n
        var steps = ImmutableArray.CreateBuilder<(int, int)>();

        void Produce(int map, int hi)
        {
            if (map != QuantizedGraph.NetworkInput && nodes[map] is ConcatNode concat)
            {
                foreach (int input in concat.Inputs)
                {
                    Produce(input, hi);
                }

                return;
            }

            while (done[map + 1] < hi)
            {
                int row = done[map + 1];
                if (map != QuantizedGraph.NetworkInput)
                {
                    foreach (int input in nodes[map].Inputs.Distinct())
                    {
                        Produce(input, Needs(graph, map, input, row).Hi);
                    }
                }

                steps.Add((map, row));
                done[map + 1]++;
            }
        }

        // The output pulls what it needs; then whatever it did not reach (rows no window reads), in node order.
        Produce(nodes.Length - 1, nodes[^1].Shape.Height);
        for (int n = 0; n < nodes.Length; n++)
        {
            Produce(n, nodes[n].Shape.Height);
        }

        Produce(QuantizedGraph.NetworkInput, graph.InputShape.Height);
        return new GraphWavefront(graph, steps.ToImmutable());
    }

    /// <summary>
    /// Rows [Lo, Hi) of map <paramref name="map"/> that node <paramref name="node"/> reads for its
    /// output row <paramref name="row"/>: a window's rows clamped to the map, the same row for an add,
    /// the whole map for a dense layer. Both ends never decrease as the row grows.
    /// </summary>
    public static (int Lo, int Hi) Needs(QuantizedGraph graph, int node, int map, int row)
    {
        int h = map == QuantizedGraph.NetworkInput ? graph.InputShape.Height : graph.Nodes[map].Shape.Height;
        Window2d? w = graph.Nodes[node] switch
        {
            LayerNode { Conv: { } conv } => conv.Window,
            MaxPoolNode pool => pool.Window,
            AvgPoolNode pool => pool.Window,
            _ => null,
        };
        if (w is null)
        {
            return graph.Nodes[node] is AddNode ? (row, row + 1) : (0, h);
        }

        int top = (row * w.StrideH) - w.PadTop;
        int lo = Math.Clamp(top, 0, h), hi = Math.Clamp(top + ((w.KernelH - 1) * w.DilationH) + 1, lo, h);
        return (lo, hi);
    }
}
