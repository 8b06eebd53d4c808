using System.Collections.Immutable;
using Cimc.Diagnostics;
using Cimc.Isa;
using Cimc.Mapping;
using Cimc.Placement;
using Cimc.Quantization;

namespace Cimc.Codegen;

/// <summary>
/// Where the copies of a convolutional network's replicated layers go (the place-copies pass). The
/// place passes put every layer's copy 0; <see cref="Placer.Assign"/> then gives copies 1 .. k - 1
/// the free cores in ascending order. A copy's cores read the layer's input maps from a copy of each
/// map on their own tile, which every producer fills (<see cref="MapDelivery"/>), and its outputs go
/// to every tile holding its readers' copies; so a copy on a tile that already holds its input maps
/// costs no new map copy, and one near its producers and readers costs fewer hops. Greedily, layer by
/// layer and copy by copy, each slot takes a free core on the tile that adds the fewest estimated
/// words x hops; the result is kept only when the exact words x hops of the code generator's
/// deliveries (<see cref="DeliveryCost"/>) are lower than the linear copies' and the program still
/// fits (tile buffers and core memories), so it is never worse than linear by that measure. Then
/// the pooling and add nodes get copies too (<see cref="Lowering.VectorCopies"/>) when the program fits with them.
/// </summary>
internal static class CopyPlacement
{
    /// <summary>The better of <paramref name="placed"/>'s copies as they are and greedily placed ones (unchanged without copies, hops or on several chips).</summary>
    /// <param name="fits">
    /// Whether a candidate fits; the pass's own check (a trial schedule, tile buffers and core
    /// memories) when not given. The estimator passes the tile buffers' check alone
    /// (<see cref="GraphCodeGenerator.MapsFit"/>), which takes no emission.
    /// </param>
    public static PlacedModel Place(PlacedModel placed, ArchHeader arch, Func<PlacedModel, bool>? fits = null)
    {
        QuantizedGraph? graph = placed.Mapped.Model.Graph;
        if (graph is null || placed.ExtraReplicas.IsEmpty || placed.Chip.TileHops is not { } hops || placed.Chip.Chips > 1)
        {
            return placed;
        }

        PlacedModel greedy = placed with { ExtraReplicas = Greedy(placed, graph, arch, hops) };
        PlacedModel[] copies = DeliveryCost(greedy, arch) < DeliveryCost(placed, arch) ? [greedy, placed] : [placed];

        // Pooling and add nodes split like the layers they take, on free cores (measured: they held
        // ResNet-18's critical path). The first candidate that fits, split first: one trial
        // schedule in the usual case (ResNet-18's takes seconds).
        PlacedModel[] candidates = [.. copies.Select(p => p with { Lowering = p.Lowering with { VectorCopies = true } }), .. copies];
        return candidates.SkipLast(1).FirstOrDefault(fits ?? (p => Fits(p, arch))) ?? placed;
    }

    private static bool Fits(PlacedModel placed, ArchHeader arch)
    {
        try
        {
            _ = GraphCodeGenerator.Schedule(placed, arch, "cores");
            return true;
        }
        catch (CimcException e) when (e.Diagnostic.Code == "does-not-fit")
        {
            return false;
        }
    }

    /// <summary>
    /// Words x mesh hops per inference of every map delivery the code generator emits for
    /// <paramref name="placed"/>: each producer (a copy's column-block root, a pool or add core) to
    /// every copy of its map and of the concats taking it, and the network input's forwarding to
    /// copies the host does not write. 0 without hops.
    /// </summary>
    public static long DeliveryCost(PlacedModel placed, ArchHeader arch)
    {
        if (placed.Chip.TileHops is not { } hops)
        {
            return 0;
        }

        QuantizedGraph graph = placed.Mapped.Model.Graph!;
        GraphPlan plan = GraphPlan.Make(placed, graph, arch);
        plan.Allocate(new TileBuffers(arch.BufferWords), GraphWavefront.Of(graph));
        long cost = 0;
        int last = graph.Nodes.Length - 1;
        for (int n = 0; n < graph.Nodes.Length; n++)
        {
            QuantizedNode node = graph.Nodes[n];
            if (node is ConcatNode)
            {
                continue;
            }

            var targets = plan.Targets(n).Select(t => t.Copy.Tile).ToList();
            if (n == last)
            {
                targets.Add(plan.Output.Tile);
            }

            IEnumerable<(int Core, long Words)> producers = node is LayerNode l
                ? plan.Copies[l.Layer].SelectMany((copy, c) => copy.ColumnBlocks.Select(b => (b.Root, (long)b.ColCount * node.Shape.Height * Columns(node.Shape.Width, plan.Copies[l.Layer].Length, c))))
                : plan.Exec[n].Select((core, j) => (core, (long)node.Shape.Channels * node.Shape.Height * Columns(node.Shape.Width, plan.Exec[n].Length, j)));
            foreach ((int core, long words) in producers)
            {
                cost += targets.Sum(t => words * hops(arch.TileOf(core), t));
            }
        }

        cost += plan.Targets(QuantizedGraph.NetworkInput).Where(t => !t.Copy.HostWritten)
            .Sum(t => (long)graph.InputShape.Size * hops(plan.Input.Tile, t.Copy.Tile));
        return cost;
    }

    /// <summary>Output columns x in [0, width) with x mod k = c.</summary>
    private static int Columns(int width, int k, int c) => (width - c + k - 1) / k;

    private static ImmutableArray<ImmutableArray<PlacedLayer>> Greedy(PlacedModel placed, QuantizedGraph graph, ArchHeader arch, Func<int, int, int> hops)
    {
        int perCore = placed.Chip.CrossbarsPerCore;
        var used = new HashSet<int>(placed.Layers.SelectMany(l => l.Cores));
        var free = new SortedSet<int>(Enumerable.Range(0, placed.Chip.Cores).Where(c => !used.Contains(c)));
        var nodeOf = graph.Nodes.Select((node, n) => (node, n)).Where(x => x.node is LayerNode).ToDictionary(x => ((LayerNode)x.node).Layer, x => x.n);

        // Tiles that hold a copy of each map so far (copies 0 of every layer that reads it), and the cores placed per layer.
        var holding = new Dictionary<int, HashSet<int>>();
        var coresOf = placed.Layers.Select(l => new List<int>(l.Cores)).ToArray();
        foreach ((int layer, int n) in nodeOf)
        {
            foreach (int map in graph.Nodes[n].Inputs.Distinct())
            {
                (holding.TryGetValue(map, out var set) ? set : holding[map] = []).UnionWith(placed.Layers[layer].Cores.Select(arch.TileOf));
            }
        }

        var result = new List<ImmutableArray<PlacedLayer>>();
        for (int l = 0; l < placed.Layers.Length; l++)
        {
            MappedLayer mapped = placed.Mapped.Layers[l];
            int n = nodeOf[l], slots = Placer.SlotsOf(mapped, perCore);
            QuantizedNode node = graph.Nodes[n];
            var readerTiles = ReaderLayers(graph, n).SelectMany(r => coresOf[r]).Select(arch.TileOf).ToList();
            long outWords = node.Shape.Size / Math.Max(1, mapped.Replicas) / slots;

            // Neither the producers' nor the readers' cores change while this layer's copies are
            // placed (its own cores join after), so each tile's costs are summed once per layer.
            var inCosts = new Dictionary<(int Map, int Tile), long>();
            var outCosts = new Dictionary<int, long>();
            var copies = ImmutableArray.CreateBuilder<PlacedLayer>();
            for (int r = 1; r < mapped.Replicas; r++)
            {
                var cores = new List<int>();
                for (int s = 0; s < slots; s++)
                {
                    int best = -1;
                    long bestCost = long.MaxValue;
                    var seen = new HashSet<int>();
                    foreach (int core in free)
                    {
                        int tile = arch.TileOf(core);
                        if (!seen.Add(tile))
                        {
                            continue;
                        }

                        long cost = node.Inputs.Distinct().Sum(m => holding.GetValueOrDefault(m)?.Contains(tile) == true ? 0
                                : inCosts.TryGetValue((m, tile), out long c) ? c : inCosts[(m, tile)] = InCost(m, tile))
                            + (outCosts.TryGetValue(tile, out long o) ? o : outCosts[tile] = readerTiles.Sum(t => outWords * hops(tile, t)));
                        if (cost < bestCost)
                        {
                            (best, bestCost) = (core, cost);
                        }
                    }

                    free.Remove(best);
                    cores.Add(best);
                    foreach (int m in node.Inputs.Distinct())
                    {
                        (holding.TryGetValue(m, out var set) ? set : holding[m] = []).Add(arch.TileOf(best));
                    }
                }

                coresOf[l].AddRange(cores);
                copies.Add(Placer.Layer(mapped, perCore, [.. cores]));
            }

            result.Add(copies.ToImmutable());
        }

        return [.. result];

        // Every producer of the map sends each new tile copy its share: the map's words times the mean hops from the producers' tiles.
        long InCost(int map, int tile)
        {
            if (map == QuantizedGraph.NetworkInput && placed.Lowering.InputPerTile)
            {
                return 0;
            }

            List<int> from = [.. SourceLayers(graph, map).SelectMany(s => s < 0 ? [placed.Layers[0].Lead] : coresOf[s]).Select(arch.TileOf)];
            long size = map == QuantizedGraph.NetworkInput ? graph.InputShape.Size : graph.Nodes[map].Shape.Size;
            return from.Count == 0 ? 0 : from.Sum(f => size * hops(f, tile)) / from.Count;
        }
    }

    /// <summary>The crossbar layers (or -1, the network input) whose outputs make up <paramref name="map"/>, seeing through pools, adds and concats.</summary>
    private static IEnumerable<int> SourceLayers(QuantizedGraph graph, int map) =>
        map == QuantizedGraph.NetworkInput ? [-1]
        : graph.Nodes[map] is LayerNode l ? [l.Layer]
        : graph.Nodes[map].Inputs.SelectMany(i => SourceLayers(graph, i)).Distinct();

    /// <summary>The crossbar layers that read node <paramref name="n"/>'s map, seeing through pools, adds and concats.</summary>
    private static IEnumerable<int> ReaderLayers(QuantizedGraph graph, int n) =>
        Enumerable.Range(n + 1, graph.Nodes.Length - n - 1).Where(k => graph.Nodes[k].Inputs.Contains(n))
            .SelectMany(k => graph.Nodes[k] is LayerNode l ? [l.Layer] : ReaderLayers(graph, k)).Distinct();
}
