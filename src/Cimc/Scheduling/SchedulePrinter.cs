using System.Globalization;
using System.Text;

namespace Cimc.Scheduling;

/// <summary>
/// The text form of the schedule (`--emit schedule`, `--dump-after` of a scheduling pass): per core,
/// its operations in order, each with its id, its instruction (a message's tag as allocated), what
/// it sends or receives, and the ids it must follow.
/// <code>
/// core 16
///   [40] recv core=0, dst=2300, len=128, tag=0      ; layer 0 input from core 0
///   [41] send core=24, src=2300, len=128, tag=0     ; layer 0 input to core 24      after 40
/// </code>
/// </summary>
public static class SchedulePrinter
{
    public static string Print(Schedule schedule)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(inv, $"schedule: {schedule.Cores.Length} cores, {schedule.Cores.Sum(c => c.Ops.Length)} operations, {schedule.Messages.Length} messages\n");
        sb.Append(inv, $"input: tile {schedule.Input.Tile} addr {schedule.Input.Addr} len {schedule.Input.Len}{Split(schedule.Input.Parts)}; output: tile {schedule.Output.Tile} addr {schedule.Output.Addr} len {schedule.Output.Len}{Split(schedule.Output.Parts)}\n");
        foreach (CoreSchedule core in schedule.Cores)
        {
            sb.Append(inv, $"\ncore {core.Core}\n");
            foreach (ScheduledOp op in core.Ops)
            {
                string text = op.IsMessage ? Describe(schedule, op) : op.Instruction.ToString();
                sb.Append(inv, $"  [{op.Id}] {text}");
                if (!op.After.IsEmpty)
                {
                    sb.Append("  after ").AppendJoin(",", op.After.Select(a => a.ToString(inv)));
                }

                sb.Append('\n');
            }
        }

        return sb.ToString();
    }

    private static string Describe(Schedule schedule, ScheduledOp op)
    {
        ScheduledMessage m = schedule.Messages[op.Message];
        bool sends = op.Instruction.Opcode == Isa.Opcode.Send;
        string what = m.Kind switch
        {
            MessageKind.LayerInput => $"layer {m.Layer} input",
            MessageKind.Signal => $"layer {m.Layer} rows ready",
            MessageKind.PartialSum => $"layer {m.Layer} partial sums",
            MessageKind.Release => $"map {m.Layer - 1} rows released",
            _ => "network output",
        };
        string tagged = op.Instruction.ToString();
        tagged = tagged[..tagged.LastIndexOf("tag=", StringComparison.Ordinal)] + $"tag={m.Tag}";
        return string.Create(CultureInfo.InvariantCulture, $"{tagged}  ; message {m.Id}: {what} {(sends ? "to" : "from")} core {(sends ? m.To : m.From)}");
    }

    /// <summary>How a split input or output reads in the header (nothing when it is whole).</summary>
    private static string Split(System.Collections.Immutable.ImmutableArray<Isa.IoPart> parts) =>
        parts.IsEmpty ? "" : string.Create(CultureInfo.InvariantCulture, $" in {parts.Length} parts on {parts.Select(p => p.Tile).Distinct().Count()} tiles");
}
