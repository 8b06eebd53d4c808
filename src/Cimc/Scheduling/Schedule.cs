using System.Collections.Immutable;
using Cimc.Isa;

namespace Cimc.Scheduling;

/// <summary>What a message carries, so that a reader of the schedule (and its passes) can tell streams apart.</summary>
public enum MessageKind : byte
{
    /// <summary>A chunk of a layer's input vector (activation codes) on its way to a tile hub.</summary>
    LayerInput,

    /// <summary>A one-word signal from a tile hub: the tile buffer now holds the rows a core reads.</summary>
    Signal,

    /// <summary>Partial sums of a column block on their way to the core that adds them.</summary>
    PartialSum,

    /// <summary>Codes of the network output on their way to the output core.</summary>
    Output,

    /// <summary>A one-word release to a tile hub: the sender no longer reads the rows of a ring (line) buffer the hub will overwrite.</summary>
    Release,
}

/// <summary>
/// One message of the schedule: sent once by <see cref="From"/>, received once by <see cref="To"/>,
/// <see cref="Words"/> long. <see cref="Tag"/> is allocated (<see cref="TagAllocation"/>): unique
/// among the messages between the same two cores, so every receive names exactly one send and the
/// order of messages on a channel does not matter.
/// </summary>
public sealed record ScheduledMessage(int Id, int From, int To, int Words, MessageKind Kind, int Layer, int Tag);

/// <summary>
/// One operation of a core: an ISA instruction (for a send or receive, its tag field is filled in
/// from <see cref="Message"/> when the schedule is lowered) and the operations of the same core it
/// must follow (<see cref="After"/>, by <see cref="Id"/>: the earlier operations whose words it
/// reads or overwrites, and the synchronisation through the tile buffer). A receive also follows its
/// message's send, on the sending core.
/// </summary>
public sealed record ScheduledOp(int Id, Instruction Instruction, int Message, ImmutableArray<int> After)
{
    public bool IsMessage => Message >= 0;

    /// <summary>The sample slot of a replicated program the operation belongs to; -1: it runs for every sample (docs/isa.md, "Replicated programs").</summary>
    public int Slot { get; init; } = -1;
}

/// <summary>One core's operations in issue order, and its constant data.</summary>
public sealed record CoreSchedule(int Core, ImmutableArray<ScheduledOp> Ops, ImmutableArray<DataSegment> Data);

/// <summary>
/// The schedule IR, between placement and emission: per core, the ordered operations with their
/// dependences; the messages between cores with their allocated tags; the I/O of the program and
/// the crossbar weight image. Scheduling passes reorder and reshape it; <see cref="ScheduleLowering"/>
/// turns it into the ISA program (one instruction per operation, plus a final halt per core).
/// </summary>
public sealed record Schedule(
    ArchHeader Arch,
    InputSpec Input,
    OutputSpec Output,
    ImmutableArray<CoreSchedule> Cores,
    ImmutableArray<ScheduledMessage> Messages,
    WeightImage Weights)
{
    /// <summary>The I/O of sample slots 1 .. period - 1 of a replicated program (<see cref="ProgramImage.ExtraSlots"/>).</summary>
    public ImmutableArray<SlotIo> ExtraSlots { get; init; } = [];

    /// <summary>The operations of the whole schedule, by id (ids are unique across cores).</summary>
    public IEnumerable<(int Core, ScheduledOp Op)> Ops() => Cores.SelectMany(c => c.Ops.Select(op => (c.Core, op)));
}
