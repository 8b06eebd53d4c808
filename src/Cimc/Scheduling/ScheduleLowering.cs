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
            core.Data))]);
        program.Validate();
        return program;
    }

    private static Instruction WithTag(Instruction i, int tag)
    {
        int field = i.Spec.IndexOf("tag");
        return new Instruction(i.Opcode, i.Fields.SetItem(field, tag));
    }
}
