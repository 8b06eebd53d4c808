using Cimc.Diagnostics;
using Cimc.Import.Onnx.Proto;

namespace Cimc.Import.Onnx;

/// <summary>
/// Orders ONNX nodes so that every value is produced before it is used. Exporters usually write
/// nodes in that order already, but the spec does not promise it, so cimc sorts (Kahn's algorithm,
/// taking the lowest file position first: a sorted file keeps its order).
/// Diagnoses a value produced twice, an input nothing defines ("dangling input 'x' of node 'n'"),
/// and a cycle, naming a node that lies on it.
/// </summary>
internal static class OnnxGraphSorter
{
    /// <param name="nodes">The graph's nodes in file order.</param>
    /// <param name="defined">Values available before any node runs: graph inputs and initializers.</param>
    /// <param name="describe">How a node is named in a message.</param>
    /// <returns>Node positions in a topological order.</returns>
    public static int[] Sort(IReadOnlyList<NodeProto> nodes, IReadOnlySet<string> defined, Func<int, string> describe)
    {
        var producer = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < nodes.Count; i++)
        {
            foreach (string output in nodes[i].Output)
            {
                if (output.Length == 0)
                {
                    continue; // an optional output left out
                }

                if (defined.Contains(output) || !producer.TryAdd(output, i))
                {
                    throw new CimcException("onnx-duplicate-value", describe(i), $"output '{output}' is already defined elsewhere in the graph");
                }
            }
        }

        var pending = new int[nodes.Count];
        var consumers = new List<int>[nodes.Count];
        for (int i = 0; i < nodes.Count; i++)
        {
            consumers[i] = [];
        }

        for (int i = 0; i < nodes.Count; i++)
        {
            foreach (string input in nodes[i].Input)
            {
                if (input.Length == 0 || defined.Contains(input))
                {
                    continue; // an optional input left out, or a graph input or initializer
                }

                if (!producer.TryGetValue(input, out int from))
                {
                    throw new CimcException("onnx-dangling-input", describe(i), $"dangling input '{input}': it is not a graph input, an initializer or the output of any node");
                }

                pending[i]++;
                consumers[from].Add(i);
            }
        }

        var ready = new PriorityQueue<int, int>();
        for (int i = 0; i < nodes.Count; i++)
        {
            if (pending[i] == 0)
            {
                ready.Enqueue(i, i);
            }
        }

        var order = new List<int>(nodes.Count);
        while (ready.TryDequeue(out int i, out _))
        {
            order.Add(i);
            foreach (int c in consumers[i])
            {
                if (--pending[c] == 0)
                {
                    ready.Enqueue(c, c);
                }
            }
        }

        if (order.Count != nodes.Count)
        {
            int onCycle = FindNodeOnCycle(nodes, producer, pending);
            throw new CimcException("onnx-cycle", describe(onCycle), "the node is part of a cycle: its inputs depend on its own output");
        }

        return [.. order];
    }

    /// <summary>
    /// Nodes left unsorted either lie on a cycle or depend on one. Walking from any of them to an
    /// unsorted producer must revisit a node; the first node seen twice lies on a cycle.
    /// </summary>
    private static int FindNodeOnCycle(IReadOnlyList<NodeProto> nodes, Dictionary<string, int> producer, int[] pending)
    {
        int current = Array.FindIndex(pending, p => p > 0);
        var seen = new HashSet<int>();
        while (seen.Add(current))
        {
            current = nodes[current].Input
                .Where(producer.ContainsKey)
                .Select(input => producer[input])
                .First(p => pending[p] > 0);
        }

        return current;
    }
}
