using System.Collections.Immutable;
using Cimc.Isa;

namespace Cimc.Scheduling;

/// <summary>
/// The emit pass: the schedule to the ISA program. Each operation becomes its instruction, in the
/// core's order, a send or receive with its message's allocated tag; each core ends with a halt.
/// Guarantees what the schedule's verifier checked (every receive names one send of its length)
/// and the program's limits (<see cref="ProgramImage.Validate"/>).
/// </summary>
public static class ScheduleLowering
{
    public static ProgramImage Lower(Schedule schedule)
    {
        var program = new ProgramImage(schedule.Arch, schedule.Input, schedule.Output, [.. schedule.Cores.Select(core => new CoreProgram(
            core.Core,
            [.. core.Ops.Select(op => op.IsMessage ? WithTag(op.Instruction, schedule.Messages[op.Message].Tag) : op.Instruction), Instruction.Halt()],
            core.Data)
        {
            Sections = Sections(core.Ops),
        })])
        {
            ExtraSlots = schedule.ExtraSlots,
        };
        program.Validate();
        return program;
    }

    /// <summary>A core's runs of operations of one sample slot, in order (the halt runs for every sample).</summary>
    private static ImmutableArray<SlotSection> Sections(ImmutableArray<ScheduledOp> ops)
    {
        var sections = new List<SlotSection>();
        for (int k = 0; k < ops.Length; k++)
        {
            int slot = ops[k].Slot;
            if (slot < 0)
            {
                continue;
            }

            if (sections.Count > 0 && sections[^1].Slot == slot && sections[^1].End == k)
            {
                sections[^1] = sections[^1] with { Count = sections[^1].Count + 1 };
            }
            else
            {
                sections.Add(new SlotSection(slot, k, 1));
            }
        }

        return [.. sections];
    }

    private static Instruction WithTag(Instruction i, int tag)
    {
        int field = i.Spec.IndexOf("tag");
        return new Instruction(i.Opcode, i.Fields.SetItem(field, tag));
    }
}
