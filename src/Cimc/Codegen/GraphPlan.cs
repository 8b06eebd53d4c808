using System.Collections.Immutable;
using Cimc.Diagnostics;
using Cimc.Isa;
using Cimc.Placement;
using Cimc.Quantization;

namespace Cimc.Codegen;

/// <summary>
/// One copy of a feature map in one tile buffer, HWC (<see cref="MapShape"/>): whole, or a ring of
/// <see cref="Rows"/> whole map rows in which row y sits in slot y mod Rows (a line buffer, for a map
/// that does not fit whole). Its hub (the lowest core on the tile that reads it, or the core the host
/// output is gathered on) receives the pixels other cores produce and stores them; the other readers
/// on the tile wait for its signals and, for a ring, tell it when they are done with rows. A copy
/// the host writes (the network input on its tile) needs no signal and is always whole.
/// </summary>
internal sealed record MapCopy(int Map, int Tile, int Addr, int Hub, bool HostWritten, int Height, int RowWords)
{
    /// <summary>Slots: whole map rows the copy holds (Height when whole).</summary>
    public int Rows { get; init; } = Height;

    public bool IsRing => Rows < Height;

    public int Words => Rows * RowWords;

    /// <summary>Tile-buffer address of map index <paramref name="index"/> (HWC, of the copy's map).</summary>
    public int At(int index) => Addr + ((index / RowWords % Rows) * RowWords) + (index % RowWords);

    /// <summary>
    /// Map indices [index, index + len) as runs of contiguous tile-buffer addresses (offset into the
    /// run, address, length): one run for a whole copy; a ring breaks where a row's slot wraps.
    /// </summary>
    public IEnumerable<(int Offset, int Addr, int Len)> Runs(int index, int len)
    {
        if (!IsRing)
        {
            yield return (0, At(index), len);
            yield break;
        }

        (int Offset, int Addr, int Len)? run = null;
        for (int off = 0; off < len;)
        {
            int n = Math.Min(len - off, RowWords - ((index + off) % RowWords));
            int addr = At(index + off);
            if (run is { } r && r.Addr + r.Len == addr)
            {
                run = (r.Offset, r.Addr, r.Len + n);
            }
            else
            {
                if (run is { } done)
                {
                    yield return done;
                }

                run = (off, addr, n);
            }

            off += n;
        }

        if (run is { } last)
        {
            yield return last;
        }
    }
}

/// <summary>Where a map's pixels go: a copy, at a channel offset within pixels of Stride channels (a concat's slice).</summary>
internal sealed record MapTarget(MapCopy Copy, int Offset, int Stride);

/// <summary>
/// The spatial plan of a quantized graph before any code: which cores run each node (a crossbar
/// layer its placed cores; a pooling or add node one otherwise unused core near its producers and
/// readers (<see cref="FreeCore"/>)), which tiles hold a copy of each map, and which core is each copy's hub.
/// Maps are numbered by the node that makes them (<see cref="QuantizedGraph.NetworkInput"/> = -1 for
/// the input); a concat has copies but no runner: its inputs' producers write straight into its
/// copies at their channel offsets. Copies get their regions once the wavefront order is known
/// (<see cref="Allocate"/>): whole where a tile's copies fit, else rings of rows.
/// </summary>
internal sealed class GraphPlan
{
    private readonly Dictionary<(int Map, int Tile), MapCopy> copies = [];
    private readonly Dictionary<(int Map, int Tile), List<(int Node, int Core)>> readers = [];
    private readonly List<(int Map, int Tile, string What)> made = []; // creation order: the allocation order

    private readonly ArchHeader arch;

    // Per network-input copy the host writes (by tile): which input codes its readers load.
    private readonly Dictionary<int, bool[]> loaded = [];

    private GraphPlan(QuantizedGraph graph, ImmutableArray<ImmutableArray<LayerCores>> copies, ArchHeader arch)
    {
        Graph = graph;
        Copies = copies;
        Layers = [.. copies.Select(c => c[0])];
        this.arch = arch;
    }

    public int TileOfCore(int core) => arch.TileOf(core);

    public QuantizedGraph Graph { get; }

    /// <summary>Each crossbar layer's first copy (the only one when it is not replicated).</summary>
    public ImmutableArray<LayerCores> Layers { get; }

    /// <summary>
    /// Each crossbar layer's copies (<see cref="PlacedModel.Replicas"/>): copy c of a layer with k
    /// copies computes the output pixels (y, x) with x mod k = c of every row (<see cref="CopyFor"/>),
    /// so all copies work in every row step of the wavefront.
    /// </summary>
    public ImmutableArray<ImmutableArray<LayerCores>> Copies { get; }

    /// <summary>The copy of crossbar layer <paramref name="layer"/> that computes output column <paramref name="x"/> (docs/isa.md, "Replicated convolutions").</summary>
    public LayerCores CopyFor(int layer, int x) => Copies[layer][x % Copies[layer].Length];

    /// <summary>
    /// The cores running each pooling or add node (by node index): one, or with
    /// <see cref="Lowering.VectorCopies"/> k, copy j computing the output columns x mod k = j.
    /// </summary>
    public Dictionary<int, int[]> Exec { get; } = [];

    public MapCopy Input { get; private set; } = null!;

    /// <summary>
    /// The input-tiles pass (<see cref="Lowering.InputPerTile"/>): the host writes the network input
    /// straight into every tile that holds a whole copy of it, each tile only the codes its readers
    /// load (<see cref="InputParts"/>), instead of one hub core loading every pixel and sending it on.
    /// </summary>
    public bool InputPerTile { get; private init; }

    /// <summary>The network input's quantization (the first layer's input).</summary>
    public ActivationQuant InputQuant { get; private init; } = null!;

    public MapCopy Output { get; private set; } = null!;

    /// <summary>Cores that receive pixels (hubs) or forward the network input: they need a staging area.</summary>
    public HashSet<int> Stagers { get; } = [];

    public MapShape ShapeOf(int map) => map == QuantizedGraph.NetworkInput ? Graph.InputShape : Graph.Nodes[map].Shape;

    public MapCopy CopyOf(int map, int tile) => copies[(map, tile)];

    /// <summary>The (node, core) pairs that read <paramref name="copy"/>, cores ascending.</summary>
    public IReadOnlyList<(int Node, int Core)> ReadersOf(MapCopy copy) => readers.GetValueOrDefault((copy.Map, copy.Tile)) ?? [];

    public IEnumerable<MapCopy> CopiesOf(int map) => copies.Values.Where(c => c.Map == map).OrderBy(c => c.Tile);

    /// <summary>The cores that run node <paramref name="node"/> (none for a concat).</summary>
    public IEnumerable<int> Runners(int node) => Graph.Nodes[node] switch
    {
        LayerNode l => Copies[l.Layer].SelectMany(copy => copy.Cores.Select(c => c.Core)),
        ConcatNode => [],
        _ => Exec[node],
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

    public static GraphPlan Make(PlacedModel placed, QuantizedGraph graph, ArchHeader arch)
    {
        ImmutableArray<ImmutableArray<LayerCores>> copies = [.. placed.Layers.Select((_, l) => placed.Replicas(l).Select(r => new LayerCores(l, r, arch)).ToImmutableArray())];
        var plan = new GraphPlan(graph, copies, arch) { InputQuant = placed.Mapped.Model.Input, InputPerTile = placed.Lowering.InputPerTile };
        var used = new HashSet<int>(copies.SelectMany(l => l.SelectMany(copy => copy.Cores.Select(c => c.Core))));
        var words = new Dictionary<int, long>();
        ImmutableArray<QuantizedNode> nodes = graph.Nodes;

        // The network input's tile: that of the lowest core reading it; the host writes there, at address 0.
        int inputTile = arch.TileOf(Enumerable.Range(0, nodes.Length).Where(n => nodes[n].Inputs.Contains(QuantizedGraph.NetworkInput) && nodes[n] is LayerNode)
            .SelectMany(plan.Runners).DefaultIfEmpty(plan.Layers[0].Layer.Lead).Min());
        plan.Input = plan.AddCopy(words, QuantizedGraph.NetworkInput, inputTile, hub: -1, hostWritten: true);

        for (int n = 0; n < nodes.Length; n++)
        {
            if (nodes[n] is MaxPoolNode or AvgPoolNode or AddNode)
            {
                // Copies only from cores no later pooling or add node needs for its first copy.
                int later = Enumerable.Range(n + 1, nodes.Length - n - 1).Count(k => nodes[k] is MaxPoolNode or AvgPoolNode or AddNode);
                int k = Math.Max(1, Math.Min(plan.VectorCopiesOf(n, placed), arch.TotalCores - used.Count - later));
                plan.Exec[n] = new int[k];
                for (int j = 0; j < k; j++)
                {
                    plan.Exec[n][j] = plan.FreeCore(n, used, words, placed.Chip.TileHops);
                    used.Add(plan.Exec[n][j]);
                }
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
                        plan.AddCopy(words, map, tile, core, hostWritten: false);
                    }

                    (plan.readers.TryGetValue((map, tile), out var list) ? list : plan.readers[(map, tile)] = []).Add((n, core));
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
            _ => plan.Exec[last][0],
        };
        plan.Output = plan.AddCopy(words, last, arch.TileOf(outCore), outCore, hostWritten: false, what: "network output");
        return plan;
    }

    /// <summary>Copies of pooling or add node <paramref name="n"/>: with <see cref="Lowering.VectorCopies"/>, the most copies among the crossbar layers it takes (seen through other pools, adds and concats), at most its width; else one.</summary>
    private int VectorCopiesOf(int n, PlacedModel placed)
    {
        if (!placed.Lowering.VectorCopies)
        {
            return 1;
        }

        int Most(int map) => map == QuantizedGraph.NetworkInput ? 1
            : Graph.Nodes[map] is LayerNode l ? Copies[l.Layer].Length
            : Graph.Nodes[map].Inputs.Max(Most);
        return Math.Min(Graph.Nodes[n].Shape.Width, Graph.Nodes[n].Inputs.Max(Most));
    }

    /// <summary>A copy without an address yet (<see cref="Allocate"/> gives it one); the output copy is not a map copy readers find.</summary>
    private MapCopy AddCopy(Dictionary<int, long> words, int map, int tile, int hub, bool hostWritten, string? what = null)
    {
        MapShape shape = ShapeOf(map);
        string name = what ?? (map == QuantizedGraph.NetworkInput ? "network input" : $"map '{Graph.Nodes[map].Name}'");
        var copy = new MapCopy(map, tile, -1, hub, hostWritten, shape.Height, shape.Width * shape.Channels);
        words[tile] = words.GetValueOrDefault(tile) + shape.Size;
        made.Add((map, tile, name));
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

    /// <summary>
    /// Gives every copy its tile-buffer region, in the order the copies were made (the network input
    /// first, at address 0). A tile whose copies fit whole keeps them whole; on a tile where they do
    /// not, every copy a core stores (not the host's input, not the network output) becomes a ring of
    /// as many rows as the wavefront keeps alive at once (<see cref="RingRows"/>), so rings never
    /// hold the schedule back. What still does not fit is a one-line does-not-fit diagnostic
    /// (<see cref="TileBuffers.CheckCapacity"/>).
    /// </summary>
    public void Allocate(TileBuffers buffers, GraphWavefront wave)
    {
        var ringTiles = made.GroupBy(m => m.Tile)
            .Where(g => g.Sum(m => (long)ShapeOf(m.Map).Size) > buffers.BufferWords)
            .Select(g => g.Key).ToHashSet();
        foreach ((int map, int tile, string what) in made)
        {
            bool isOutput = what == "network output";
            MapCopy copy = isOutput ? Output : copies[(map, tile)];
            if (ringTiles.Contains(tile) && !isOutput && !copy.HostWritten)
            {
                copy = copy with { Rows = RingRows(copy, wave) };
            }
            else if (InputPerTile && map == QuantizedGraph.NetworkInput && !isOutput)
            {
                // Whole on its tile: the host can write it before the run, and no core forwards it.
                copy = copy with { HostWritten = true };
                loaded[tile] = new bool[copy.Height * copy.RowWords];
            }

            string described = copy.IsRing ? $"{what} ({copy.Rows} of {copy.Height} rows)" : what;
            copy = copy with { Addr = buffers.Allocate(tile, described, copy.Words) };
            if (isOutput)
            {
                Output = copy;
            }
            else
            {
                copies[(map, tile)] = copy;
                Input = map == QuantizedGraph.NetworkInput && tile == Input.Tile ? copy : Input;
            }
        }

        if (InputPerTile)
        {
            // Only cores that still receive pixels (hubs of copies no host writes, the output's) or forward the input stage them.
            Stagers.Clear();
            Stagers.UnionWith(copies.Values.Where(c => !c.HostWritten).Select(c => c.Hub).Append(Output.Hub));
            if (Targets(QuantizedGraph.NetworkInput).Any(t => !t.Copy.HostWritten))
            {
                Stagers.Add(Input.Hub);
            }
        }
    }

    /// <summary>Notes that a core loads map indices [index, index + len) from <paramref name="copy"/> (what the host must write there).</summary>
    public void Load(MapCopy copy, int index, int len)
    {
        if (copy.HostWritten && loaded.TryGetValue(copy.Tile, out bool[]? marks) && copy.Map == QuantizedGraph.NetworkInput)
        {
            marks.AsSpan(index, len).Fill(true);
        }
    }

    /// <summary>
    /// The host's input parts once every load is emitted (<see cref="InputPerTile"/>): per host-written
    /// copy, tiles ascending, each run of input codes its cores load; codes no core loads go to the
    /// first copy, so the parts cover the input. Empty when one copy holds the input (it is written whole).
    /// </summary>
    public ImmutableArray<IoPart> InputParts()
    {
        if (loaded.Count < 2)
        {
            return [];
        }

        int n = Graph.InputShape.Size;
        var parts = new List<IoPart>();
        var anyone = new bool[n];
        foreach ((int tile, bool[] marks) in loaded.OrderBy(l => l.Key))
        {
            MapCopy copy = copies[(QuantizedGraph.NetworkInput, tile)];
            parts.AddRange(Runs(marks).Select(r => new IoPart(tile, copy.At(r.Start), r.Start, r.Len)));
            for (int i = 0; i < n; i++)
            {
                anyone[i] |= marks[i];
            }
        }

        parts.AddRange(Runs(anyone.Select(b => !b).ToArray()).Select(r => new IoPart(Input.Tile, Input.At(r.Start), r.Start, r.Len)));
        return [.. parts.OrderBy(p => p.Tile).ThenBy(p => p.Start)];

        static IEnumerable<(int Start, int Len)> Runs(bool[] marks)
        {
            for (int i = 0; i < marks.Length;)
            {
                if (!marks[i])
                {
                    i++;
                    continue;
                }

                int start = i;
                while (i < marks.Length && marks[i])
                {
                    i++;
                }

                yield return (start, i - start);
            }
        }
    }

    /// <summary>
    /// The rows of <paramref name="copy"/> alive at once in the wavefront order: row y is alive from
    /// its first store until the last reader on the tile has finished the output row after which its
    /// windows no longer reach y (when the reader tells the hub). Rows are stored and released in
    /// ascending order, so the alive rows are always consecutive and a ring of the most rows alive
    /// when any row is stored never overwrites a row still read.
    /// </summary>
    private int RingRows(MapCopy copy, GraphWavefront wave)
    {
        int h = copy.Height;
        var release = new int[h];
        Array.Fill(release, -1);
        foreach (int node in ReadersOf(copy).Select(r => r.Node).Distinct())
        {
            int rows = Graph.Nodes[node].Shape.Height;
            for (int oy = 0, y = 0; oy < rows; oy++)
            {
                int released = oy == rows - 1 ? h : GraphWavefront.Needs(Graph, node, copy.Map, oy + 1).Lo;
                for (int t = wave.TimeOf(node, oy); y < released; y++)
                {
                    release[y] = Math.Max(release[y], t);
                }
            }
        }

        int most = 1;
        for (int y = 0, lo = 0; y < h; y++)
        {
            int stored = StoreTime(copy.Map, y, wave);
            while (lo < y && release[lo] < stored)
            {
                lo++;
            }

            most = Math.Max(most, y - lo + 1);
        }

        return most;
    }

    /// <summary>When row <paramref name="y"/> of a map is first stored: its producer's step (a concat's: its earliest input's).</summary>
    private int StoreTime(int map, int y, GraphWavefront wave) =>
        map != QuantizedGraph.NetworkInput && Graph.Nodes[map] is ConcatNode concat
            ? concat.Inputs.Min(i => StoreTime(i, y, wave))
            : wave.TimeOf(map, y);

    /// <summary>
    /// An unused core for pooling or add node <paramref name="node"/>: on the tile nearest its
    /// producers and the layers reading it (words x mesh hops by <paramref name="hops"/>, the placers'
    /// objective), then on the tile whose buffer holds the fewest words so far, lowest core first.
    /// Without hops (a bare chip shape) only the buffers count. The choice never depends on the
    /// buffer's size, so a does-not-fit refusal names a buffer on which the same plan fits.
    /// </summary>
    private int FreeCore(int node, HashSet<int> used, Dictionary<int, long> words, Func<int, int, int>? hops)
    {
        QuantizedNode q = Graph.Nodes[node];
        var sources = q.Inputs.Distinct().Select(m => (Size: (long)ShapeOf(m).Size, Tiles: ProducerTiles(m).ToArray())).ToArray();
        int[] readerTiles = [.. Enumerable.Range(node + 1, Graph.Nodes.Length - node - 1)
            .Where(k => Graph.Nodes[k] is LayerNode && Graph.Nodes[k].Inputs.Contains(node)).SelectMany(Runners).Select(arch.TileOf).Distinct()];
        long Traffic(int tile) => hops is null ? 0
            : sources.Sum(s => s.Tiles.Sum(p => (long)hops(p, tile)) * s.Size / Math.Max(1, s.Tiles.Length))
              + readerTiles.Sum(r => (long)hops(tile, r) * q.Shape.Size);

        (int Core, long Traffic, long Words)? best = null;
        var traffic = new Dictionary<int, long>();
        for (int core = 0; core < arch.TotalCores; core++)
        {
            int tile = arch.TileOf(core);
            if (used.Contains(core))
            {
                continue;
            }

            long t = traffic.TryGetValue(tile, out long known) ? known : traffic[tile] = Traffic(tile);
            long w = words.GetValueOrDefault(tile);
            if (best is not { } b || (t, w).CompareTo((b.Traffic, b.Words)) < 0)
            {
                best = (core, t, w);
            }
        }

        return best?.Core
            ?? throw new CimcException("does-not-fit", $"node '{q.Name}'", $"pooling and add nodes each run on a core no layer uses, but all {arch.TotalCores} cores hold layers");
    }

    /// <summary>The tiles map <paramref name="map"/>'s pixels come from: its column blocks' roots, its pooling or add core, the host's input tile; a concat's inputs' producers.</summary>
    private IEnumerable<int> ProducerTiles(int map) =>
        map == QuantizedGraph.NetworkInput ? [Input.Tile]
        : Graph.Nodes[map] switch
        {
            LayerNode l => Layers[l.Layer].ColumnBlocks.Select(b => arch.TileOf(b.Root)),
            ConcatNode c => c.Inputs.SelectMany(ProducerTiles),
            _ => Exec[map].Select(arch.TileOf),
        };
}
