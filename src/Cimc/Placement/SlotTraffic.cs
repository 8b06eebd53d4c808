using System.Collections.Immutable;
using Cimc.Mapping;
using Cimc.Quantization;

namespace Cimc.Placement;

/// <summary>Words sent between two slots (cores before placement) per inference.</summary>
public sealed record TrafficEdge(int From, int To, long Words);

/// <summary>
/// Who talks to whom, in slots (a layer's cores before placement, numbered layer by layer as in
/// <see cref="Placer.Assign"/>), as the emitter's data movement implies: a column block's other
/// slots send partial sums to its first; a column block's first slot sends its columns to every
/// slot of the next layer reading those rows; the first layer's lead hands out the network input
/// the other slots read; the last layer's column blocks send their outputs to its lead. Placement
/// minimises these words times hops; the schedule's exact tree and ring shapes are not modelled
/// (they only reorder the same words). A network with convolutions (<see cref="QuantizedModel.Graph"/>)
/// replaces the chain's edges between layers with its own (<see cref="GraphTraffic"/>).
/// </summary>
public sealed record SlotTraffic(int Slots, ImmutableArray<TrafficEdge> Edges)
{
    public static SlotTraffic Of(MappedModel mapped, int perCore)
    {
        var words = new Dictionary<(int, int), long>();
        void Add(int a, int b, long w)
        {
            if (a != b && w > 0)
            {
                words[(a, b)] = words.GetValueOrDefault((a, b)) + w;
            }
        }

        QuantizedGraph? graph = mapped.Model.Graph;
        var layers = new List<LayerSlots>(mapped.Layers.Length);
        int first = 0;
        for (int l = 0; l < mapped.Layers.Length; l++)
        {
            MappedLayer layer = mapped.Layers[l];
            var blocks = layer.Blocks.Select((b, i) => (Block: b, Slot: first + (i / perCore))).ToList();
            List<(int Slot, int Lo, int Hi)> rows = [.. blocks.GroupBy(x => x.Slot).Select(g => (g.Key, g.Min(x => x.Block.RowStart), g.Max(x => x.Block.RowStart + x.Block.RowCount)))];
            var roots = new List<(int Slot, int Lo, int Hi)>();
            foreach (var column in blocks.GroupBy(x => x.Block.ColBlock).OrderBy(g => g.Key))
            {
                int[] held = [.. column.Select(x => x.Slot).Distinct().Order()];
                CrossbarBlock b = column.First().Block;
                foreach (int s in held.Skip(1))
                {
                    Add(s, held[0], b.ColCount);
                }

                roots.Add((held[0], b.ColStart, b.ColStart + b.ColCount));
            }

            layers.Add(new LayerSlots(first, rows, roots));
            if (graph is null)
            {
                // A chain: the first layer's lead hands out the network input; each layer reads the one before.
                foreach ((int slot, int lo, int hi) in rows)
                {
                    if (l == 0)
                    {
                        Add(first, slot, hi - lo);
                        continue;
                    }

                    foreach ((int root, int c0, int c1) in layers[l - 1].Roots)
                    {
                        Add(root, slot, Math.Min(hi, c1) - Math.Max(lo, c0));
                    }
                }
            }

            first += Placer.SlotsOf(layer, perCore);
        }

        if (graph is not null)
        {
            GraphTraffic.Add(graph, layers, Add);
        }

        // The network output is gathered on the last layer's lead.
        if (graph is null || graph.Nodes[^1] is LayerNode)
        {
            LayerSlots last = layers[graph is null ? ^1 : ((LayerNode)graph.Nodes[^1]).Layer];
            foreach ((int root, int c0, int c1) in last.Roots)
            {
                Add(root, last.First, c1 - c0);
            }
        }

        return new SlotTraffic(first, [.. words.OrderBy(kv => kv.Key).Select(kv => new TrafficEdge(kv.Key.Item1, kv.Key.Item2, kv.Value))]);
    }
}

/// <summary>A layer's slots: its first, the input rows each slot reads, and each column block's root slot with its output columns.</summary>
internal sealed record LayerSlots(int First, List<(int Slot, int Lo, int Hi)> Rows, List<(int Slot, int Lo, int Hi)> Roots);
