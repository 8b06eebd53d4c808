using System.Collections.Immutable;
using Cimc.Isa;
using Cimc.Placement;

namespace Cimc.Codegen;

/// <summary>Where a vector finished by one core goes next (a layer's input, or the network output).</summary>
internal interface IVectorSink
{
    /// <summary>Emits, on <paramref name="core"/>, what hands over elements [start, end) held at local address <paramref name="src"/>.</summary>
    void Deliver(Emitter em, int core, int start, int end, int src);
}

/// <summary>A piece of a layer's input: elements [Start, End), produced by <see cref="Core"/>.</summary>
internal sealed record Piece(int Core, int Start, int End);

/// <summary>The cores of a layer on one tile: the first (hub) receives the tile's input rows [Lo, Hi) and shares them.</summary>
internal sealed record TileGroup(int Tile, ImmutableArray<CoreSpan> Cores, int Lo, int Hi, int Region)
{
    public int Hub => Cores[0].Core;

    public IEnumerable<CoreSpan> Peers => Cores.Skip(1);
}

/// <summary>
/// Broadcast through tile buffers: how a layer's input vector reaches its cores. Each tile holding
/// cores of the layer has a hub (its lowest core of the layer); the hubs form a ring in tile order.
/// Producers cut their pieces into chunks of at most one crossbar's rows and send each chunk once,
/// chunk i to hub i mod T (T hubs); every chunk then travels the ring once, each hub receiving it,
/// forwarding it to the next hub (unless that hub is where it entered), and, if its tile holds
/// other cores of the layer, storing the rows its tile reads in a tile-buffer region of its own (no
/// other layer or I/O uses it). After the last chunk a hub sends each of those cores a one-word
/// signal, after which they <c>load</c> their rows. The first layer's cores on the network input's
/// tile load straight from the input; its lead loads what the other tiles read as well and is the
/// only producer of the others.
/// Why a ring of chunks rather than one send per tile from each producer: with 32-bit links,
/// per-tile sends carry the vector once per destination tile over the same mesh links between two
/// layers (MLP-L4 layer 2: 8 tiles x 1024 x 16 bits = 4,096 cycles on one link), and a chain fed at
/// one end floods its first tile. On the ring each chunk crosses each tile once, producers inject in
/// parallel at different tiles, and a hub handles chunks in the order they reach it (those that
/// entered nearest first), so the tiles' transfers overlap.
/// Guarantees: every chunk enters each tile of the layer exactly once (one producer: as many
/// messages per chunk as tiles, not cores); one signal per non-hub core; every core's input rows
/// hold the layer input before its first mvm; receives on each channel match its sends in order.
/// Without the broadcast-ring pass (<see cref="Placement.Lowering.RingBroadcast"/> off, the straight
/// lowering) each producer sends each chunk straight to every hub whose tile reads rows of it; hubs
/// store and signal as above, but forward nothing.
/// With the broadcast-tree pass (<see cref="BroadcastShape.Tree"/>) chunk i goes only to the hubs
/// whose tile reads rows of it (a row-split placement gives each tile only its rows), in a binomial
/// tree: the producer sends it once to the first of those hubs (the list rotated by i, so the
/// forwarding is spread), and at step s = 1, 2, 4, ... hub j &lt; s forwards it to hub j + s. A
/// chunk reaches n hubs after 1 + ceil(log2 n) messages in sequence instead of the ring's n. Each
/// hub takes its chunks in the order (depth in the chunk's tree, chunk): a parent's key is below
/// its children's, so every blocked receive waits on a send with a lower key, which cannot be
/// blocked (deadlock-free); and a parent and a child order the chunks they share alike (the child
/// is one level deeper in each), so the k-th send between them is the k-th receive.
/// With the broadcast-chain pass every chunk enters at the first hub instead and flows along the
/// hubs in order (hub j receives them all from hub j - 1, in order, and forwards them unless it is
/// the last), so every hub receives the rows in order and nothing waits on a chunk entering
/// elsewhere; with the ring-groups pass the hubs of each group of tiles reading the same rows form
/// a ring (or chain) of their own.
/// <code>
/// before: lead --send--> every core of the next layer (one message per core)
/// after:  root --chunk i--> hub(i mod T) --> hub(i+1 mod T) --> ...; hub --store--> buffer, --signal--> peers --load--> rows
/// </code>
/// </summary>
internal sealed class InputBroadcast : IVectorSink
{
    private readonly LayerCores layer;
    private readonly ImmutableArray<TileGroup> ring;
    private readonly (int Lo, int Hi) rows;
    private readonly int chunkWords;
    private readonly ImmutableArray<TileGroup> direct;
    private readonly int inputAddr;
    private readonly BroadcastShape shape;
    private readonly bool chunkSignals;
    private readonly ImmutableArray<IoPart> parts;
    private readonly ImmutableArray<ImmutableArray<TileGroup>> rings;
    private readonly int[] enteredRing;
    private readonly bool chain;
    private int delivered;

    private InputBroadcast(LayerCores layer, ImmutableArray<TileGroup> ring, ImmutableArray<TileGroup> direct, int inputAddr, int chunkWords, BroadcastShape shape, bool chunkSignals,
        ImmutableArray<IoPart> parts, bool groupRings, bool chain)
    {
        this.chain = chain;
        rings = RingsOf(ring, groupRings);
        enteredRing = new int[rings.Length];
        this.parts = parts;
        this.layer = layer;
        this.shape = shape;
        this.chunkSignals = chunkSignals;
        this.ring = ring;
        this.direct = direct;
        this.inputAddr = inputAddr;
        this.chunkWords = chunkWords;
        rows = ring.IsEmpty ? (0, 0) : (ring.Min(g => g.Lo), ring.Max(g => g.Hi));
    }

    /// <summary>
    /// Plans the layer's tile groups and allocates their buffer regions. For the first layer,
    /// <paramref name="inputTile"/> holds the network input at <paramref name="inputAddr"/>; a
    /// negative tile means the input is split (wider than a tile buffer): every tile of the layer
    /// then gets parts of its own holding the rows its cores read (one per run of consecutive rows
    /// its crossbars read), written there by the host, and nothing travels between tiles
    /// (<see cref="InputParts"/>).
    /// </summary>
    public static InputBroadcast Plan(LayerCores layer, TileBuffers buffers, int inputTile, int inputAddr, int chunkWords, BroadcastShape shape, bool chunkSignals = false, bool groupRings = false,
        bool chain = false)
    {
        bool first = layer.Index == 0;
        var ring = ImmutableArray.CreateBuilder<TileGroup>();
        var direct = ImmutableArray.CreateBuilder<TileGroup>();
        var parts = ImmutableArray.CreateBuilder<IoPart>();
        foreach (ImmutableArray<CoreSpan> cores in layer.ByTile())
        {
            int tile = cores[0].Tile, lo = cores.Min(c => c.RowLo), hi = cores.Max(c => c.RowHi);
            if (first && tile == inputTile)
            {
                direct.Add(new TileGroup(tile, cores, 0, hi, inputAddr)); // the whole input from address inputAddr
                continue;
            }

            if (first && inputTile < 0)
            {
                direct.Add(new TileGroup(tile, cores, lo, hi, -1));
                foreach ((int s, int e) in RowRuns(cores.SelectMany(c => layer.BlocksOf(c.Core))))
                {
                    parts.Add(new IoPart(tile, buffers.Allocate(tile, "network input part", e - s), s, e - s));
                }

                continue;
            }

            int region = cores.Length > 1 ? buffers.Allocate(tile, $"layer '{layer.Name}' input", hi - lo) : -1;
            ring.Add(new TileGroup(tile, cores, lo, hi, region));
        }

        return new InputBroadcast(layer, ring.ToImmutable(), direct.ToImmutable(), inputAddr, chunkWords, shape, chunkSignals, parts.ToImmutable(), groupRings, chain);
    }

    /// <summary>
    /// The rings the chunks travel: one of all the hubs, or (the ring-groups pass) one per group of
    /// hubs whose tiles read the same rows, when no two groups' rows overlap (a chunk then belongs to
    /// one ring; else the single ring).
    /// </summary>
    private static ImmutableArray<ImmutableArray<TileGroup>> RingsOf(ImmutableArray<TileGroup> ring, bool grouped)
    {
        var groups = ring.GroupBy(g => (g.Lo, g.Hi)).Select(g => g.ToImmutableArray()).ToList();
        bool disjoint = groups.SelectMany((a, i) => groups.Skip(i + 1).Select(b => Overlap(a[0].Lo, a[0].Hi, (b[0].Lo, b[0].Hi)) is null)).All(x => x);
        return grouped && disjoint ? [.. groups] : [ring];
    }

    /// <summary>
    /// When <paramref name="core"/>'s input is complete, as a rank: the position, in its hub's order
    /// of receipt, of the last chunk holding rows the core reads (the ring broadcast, whose hubs all
    /// receive a chunk every chunk time, so equal positions are about equal times; along the chain,
    /// the chunks in order); 0 for a core that
    /// gets its input otherwise (straight from the network input, a direct send or a tree). Assumes
    /// the producers deliver the input in ascending row order, as the schedule's column blocks do;
    /// a guess about time, never about correctness. A hub ranks after every chunk: its mvms come
    /// after it has received, forwarded and stored all of them.
    /// </summary>
    public int ArrivalRank(int core)
    {
        if (!IsRing)
        {
            return 0;
        }

        var chunks = Chunks(rows.Lo, rows.Hi).ToList();
        foreach (ImmutableArray<TileGroup> r in rings.Where(r => r.Any(g => g.Cores.Any(c => c.Core == core))))
        {
            var mine = chunks.Where(c => RingOf(c.Lo, c.Hi) == rings.IndexOf(r)).ToList();
            int t = r.Length, j = r.IndexOf(r.First(g => g.Cores.Any(c => c.Core == core))), position = 0, last = 0;
            if (r[j].Hub == core)
            {
                return mine.Count; // a hub's mvms follow all its forwarding
            }

            CoreSpan span = r[j].Cores.First(c => c.Core == core);
            IEnumerable<int> order = Chain ? Enumerable.Range(0, mine.Count)
                : Enumerable.Range(0, t).SelectMany(d => Enumerable.Range(0, mine.Count).Where(i => i % t == (j - d + t) % t));
            foreach (int i in order)
            {
                last = Overlap(mine[i].Lo, mine[i].Hi, (span.RowLo, span.RowHi)) is null ? last : position;
                position++;
            }

            return last;
        }

        return 0;
    }

    /// <summary>The ring chunk [s, e) travels (-1: no hub reads it).</summary>
    private int RingOf(int s, int e) =>
        rings.Length == 1 ? 0 : rings.Select((r, k) => (r, k)).Where(x => Overlap(s, e, (x.r[0].Lo, x.r[0].Hi)) is not null).Select(x => x.k).DefaultIfEmpty(-1).First();

    /// <summary>A split network input's parts, tile by tile (tiles that read the same rows each have them).</summary>
    public ImmutableArray<IoPart> InputParts => parts;

    /// <summary>The maximal runs of consecutive rows that <paramref name="blocks"/> read, ascending.</summary>
    private static List<(int Lo, int Hi)> RowRuns(IEnumerable<Mapping.CrossbarBlock> blocks)
    {
        var runs = new List<(int Lo, int Hi)>();
        foreach ((int lo, int hi) in blocks.Select(b => (b.RowStart, b.RowStart + b.RowCount)).Distinct().Order())
        {
            if (runs.Count > 0 && lo <= runs[^1].Hi)
            {
                runs[^1] = (runs[^1].Lo, Math.Max(runs[^1].Hi, hi));
            }
            else
            {
                runs.Add((lo, hi));
            }
        }

        return runs;
    }

    /// <summary>Where rows [lo, hi) of the network input lie in the buffer of <paramref name="g"/>'s tile.</summary>
    private int InputAddress(TileGroup g, int lo, int hi)
    {
        if (g.Region >= 0)
        {
            return g.Region + (lo - g.Lo);
        }

        IoPart part = parts.First(p => p.Tile == g.Tile && p.Start <= lo && hi <= p.Start + p.Len);
        return part.Addr + (lo - part.Start);
    }

    /// <summary>
    /// Starts a sample: its chunks enter the ring from the first hub again, as the receivers expect
    /// (a replica serves several samples of a period, each with the same plan).
    /// </summary>
    public void StartSample()
    {
        delivered = 0;
        Array.Clear(enteredRing);
    }

    /// <summary>The stream of the layer's input chunks (<see cref="Streams"/>); its signals have their own.</summary>
    private int Tag => Streams.Input(layer.Index);

    private bool IsRing => shape == BroadcastShape.Ring;

    /// <summary>The chain-broadcast pass: every chunk enters at the ring's first hub and flows along the hubs in order.</summary>
    private bool Chain => IsRing && chain;

    /// <summary>
    /// The tree of chunk number <paramref name="index"/> covering [s, e): the hubs whose tile reads
    /// rows of it, rotated by the chunk's number; hub j &gt; 0's parent is j minus its highest set bit.
    /// </summary>
    private ImmutableArray<TileGroup> TreeOf(int index, int s, int e)
    {
        var readers = ring.Where(g => Overlap(s, e, (g.Lo, g.Hi)) is not null).ToList();
        return [.. readers.Select((_, j) => readers[(index + j) % readers.Count])];
    }

    /// <summary>Producer side: each chunk of [start, end) the ring reads, once, to its entry hub. Called in piece order.</summary>
    public void Deliver(Emitter em, int core, int start, int end, int src)
    {
        foreach ((int s, int e) in Chunks(start, end))
        {
            SendChunk(em, core, src + (s - start), s, e);
        }
    }

    /// <summary>Chunk [s, e) at <paramref name="src"/> leaves its producer: to its entry hub on the ring, else to every hub whose tile reads it.</summary>
    private void SendChunk(Emitter em, int core, int src, int s, int e)
    {
        if (IsRing)
        {
            if (RingOf(s, e) is int k and >= 0)
            {
                em[core].Add(Instruction.Send(rings[k][Chain ? 0 : enteredRing[k]++ % rings[k].Length].Hub, src, e - s, Tag));
            }

            return;
        }

        if (shape == BroadcastShape.Tree)
        {
            if (TreeOf(delivered++, s, e) is { Length: > 0 } tree)
            {
                em[core].Add(Instruction.Send(tree[0].Hub, src, e - s, Tag));
            }

            return;
        }

        foreach (TileGroup g in ring.Where(g => Overlap(s, e, (g.Lo, g.Hi)) is not null))
        {
            em[core].Add(Instruction.Send(g.Hub, src, e - s, Tag));
        }
    }

    /// <summary>
    /// True when <paramref name="core"/> handles ring chunks it does not keep (a hub relaying rows
    /// other tiles read, or the first layer's lead loading them), so it needs a staging area.
    /// </summary>
    public bool NeedsStaging(int core, IReadOnlyList<(int Lo, int Hi)> held)
    {
        bool relays = !ring.IsEmpty && (ring.Any(g => g.Hub == core) || (!direct.IsEmpty && core == layer.Layer.Lead));
        return relays && held.Sum(r => Math.Max(0, Math.Min(r.Hi, rows.Hi) - Math.Max(r.Lo, rows.Lo))) < rows.Hi - rows.Lo;
    }

    /// <summary>
    /// The first layer: cores on the input tile (every tile, when the input is split) load their rows;
    /// the lead also loads, chunk by chunk into its staging area, the rows the other tiles read that it
    /// does not hold, and sends them (returns the lead as their producer).
    /// </summary>
    public Piece? LoadNetworkInput(Emitter em, IReadOnlyDictionary<int, CoreMemoryLayout> memory)
    {
        if (direct.IsEmpty)
        {
            throw new InvalidOperationException("codegen: the first layer has no core on the input tile");
        }

        foreach (TileGroup g in direct)
        {
            foreach (CoreSpan c in g.Cores)
            {
                CoreMemoryLayout mem = memory[c.Core];
                foreach ((int lo, int hi) in mem.InputRuns)
                {
                    em[c.Core].Add(Instruction.Load(mem.InputAddr(lo), InputAddress(g, lo, hi), hi - lo));
                }
            }
        }

        if (ring.IsEmpty)
        {
            return null;
        }

        int lead = layer.Layer.Lead;
        CoreMemoryLayout leadMem = memory[lead];
        foreach ((int s, int e) in Chunks(rows.Lo, rows.Hi))
        {
            int src = Landing(leadMem, s, e);
            if (src == leadMem.Staging)
            {
                em[lead].Add(Instruction.Load(src, inputAddr + s, e - s));
            }

            SendChunk(em, lead, src, s, e);
        }

        return new Piece(lead, rows.Lo, rows.Hi);
    }

    /// <summary>Consumer side: hubs receive, forward and store the chunks; the other cores wait and load.</summary>
    public void Receive(Emitter em, IReadOnlyDictionary<int, CoreMemoryLayout> memory, IReadOnlyList<Piece> pieces)
    {
        var chunks = pieces.SelectMany(p => Chunks(p.Start, p.End).Select(c => (p.Core, c.Lo, c.Hi))).ToList();
        if (shape == BroadcastShape.Tree)
        {
            ReceiveTree(em, memory, chunks);
            return;
        }

        if (!IsRing)
        {
            foreach (TileGroup g in ring)
            {
                foreach ((int producer, int s, int e) in chunks.Where(c => Overlap(c.Lo, c.Hi, (g.Lo, g.Hi)) is not null))
                {
                    int at = Landing(memory[g.Hub], s, e);
                    em[g.Hub].Add(Instruction.Recv(producer, at, e - s, Tag));
                    Keep(em, memory, g, s, e, at);
                }

                SignalPeers(em, memory, g);
            }

            return;
        }

        for (int k = 0; k < rings.Length; k++)
        {
            ReceiveRing(em, memory, rings[k], [.. chunks.Where(c => RingOf(c.Lo, c.Hi) == k)]);
        }
    }

    /// <summary>One ring's hubs receive its chunks (chunk i entered at hub i mod t), forward and store them.</summary>
    private void ReceiveRing(Emitter em, IReadOnlyDictionary<int, CoreMemoryLayout> memory, ImmutableArray<TileGroup> ring, List<(int Core, int Lo, int Hi)> chunks)
    {
        int t = ring.Length;
        for (int j = 0; j < t; j++)
        {
            TileGroup g = ring[j];
            List<Instruction> hub = em[g.Hub];
            CoreMemoryLayout hubMem = memory[g.Hub];

            if (Chain)
            {
                foreach ((int producer, int s, int e) in chunks)
                {
                    int at = Landing(hubMem, s, e);
                    hub.Add(Instruction.Recv(j == 0 ? producer : ring[j - 1].Hub, at, e - s, Tag));
                    if (j + 1 < t)
                    {
                        hub.Add(Instruction.Send(ring[j + 1].Hub, at, e - s, Tag));
                    }

                    Keep(em, memory, g, s, e, at);
                }

                SignalPeers(em, memory, g);
                continue;
            }

            // Distance d from the entry hub: chunks that entered here first, then those from farther back.
            for (int d = 0; d < t; d++)
            {
                int entry = (j - d + t) % t;
                for (int i = entry; i < chunks.Count; i += t)
                {
                    (int producer, int s, int e) = chunks[i];
                    int at = Landing(hubMem, s, e);
                    hub.Add(Instruction.Recv(d == 0 ? producer : ring[(j - 1 + t) % t].Hub, at, e - s, Tag));
                    if (d + 1 < t)
                    {
                        hub.Add(Instruction.Send(ring[(j + 1) % t].Hub, at, e - s, Tag));
                    }

                    Keep(em, memory, g, s, e, at);
                }
            }

            SignalPeers(em, memory, g);
        }
    }

    /// <summary>Without chunk signals: after a hub's last chunk, each other core of its tile is signalled once and loads all its rows.</summary>
    private void SignalPeers(Emitter em, IReadOnlyDictionary<int, CoreMemoryLayout> memory, TileGroup g)
    {
        foreach (CoreSpan peer in chunkSignals ? Enumerable.Empty<CoreSpan>() : g.Peers)
        {
            CoreMemoryLayout peerMem = memory[peer.Core];
            em[g.Hub].Add(Instruction.Send(peer.Core, memory[g.Hub].Signal, 1, Streams.Signal(layer.Index)));
            em[peer.Core].Add(Instruction.Recv(g.Hub, peerMem.Signal, 1, Streams.Signal(layer.Index)));
            foreach ((int lo, int hi) in peerMem.InputRuns)
            {
                em[peer.Core].Add(Instruction.Load(peerMem.InputAddr(lo), g.Region + (lo - g.Lo), hi - lo));
            }
        }
    }

    /// <summary>
    /// The tree broadcast's consumer side: every hub receives each chunk its tile reads from its
    /// parent in that chunk's tree (the producer for the tree's first hub), forwards it to its
    /// children, larger subtree first, and keeps its rows; in the order (depth, chunk) on every hub.
    /// </summary>
    private void ReceiveTree(Emitter em, IReadOnlyDictionary<int, CoreMemoryLayout> memory, List<(int Core, int Lo, int Hi)> chunks)
    {
        var steps = new List<(int Depth, int Chunk, TileGroup Hub, int From, List<int> To)>();
        for (int i = 0; i < chunks.Count; i++)
        {
            (int producer, int s, int e) = chunks[i];
            ImmutableArray<TileGroup> tree = TreeOf(i, s, e);
            for (int j = 0; j < tree.Length; j++)
            {
                int parent = j == 0 ? producer : tree[j - HighestBit(j)].Hub;
                var children = new List<int>();
                for (int step = j == 0 ? 1 : 2 * HighestBit(j); j + step < tree.Length; step *= 2)
                {
                    children.Add(tree[j + step].Hub);
                }

                steps.Add((System.Numerics.BitOperations.PopCount((uint)j), i, tree[j], parent, children));
            }
        }

        foreach (var step in steps.OrderBy(x => x.Depth).ThenBy(x => x.Chunk))
        {
            (int _, int s, int e) = chunks[step.Chunk];
            int at = Landing(memory[step.Hub.Hub], s, e);
            List<Instruction> hub = em[step.Hub.Hub];
            hub.Add(Instruction.Recv(step.From, at, e - s, Tag));
            foreach (int child in step.To)
            {
                hub.Add(Instruction.Send(child, at, e - s, Tag));
            }

            Keep(em, memory, step.Hub, s, e, at);
        }

        foreach (TileGroup g in ring)
        {
            SignalPeers(em, memory, g);
        }
    }

    /// <summary>The highest power of two not above <paramref name="j"/> (0 for 0).</summary>
    private static int HighestBit(int j) => j == 0 ? 0 : 1 << (31 - System.Numerics.BitOperations.LeadingZeroCount((uint)j));

    /// <summary>
    /// A hub whose tile shares its rows stores the part of chunk [s, e) (landed at <paramref name="at"/>)
    /// the tile reads. With chunk signals (the signal-chunks pass) it then signals each other core of
    /// the tile that reads rows of the chunk, which loads them at once: a core's mvms can start as
    /// their input slices arrive instead of after the tile's last chunk.
    /// </summary>
    private void Keep(Emitter em, IReadOnlyDictionary<int, CoreMemoryLayout> memory, TileGroup g, int s, int e, int at)
    {
        if (g.Region < 0 || Overlap(s, e, (g.Lo, g.Hi)) is not (int ss, int se))
        {
            return;
        }

        em[g.Hub].Add(Instruction.Store(g.Region + (ss - g.Lo), at + (ss - s), se - ss));
        foreach (CoreSpan peer in chunkSignals ? g.Peers : Enumerable.Empty<CoreSpan>())
        {
            CoreMemoryLayout peerMem = memory[peer.Core];
            var parts = peerMem.InputRuns.Select(r => Overlap(r.Lo, r.Hi, (ss, se))).OfType<(int Lo, int Hi)>().ToList();
            if (parts.Count == 0)
            {
                continue;
            }

            em[g.Hub].Add(Instruction.Send(peer.Core, memory[g.Hub].Signal, 1, Streams.Signal(layer.Index)));
            em[peer.Core].Add(Instruction.Recv(g.Hub, peerMem.Signal, 1, Streams.Signal(layer.Index)));
            foreach ((int lo, int hi) in parts)
            {
                em[peer.Core].Add(Instruction.Load(peerMem.InputAddr(lo), g.Region + (lo - g.Lo), hi - lo));
            }
        }
    }

    /// <summary>Where a core puts chunk [s, e): its own input rows if it holds them all, else its staging area.</summary>
    private static int Landing(CoreMemoryLayout mem, int s, int e) =>
        mem.HoldsRow(s) && mem.HoldsRow(e - 1) && mem.InputAddr(e - 1) - mem.InputAddr(s) == e - 1 - s ? mem.InputAddr(s)
            : mem.Staging >= 0 ? mem.Staging
            : throw new InvalidOperationException($"codegen: rows [{s}, {e}) need a staging area");

    /// <summary>The part of [start, end) the ring reads, cut at multiples of the chunk size.</summary>
    private IEnumerable<(int Lo, int Hi)> Chunks(int start, int end)
    {
        (int lo, int hi) = (Math.Max(start, rows.Lo), Math.Min(end, rows.Hi));
        for (int s = lo; s < hi; s = ((s / chunkWords) + 1) * chunkWords)
        {
            yield return (s, Math.Min(hi, ((s / chunkWords) + 1) * chunkWords));
        }
    }

    private static (int, int)? Overlap(int start, int end, (int Lo, int Hi) range)
    {
        (int s, int e) = (Math.Max(start, range.Lo), Math.Min(end, range.Hi));
        return s < e ? (s, e) : null;
    }
}

/// <summary>
/// The network output: column blocks finished on the output tile store their codes at the output
/// address; the others send them to the output core (the last layer's lead), which receives each
/// into its staging area after its own work and stores it.
/// </summary>
internal sealed class OutputGather(ArchHeader arch, int outputCore, int outputAddr, ImmutableArray<IoPart> parts) : IVectorSink
{
    private readonly List<Piece> remote = [];

    /// <summary>
    /// A split output (wider than a tile buffer): one part per run of consecutive column blocks whose
    /// roots share a tile, in that tile's buffer, so every root stores its codes in place and nothing
    /// is gathered.
    /// </summary>
    public static ImmutableArray<IoPart> PlanParts(ArchHeader arch, LayerCores last, TileBuffers buffers)
    {
        var runs = new List<(int Tile, int Start, int End)>();
        foreach (ColumnBlock b in last.ColumnBlocks)
        {
            int tile = arch.TileOf(b.Root);
            if (runs.Count > 0 && runs[^1].Tile == tile && runs[^1].End == b.ColStart)
            {
                runs[^1] = runs[^1] with { End = b.ColEnd };
            }
            else
            {
                runs.Add((tile, b.ColStart, b.ColEnd));
            }
        }

        return [.. runs.Select(r => new IoPart(r.Tile, buffers.Allocate(r.Tile, "network output part", r.End - r.Start), r.Start, r.End - r.Start))];
    }

    /// <summary>True when a root of the last layer on another tile than the output core sends it codes.</summary>
    public static bool NeedsLanding(ArchHeader arch, int outputCore, IEnumerable<ColumnBlock> lastLayerBlocks) =>
        lastLayerBlocks.Any(b => arch.TileOf(b.Root) != arch.TileOf(outputCore));

    public void Deliver(Emitter em, int core, int start, int end, int src)
    {
        if (!parts.IsEmpty)
        {
            IoPart part = parts.First(p => p.Tile == arch.TileOf(core) && p.Start <= start && end <= p.Start + p.Len);
            em[core].Add(Instruction.Store(part.Addr + (start - part.Start), src, end - start));
            return;
        }

        if (arch.TileOf(core) == arch.TileOf(outputCore))
        {
            em[core].Add(Instruction.Store(outputAddr + start, src, end - start));
            return;
        }

        em[core].Add(Instruction.Send(outputCore, src, end - start, Streams.Output));
        remote.Add(new Piece(core, start, end));
    }

    public void Finish(Emitter em, int landing)
    {
        foreach (Piece p in remote)
        {
            em[outputCore].Add(Instruction.Recv(p.Core, landing, p.End - p.Start, Streams.Output));
            em[outputCore].Add(Instruction.Store(outputAddr + p.Start, landing, p.End - p.Start));
        }

        remote.Clear(); // the next sample this replica serves gathers its own pieces
    }
}
