using System.Collections.Immutable;
using Cimc.Architectures;
using Cimc.Isa;

namespace Cimc.Performance;

/// <summary>What the timing model does with an instruction, from its ISA latency class (and, for the network class, whether it writes or reads its channel).</summary>
internal enum TimedKind : byte { Control, Alu, Memory, Mvm, Send, Recv }

/// <summary>
/// One instruction as the timing model sees it, worked out once per program: its kind, the
/// local-memory ranges it reads and writes (<see cref="MemoryAccesses"/>), and the least time it
/// holds its core (<see cref="CoreNs"/>; waits come on top). For an mvm also its crossbar, ADC
/// group, slice figures and the words it accumulates into; for a load or store its bits; for a
/// send its message.
/// </summary>
internal sealed record TimedOp(
    TimedKind Kind,
    bool Halts,
    ImmutableArray<MemoryAccess> Local,
    double CoreNs,
    int Xb = -1,
    int Group = -1,
    double Slices = 0,
    double ReadNs = 0,
    double ConvertNs = 0,
    long Bits = 0,
    Message? Message = null,
    MemoryAccess Output = default)
{
    /// <summary>
    /// The channel a send writes or a recv reads, numbered once per program (-1 for other
    /// instructions), so the simulation finds a channel's queue by index instead of by (from, to, tag).
    /// </summary>
    public int Channel { get; init; } = -1;

    /// <summary>A send's route, hop by hop, with the times the message holds and passes each resource (<see cref="TimingPlan.HopsOf"/>).</summary>
    public ImmutableArray<Hop> Hops { get; init; } = [];

    /// <summary>
    /// The accesses an mvm still in flight can hold this instruction up on: all but an mvm's own
    /// accumulations, which commute with another mvm's (TimingSimulator.WaitForMvms).
    /// </summary>
    public ImmutableArray<MemoryAccess> Waits { get; } = WaitsOf(Kind, Local);

    /// <summary>The words <see cref="Waits"/> spans, first and one past the last (empty when it holds none), so that an mvm's output outside them is passed over at once.</summary>
    public (long From, long To) WaitSpan { get; } = Span(WaitsOf(Kind, Local));

    private static ImmutableArray<MemoryAccess> WaitsOf(TimedKind kind, ImmutableArray<MemoryAccess> local) =>
        kind == TimedKind.Mvm ? [.. local.Where(a => a.Kind != AccessKind.Accumulate)] : local;

    private static (long From, long To) Span(ImmutableArray<MemoryAccess> accesses) =>
        accesses.IsEmpty ? (0, 0) : (accesses.Min(a => a.Addr), accesses.Max(a => a.End));

    /// <summary>Slice time of an mvm alone: read and conversion pipeline, the slower sets the pace.</summary>
    public double SliceNs => Math.Max(ReadNs, ConvertNs);
}

/// <summary>One resource of a message's route: how long the message holds it and how long its head takes to pass it; inbound: the destination bus of a message between tiles.</summary>
internal readonly record struct Hop(int Resource, double SerializeNs, double HeadNs, bool Inbound);

/// <summary>
/// The per-instruction timing facts of a program and the durations the simulator and the bounds
/// share (docs/cost-model.md section 3), so that a bound cannot count a cost the simulator does not.
/// </summary>
internal sealed class TimingPlan
{
    private readonly Architecture arch;

    public TimingPlan(PerformanceInput input, ProgramAnalysis analysis)
    {
        arch = input.Arch;
        Cycle = arch.CycleNs;
        step = Math.Max(Cycle, input.Costs.LocalMemory.AccessLatencyNs);
        BufferLatencyNs = input.Costs.TileBuffer.AccessLatencyNs;
        Ops = [.. input.Program.Cores.Select(core => core.Code.Select((i, pc) => Plan(core.Core, pc, i, analysis)).ToArray())];
        Channels = channels.Count;
    }

    private readonly double step;

    private readonly Dictionary<(int From, int To, int Tag), int> channels = [];

    /// <summary>How many channels (from, to, tag) the program's sends and recvs use (<see cref="TimedOp.Channel"/> counts up to it).</summary>
    public int Channels { get; }

    public double Cycle { get; }

    public double BufferLatencyNs { get; }

    /// <summary>Per core slot (program order of cores) and pc.</summary>
    public TimedOp[][] Ops { get; }

    /// <summary>Cycles a transfer of <paramref name="bits"/> holds a resource <paramref name="width"/> bits wide, in ns.</summary>
    public double BeatsNs(long bits, int width) => Math.Ceiling((double)bits / width) * Cycle;

    /// <summary>
    /// Time a message holds resource <paramref name="r"/> of its route: its beats over the bus or
    /// link (twice within a tile: written to the buffer and read back).
    /// </summary>
    public double SerializeNs(Message m, Mesh mesh, int r) =>
        mesh.IsChipLink(r) ? mesh.ChipLink!.SerializeNs(m.Bits)
        : BeatsNs(m.Bits, mesh.IsBus(r) ? arch.Tile.BusBits : arch.Chip.Noc.LinkBits) * (m.Route.SameTile ? 2 : 1);

    /// <summary>Time the head of a message takes to pass resource <paramref name="r"/>: the buffer twice within a tile, a cycle per bus, hop_latency_cycles per link.</summary>
    public double HeadNs(Message m, Mesh mesh, int r) =>
        m.Route.SameTile ? 2 * BufferLatencyNs : mesh.IsBus(r) ? Cycle : mesh.IsChipLink(r) ? mesh.ChipLink!.LatencyNs : arch.Chip.Noc.HopLatencyCycles * Cycle;

    /// <summary>A message's route with each resource's hold and head times (<see cref="SerializeNs"/>, <see cref="HeadNs"/>).</summary>
    public ImmutableArray<Hop> HopsOf(Message m, Mesh mesh)
    {
        ImmutableArray<int> route = m.Route.Resources;
        var hops = new Hop[route.Length];
        for (int k = 0; k < route.Length; k++)
        {
            int r = route[k];
            hops[k] = new Hop(r, SerializeNs(m, mesh, r), HeadNs(m, mesh, r), !m.Route.SameTile && k == route.Length - 1);
        }

        return System.Runtime.InteropServices.ImmutableCollectionsMarshal.AsImmutableArray(hops);
    }

    private int ChannelId(int from, int to, int tag)
    {
        if (!channels.TryGetValue((from, to, tag), out int id))
        {
            channels[(from, to, tag)] = id = channels.Count;
        }

        return id;
    }

    private double VectorNs(long len) => Cycle + (Math.Ceiling((double)len / arch.Core.VectorLanes) * step);

    private TimedOp Plan(int core, int pc, Instruction i, ProgramAnalysis analysis)
    {
        ImmutableArray<MemoryAccess> local = [.. MemoryAccesses.Of(i).Where(a => a.Space == MemorySpace.Local && a.Len > 0)];
        bool halts = i.Opcode == Opcode.Halt;
        switch (i.Spec.LatencyClass)
        {
            case InstructionSet.LatencyClasses.Control:
                return new TimedOp(TimedKind.Control, halts, local, Cycle);
            case InstructionSet.LatencyClasses.Alu:
                // Vector work: one cycle to issue, then len / lanes steps of the local memory.
                return new TimedOp(TimedKind.Alu, halts, local, i.Spec.LengthIndex is int len and >= 0 ? VectorNs(i.Fields[len]) : Cycle);
            case InstructionSet.LatencyClasses.Memory:
                {
                    long bits = analysis.TransferBits(core, pc, i);
                    return new TimedOp(TimedKind.Memory, halts, local, BeatsNs(bits, arch.Tile.BusBits) + BufferLatencyNs, Bits: bits);
                }

            case InstructionSet.LatencyClasses.Mvm:
                {
                    int xb = (int)i["xb"];
                    return new TimedOp(TimedKind.Mvm, halts, local, Cycle, xb, arch.Core.AdcGroupOf(xb),
                        CostModel.Slices(arch, i), CostModel.ReadNs(arch), CostModel.ConvertNs(arch, i["cols"]),
                        Output: local.FirstOrDefault(a => a.Kind == AccessKind.Accumulate));
                }

            case InstructionSet.LatencyClasses.Network when MemoryAccesses.ChannelOf(i) is { Sends: true }:
                {
                    Message m = analysis.Messages[(core, pc)];
                    return new TimedOp(TimedKind.Send, halts, local, Cycle, Message: m) { Channel = ChannelId(core, m.To, m.Tag), Hops = HopsOf(m, analysis.Mesh) };
                }

            case InstructionSet.LatencyClasses.Network:
                {
                    ChannelAccess c = MemoryAccesses.ChannelOf(i)!.Value;
                    return new TimedOp(TimedKind.Recv, halts, local, Cycle) { Channel = ChannelId(c.Peer, core, c.Tag) };
                }

            default:
                throw new InvalidOperationException($"timing model: latency class '{i.Spec.LatencyClass}' of '{i.Mnemonic}' has no timing rule");
        }
    }
}
