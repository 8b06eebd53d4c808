using System.Collections.Immutable;
using Cimc.Diagnostics;
using Cimc.Isa;
using Cimc.Placement;
using Cimc.Quantization;

namespace Cimc.Codegen;

/// <summary>
/// One copy of a feature map in one tile buffer, whole and HWC (<see cref="MapShape"/>). Its hub (the
/// lowest core on the tile that reads it, or the core the host output is gathered on) receives the
/// pixels other cores produce and stores them; the other readers on the tile wait for its signal.
/// A copy the host writes (the network input on its tile) needs no signal.
/// </summary>
internal sealed record MapCopy(int Map, int Tile, int Addr, int Hub, bool HostWritten);

/// <summary>Where a map's pixels go: a copy, at a channel offset within pixels of Stride channels (a concat's slice).</summary>
internal sealed record MapTarget(MapCopy Copy, int Offset, int Stride);

/// <summary>
/// The spatial plan of a quantized graph before any code: which cores run each node (a crossbar
/// layer its placed cores; a pooling or add node one otherwise unused core, on the tile whose buffer
/// is least used so far), which tiles hold a copy of each map, and which core is each copy's hub.
/// Maps are numbered by the node that makes them (<see cref="QuantizedGraph.NetworkInput"/> = -1 for
/// the input); a concat has copies but no runner: its inputs' producers write straight into its
/// copies at their channel offsets. Whole maps live in tile buffers (no line buffers yet), so a map
/// wider than what is left of a tile's buffer is a does-not-fit diagnostic.
/// </summary>
internal sealed class GraphPlan
{
    private readonly Dictionary<(int Map, int Tile), MapCopy> copies = [];

    private GraphPlan(QuantizedGraph graph, ImmutableArray<LayerCores> layers)
    {
        Graph = graph;
        Layers = layers;
    }

    public QuantizedGraph Graph { get; }

    public ImmutableArray<LayerCores> Layers { get; }

    /// <summary>The core running each pooling or add node (by node index).</summary>
    public Dictionary<int, int> Exec { get; } = [];

    public MapCopy Input { get; private set; } = null!;

    /// <summary>The network input's quantization (the first layer's input).</summary>
    public ActivationQuant InputQuant { get; private init; } = null!;

    public MapCopy Output { get; private set; } = null!;

    /// <summary>Cores that receive pixels (hubs) or forward the network input: they need a staging area.</summary>
    public HashSet<int> Stagers { get; } = [];

    public MapShape ShapeOf(int map) => map == QuantizedGraph.NetworkInput ? Graph.InputShape : Graph.Nodes[map].Shape;

    public MapCopy CopyOf(int map, int tile) => copies[(map, tile)];

    public IEnumerable<MapCopy> CopiesOf(int map) => copies.Values.Where(c => c.Map == map).OrderBy(c => c.Tile);

    /// <summary>The cores that run node <paramref name="node"/> (none for a concat).</summary>
    public IEnumerable<int> Runners(int node) => Graph.Nodes[node] switch
    {
        LayerNode l => Layers[l.Layer].Cores.Select(c => c.Core),
        ConcatNode => [],
        _ => [Exec[node]],
    };

    /// <summary>Where map <paramref name="map"/>'s pixels go: its own copies, and through each concat that takes it, that concat's targets at its channel offset.</summary>
    public IEnumerable<MapTarget> Targets(int map)
    {
        int channels = ShapeOf(map).Channels;
        foreach (MapCopy c in CopiesOf(map))
        {
            yield return new MapTarget(c, 0, channels);
        }

        for (int n = map + 1; n < Graph.Nodes.Length; n++)
        {
            if (Graph.Nodes[n] is not ConcatNode concat)
            {
                continue;
            }

            // A concat may take the same map more than once: each occurrence is a slice of its own.
            for (int k = 0, offset = 0; k < concat.Inputs.Length; offset += ShapeOf(concat.Inputs[k]).Channels, k++)
            {
                if (concat.Inputs[k] != map)
                {
                    continue;
                }

                foreach (MapTarget t in Targets(n))
                {
                    yield return t with { Offset = t.Offset + offset };
                }
            }
        }
    }

    public static GraphPlan Make(PlacedModel placed, QuantizedGraph graph, ArchHeader arch, TileBuffers buffers)
    {
        for (int l = 0; l < placed.Layers.Length; l++)
        {
            if (placed.Replicas(l).Length > 1)
            {
                throw new CimcException("unsupported", $"layer '{placed.Layers[l].Mapped.Layer.Name}'",
                    "replicated layers of a convolutional network are not supported yet; compile without replication (--replicate none)");
            }
        }

        var plan = new GraphPlan(graph, [.. placed.Layers.Select((_, l) => new LayerCores(l, placed.Replicas(l)[0], arch))]) { InputQuant = placed.Mapped.Model.Input };
        var used = new HashSet<int>(plan.Layers.SelectMany(l => l.Cores.Select(c => c.Core)));
        var words = new Dictionary<int, long>();
        ImmutableArray<QuantizedNode> nodes = graph.Nodes;

        // The network input's tile: that of the lowest core reading it; the host writes there, at address 0.
        int inputTile = arch.TileOf(Enumerable.Range(0, nodes.Length).Where(n => nodes[n].Inputs.Contains(QuantizedGraph.NetworkInput) && nodes[n] is LayerNode)
            .SelectMany(plan.Runners).DefaultIfEmpty(plan.Layers[0].Layer.Lead).Min());
        plan.Input = plan.AddCopy(buffers, words, QuantizedGraph.NetworkInput, inputTile, hub: -1, hostWritten: true);

        for (int n = 0; n < nodes.Length; n++)
        {
            if (nodes[n] is MaxPoolNode or AvgPoolNode or AddNode)
            {
                plan.Exec[n] = FreeCore(arch, used, words, nodes[n].Name);
                used.Add(plan.Exec[n]);
            }

            if (nodes[n] is ConcatNode)
            {
                continue;
            }

            foreach (int core in plan.Runners(n).Order())
            {
                int tile = arch.TileOf(core);
                foreach (int map in nodes[n].Inputs.Distinct())
                {
                    if (!plan.copies.ContainsKey((map, tile)))
                    {
                        plan.AddCopy(buffers, words, map, tile, core, hostWritten: false);
                    }
                }
            }
        }

        // The network input's first copy has no hub yet: the lowest core on its tile that reads it forwards it to the other copies.
        MapCopy input = plan.copies[(QuantizedGraph.NetworkInput, inputTile)];
        int reader = Enumerable.Range(0, nodes.Length).Where(n => nodes[n].Inputs.Contains(QuantizedGraph.NetworkInput))
            .SelectMany(plan.Runners).Where(c => arch.TileOf(c) == inputTile).DefaultIfEmpty(plan.Layers[0].Layer.Lead).Min();
        plan.Input = plan.copies[(QuantizedGraph.NetworkInput, inputTile)] = input with { Hub = reader };
        if (plan.Targets(QuantizedGraph.NetworkInput).Count() > 1)
        {
            plan.Stagers.Add(reader);
        }

        // The network output: gathered on the last node's first core (its first column block's root).
        int last = nodes.Length - 1;
        int outCore = nodes[last] switch
        {
            LayerNode l => plan.Layers[l.Layer].ColumnBlocks[0].Root,
            ConcatNode c => throw new CimcException("unsupported", $"node '{c.Name}'", "a concat as the network output is not supported"),
            _ => plan.Exec[last],
        };
        plan.Output = plan.AddCopy(buffers, words, last, arch.TileOf(outCore), outCore, hostWritten: false, what: "network output");
        return plan;
    }

    private MapCopy AddCopy(TileBuffers buffers, Dictionary<int, long> words, int map, int tile, int hub, bool hostWritten, string? what = null)
    {
        MapShape shape = ShapeOf(map);
        string name = what ?? (map == QuantizedGraph.NetworkInput ? "network input" : $"map '{Graph.Nodes[map].Name}'");
        var copy = new MapCopy(map, tile, buffers.Allocate(tile, name, shape.Size), hub, hostWritten);
        words[tile] = words.GetValueOrDefault(tile) + shape.Size;
        if (what is null)
        {
            copies[(map, tile)] = copy;
        }

        if (hub >= 0)
        {
            Stagers.Add(hub);
        }

        return copy;
    }

    /// <summary>An unused core for a pooling or add node: on the tile whose buffer holds the fewest words so far, lowest core first.</summary>
    private static int FreeCore(ArchHeader arch, HashSet<int> used, Dictionary<int, long> words, string node)
    {
        int best = -1;
        long bestWords = long.MaxValue;
        for (int core = 0; core < arch.TotalCores; core++)
        {
            long w = words.GetValueOrDefault(arch.TileOf(core));
            if (!used.Contains(core) && w < bestWords)
            {
                (best, bestWords) = (core, w);
            }
        }

        return best >= 0 ? best
            : throw new CimcException("does-not-fit", $"node '{node}'", $"pooling and add nodes each run on a core no layer uses, but all {arch.TotalCores} cores hold layers");
    }
}
