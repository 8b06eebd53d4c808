using System.Collections.Immutable;
using Cimc.Isa;

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
/// Broadcast through tile buffers: how a layer's input vector reaches its cores. A producer sends
/// each piece once per destination tile, to that tile's hub (the tile's lowest core of the layer),
/// and only the rows that tile's cores read. The hub receives the pieces into its input region; if
/// the tile holds other cores of the layer, it stores the rows in a tile-buffer region of its own
/// (no other layer or I/O uses it), then sends each of them a one-word signal, after which they
/// <c>load</c> their rows. The first layer's cores on the network input's tile load straight from
/// the input; its lead loads what the other tiles need as well and is their single producer.
/// Guarantees: network messages into a layer = sum over pieces of the tiles that read them (for one
/// producer: the number of tiles, not cores); one signal per non-hub core; every core's input rows
/// hold the layer input before its first mvm.
/// <code>
/// before: lead --send--> every core of the next layer (one message per core)
/// after:  root --send--> hub(tile) --store--> buffer; hub --signal--> peer; peer --load--> rows
/// </code>
/// </summary>
internal sealed class InputBroadcast : IVectorSink
{
    private const int SignalTag = 0x2000;

    private readonly LayerCores layer;
    private readonly ImmutableArray<TileGroup> groups;
    private readonly TileGroup? direct;
    private readonly int inputAddr;

    private InputBroadcast(LayerCores layer, ImmutableArray<TileGroup> groups, TileGroup? direct, int inputAddr)
    {
        this.layer = layer;
        this.groups = groups;
        this.direct = direct;
        this.inputAddr = inputAddr;
    }

    /// <summary>Plans the layer's tile groups and allocates their buffer regions. For the first layer, <paramref name="inputTile"/> holds the network input at <paramref name="inputAddr"/>.</summary>
    public static InputBroadcast Plan(LayerCores layer, TileBuffers buffers, int inputTile, int inputAddr)
    {
        bool first = layer.Index == 0;
        var groups = ImmutableArray.CreateBuilder<TileGroup>();
        TileGroup? direct = null;
        foreach (ImmutableArray<CoreSpan> cores in layer.ByTile())
        {
            int tile = cores[0].Tile, lo = cores.Min(c => c.RowLo), hi = cores.Max(c => c.RowHi);
            if (first && tile == inputTile)
            {
                direct = new TileGroup(tile, cores, lo, hi, inputAddr);
                continue;
            }

            int region = cores.Length > 1 ? buffers.Allocate(tile, $"layer '{layer.Name}' input", hi - lo) : -1;
            groups.Add(new TileGroup(tile, cores, lo, hi, region));
        }

        return new InputBroadcast(layer, groups.ToImmutable(), direct, inputAddr);
    }

    /// <summary>Tag of the input pieces of layer l (its index); signals use their own range.</summary>
    private int Tag => layer.Index;

    /// <summary>Producer side: one send per hub whose tile reads any of [start, end).</summary>
    public void Deliver(Emitter em, int core, int start, int end, int src)
    {
        foreach (TileGroup g in groups)
        {
            (int s, int e) = (Math.Max(start, g.Lo), Math.Min(end, g.Hi));
            if (s < e)
            {
                em[core].Add(Instruction.Send(g.Hub, src + (s - start), e - s, Tag));
            }
        }
    }

    /// <summary>
    /// The first layer: cores on the input tile load their rows; the lead also loads the rows the
    /// other tiles read and sends them (returns the lead as their producer).
    /// </summary>
    public Piece? LoadNetworkInput(Emitter em, CoreMemoryLayout mem)
    {
        if (direct is null)
        {
            throw new InvalidOperationException("codegen: the first layer has no core on the input tile");
        }

        int lead = layer.Layer.Lead;
        Piece? fromLead = null;
        foreach (CoreSpan c in direct.Cores)
        {
            (int lo, int hi) = c.Core == lead
                ? (groups.Select(g => g.Lo).Append(c.RowLo).Min(), groups.Select(g => g.Hi).Append(c.RowHi).Max())
                : (c.RowLo, c.RowHi);
            em[c.Core].Add(Instruction.Load(mem.Input + lo, inputAddr + lo, hi - lo));
            if (c.Core == lead && !groups.IsEmpty)
            {
                Deliver(em, lead, lo, hi, mem.Input + lo);
                fromLead = new Piece(lead, lo, hi);
            }
        }

        return fromLead;
    }

    /// <summary>Consumer side: hubs receive the pieces (in the order their producers send them) and share them; the other cores wait and load.</summary>
    public void Receive(Emitter em, CoreMemoryLayout mem, IReadOnlyList<Piece> pieces)
    {
        foreach (TileGroup g in groups)
        {
            List<Instruction> hub = em[g.Hub];
            foreach (Piece p in pieces)
            {
                (int s, int e) = (Math.Max(p.Start, g.Lo), Math.Min(p.End, g.Hi));
                if (s < e)
                {
                    hub.Add(Instruction.Recv(p.Core, mem.Input + s, e - s, Tag));
                }
            }

            if (g.Region < 0)
            {
                continue;
            }

            hub.Add(Instruction.Store(g.Region, mem.Input + g.Lo, g.Hi - g.Lo));
            foreach (CoreSpan peer in g.Peers)
            {
                hub.Add(Instruction.Send(peer.Core, mem.Signal, 1, SignalTag + Tag));
            }

            foreach (CoreSpan peer in g.Peers)
            {
                em[peer.Core].Add(Instruction.Recv(g.Hub, mem.Signal, 1, SignalTag + Tag));
                em[peer.Core].Add(Instruction.Load(mem.Input + peer.RowLo, g.Region + (peer.RowLo - g.Lo), peer.RowHi - peer.RowLo));
            }
        }
    }
}

/// <summary>
/// The network output: column blocks finished on the output tile store their codes at the output
/// address; the others send them to the output core (the last layer's lead), which receives them
/// in column order after its own work and stores them.
/// </summary>
internal sealed class OutputGather(ArchHeader arch, int outputCore, int outputAddr, int landing) : IVectorSink
{
    private const int OutputTag = 0x6000;
    private readonly List<Piece> remote = [];

    public void Deliver(Emitter em, int core, int start, int end, int src)
    {
        if (arch.TileOf(core) == arch.TileOf(outputCore))
        {
            em[core].Add(Instruction.Store(outputAddr + start, src, end - start));
            return;
        }

        em[core].Add(Instruction.Send(outputCore, src, end - start, OutputTag));
        remote.Add(new Piece(core, start, end));
    }

    public void Finish(Emitter em)
    {
        foreach (Piece p in remote)
        {
            em[outputCore].Add(Instruction.Recv(p.Core, landing + p.Start, p.End - p.Start, OutputTag));
            em[outputCore].Add(Instruction.Store(outputAddr + p.Start, landing + p.Start, p.End - p.Start));
        }
    }
}
