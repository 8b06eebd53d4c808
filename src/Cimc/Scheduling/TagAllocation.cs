using System.Collections.Immutable;
using Cimc.Diagnostics;
using Cimc.Isa;

namespace Cimc.Scheduling;

/// <summary>
/// Gives every message a tag: the messages between one pair of cores (from, to) are numbered 0, 1,
/// 2, ... in message order, so a tag is unique on its channel and a receive names exactly one send.
/// Why not one tag per purpose (input, signal, partial sums, output) as cimc once had: then a
/// channel carries several messages under one tag, matched only by their order, and no pass could
/// reorder a core's receives without changing which data each one gets.
/// </summary>
public static class TagAllocation
{
    /// <summary>The largest tag the ISA's 16-bit tag field holds.</summary>
    public static int MaxTag { get; } = (int)InstructionSet.Get(Opcode.Send).Fields.Single(f => f.Name == "tag").Max;

    public static ImmutableArray<ScheduledMessage> Allocate(IEnumerable<ScheduledMessage> messages)
    {
        var next = new Dictionary<(int, int), int>();
        return [.. messages.Select(m =>
        {
            int tag = next.GetValueOrDefault((m.From, m.To));
            if (tag > MaxTag)
            {
                throw new CimcException("does-not-fit", $"core {m.From} -> core {m.To}",
                    $"the schedule sends more than {MaxTag + 1} messages between these two cores; the ISA's tag field cannot tell them apart");
            }

            next[(m.From, m.To)] = tag + 1;
            return m with { Tag = tag };
        })];
    }
}
