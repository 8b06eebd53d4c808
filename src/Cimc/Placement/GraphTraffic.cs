using Cimc.Quantization;

namespace Cimc.Placement;

/// <summary>
/// The traffic between layers of a network with convolutions, in slots (<see cref="SlotTraffic"/>):
/// each column block's root slot of a producer sends its output channels to every slot of a layer
/// that reads them, as many words as that slot reads of the map it takes: a convolution slot reads
/// every pixel of the channels its im2col rows touch (the rows are (kh, kw, c), so the channel is
/// row mod C); a dense slot reads its rows of the map in HWC order. The network input goes from the
/// first slot of the first layer that reads it (the host writes it on that core's tile). Pools and
/// adds run on cores chosen after placement, so they are seen through: the producer is charged the
/// words of the pooled or summed map its reader takes; a concat shifts its inputs' channels.
/// </summary>
internal static class GraphTraffic
{
    public static void Add(QuantizedGraph graph, List<LayerSlots> layers, Action<int, int, long> add)
    {
        int inputHub = graph.Nodes.OfType<LayerNode>().Where(n => n.Inputs.Contains(QuantizedGraph.NetworkInput))
            .Select(n => layers[n.Layer].First).DefaultIfEmpty(0).Min();
        foreach (LayerNode reader in graph.Nodes.OfType<LayerNode>())
        {
            foreach (int map in reader.Inputs.Distinct())
            {
                MapShape shape = map == QuantizedGraph.NetworkInput ? graph.InputShape : graph.Nodes[map].Shape;
                var sources = new HashSet<(int Producer, int Offset)>();
                Sources(graph, map, 0, sources);
                foreach ((int producer, int offset) in sources)
                {
                    List<(int Slot, int Lo, int Hi)> roots = producer == QuantizedGraph.NetworkInput
                        ? [(inputHub, 0, graph.InputShape.Channels)]
                        : layers[((LayerNode)graph.Nodes[producer]).Layer].Roots;
                    foreach ((int slot, int lo, int hi) in layers[reader.Layer].Rows)
                    {
                        foreach ((int root, int c0, int c1) in roots)
                        {
                            add(root, slot, Words(reader, shape, lo, hi, c0 + offset, c1 + offset));
                        }
                    }
                }
            }
        }
    }

    /// <summary>Words of channels [c0, c1) of <paramref name="map"/> that input rows [lo, hi) of <paramref name="reader"/> read per inference.</summary>
    private static long Words(LayerNode reader, MapShape map, int lo, int hi, int c0, int c1)
    {
        int channels = map.Channels;
        (c0, c1) = (Math.Clamp(c0, 0, channels), Math.Clamp(c1, 0, channels));
        long rows = InRange(hi, channels, c0, c1) - InRange(lo, channels, c0, c1);
        if (reader.Conv is null)
        {
            return rows;
        }

        // Fewer rows than channels touch each channel at most once; more touch every channel.
        long touched = hi - lo >= channels ? c1 - c0 : rows;
        return touched * map.Pixels;
    }

    /// <summary>Rows r in [0, x) whose channel r mod C lies in [c0, c1).</summary>
    private static long InRange(long x, int channels, int c0, int c1) =>
        (x / channels * (c1 - c0)) + Math.Clamp((x % channels) - c0, 0, c1 - c0);

    /// <summary>The crossbar layers (by node) or network input whose outputs make up <paramref name="map"/>, with the channel offset each lands at.</summary>
    private static void Sources(QuantizedGraph graph, int map, int offset, HashSet<(int, int)> found)
    {
        if (map == QuantizedGraph.NetworkInput || graph.Nodes[map] is LayerNode)
        {
            found.Add((map, offset));
            return;
        }

        QuantizedNode node = graph.Nodes[map];
        int shift = 0;
        foreach (int input in node.Inputs)
        {
            Sources(graph, input, node is ConcatNode ? offset + shift : offset, found);
            shift += input == QuantizedGraph.NetworkInput ? graph.InputShape.Channels : graph.Nodes[input].Shape.Channels;
        }
    }
}
