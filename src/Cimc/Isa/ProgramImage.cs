using System.Collections.Immutable;
using Cimc.Diagnostics;

namespace Cimc.Isa;

/// <summary>Initial contents of a core's local memory: Values written at word Addr before the core starts.</summary>
public sealed record DataSegment(int Addr, ImmutableArray<long> Values)
{
    public bool Equals(DataSegment? other) =>
        other is not null && Addr == other.Addr && Values.AsSpan().SequenceEqual(other.Values.AsSpan());

    public override int GetHashCode() => HashCode.Combine(Addr, Values.Length);
}

/// <summary>One core's instruction stream and initial data; <see cref="Core"/> is the global core id.</summary>
public sealed record CoreProgram(int Core, ImmutableArray<Instruction> Code, ImmutableArray<DataSegment> Data)
{
    public CoreProgram(int core, ImmutableArray<Instruction> code)
        : this(core, code, [])
    {
    }

    /// <summary>The runs of <see cref="Code"/> that belong to one sample slot of a replicated program (ascending, disjoint); empty: every instruction runs for every sample.</summary>
    public ImmutableArray<SlotSection> Sections { get; init; } = [];

    /// <summary>The slot of the instruction at <paramref name="pc"/>, or -1 when it runs for every sample.</summary>
    public int SlotOf(int pc)
    {
        foreach (SlotSection s in Sections)
        {
            if (pc >= s.Start && pc < s.End)
            {
                return s.Slot;
            }
        }

        return -1;
    }

    /// <summary>The slot of every instruction (-1: every sample), for runners that step through the code.</summary>
    public int[] SlotsByPc()
    {
        var slots = new int[Code.Length];
        Array.Fill(slots, -1);
        foreach (SlotSection s in Sections)
        {
            slots.AsSpan(s.Start, s.Count).Fill(s.Slot);
        }

        return slots;
    }

    public bool Equals(CoreProgram? other) =>
        other is not null && Core == other.Core && Code.SequenceEqual(other.Code) && Data.SequenceEqual(other.Data) && Sections.SequenceEqual(other.Sections);

    public override int GetHashCode() => HashCode.Combine(Core, Code.Length, Data.Length);
}

/// <summary>
/// A whole program for the chip: the machine it targets, how the host writes inputs and reads
/// outputs, and each programmed core's code and data. Cores not listed stay idle (halted).
/// Text form: <see cref="Assembler"/>/<see cref="Disassembler"/>; binary form (program.bin):
/// <see cref="ToBytes"/>/<see cref="FromBytes"/>, documented in docs/isa.md. Equality is by value.
/// </summary>
public sealed partial record ProgramImage(ArchHeader Arch, InputSpec Input, OutputSpec Output, ImmutableArray<CoreProgram> Cores)
{
    public CoreProgram? FindCore(int core) => Cores.FirstOrDefault(c => c.Core == core);

    /// <summary>
    /// The I/O of sample slots 1 .. period - 1 of a replicated program (slot 0 is <see cref="Input"/>
    /// and <see cref="Output"/>); empty for a program with period 1.
    /// </summary>
    public ImmutableArray<SlotIo> ExtraSlots { get; init; } = [];

    /// <summary>Samples per period: sample n runs the sections of slot n mod period (docs/isa.md, "Replicated programs").</summary>
    public int Period => 1 + ExtraSlots.Length;

    /// <summary>True for a program with one slot and no sections (the version 3 form).</summary>
    public bool IsPlain => ExtraSlots.IsEmpty && Cores.All(c => c.Sections.IsEmpty);

    /// <summary>Where slot <paramref name="slot"/>'s input and output live.</summary>
    public SlotIo IoOf(int slot) => slot == 0 ? new SlotIo(Input.Tile, Input.Addr, Output.Tile, Output.Addr) : ExtraSlots[slot - 1];

    /// <summary>
    /// The program one sample of slot <paramref name="slot"/> runs: each core's instructions outside
    /// sections and in that slot's sections, in order, with the slot's input and output addresses.
    /// The functional simulators run sample n on <c>ForSlot(n mod Period)</c>.
    /// </summary>
    public ProgramImage ForSlot(int slot)
    {
        if (IsPlain)
        {
            return this;
        }

        SlotIo io = IoOf(slot);
        return new ProgramImage(Arch, Input with { Tile = io.InputTile, Addr = io.InputAddr }, Output with { Tile = io.OutputTile, Addr = io.OutputAddr },
            [.. Cores.Select(c =>
            {
                int[] slots = c.SlotsByPc();
                return new CoreProgram(c.Core, [.. c.Code.Where((_, pc) => slots[pc] < 0 || slots[pc] == slot)], c.Data);
            })]);
    }

    public bool Equals(ProgramImage? other) =>
        other is not null && Arch == other.Arch && Input == other.Input &&
        Output.Tile == other.Output.Tile && Output.Addr == other.Output.Addr && Output.Len == other.Output.Len && Output.Parts.SequenceEqual(other.Output.Parts) &&
        Output.Scales.SequenceEqual(other.Output.Scales) && Output.ZeroPoints.SequenceEqual(other.Output.ZeroPoints) &&
        Cores.SequenceEqual(other.Cores) && ExtraSlots.SequenceEqual(other.ExtraSlots);

    public override int GetHashCode() => HashCode.Combine(Arch, Input, Cores.Length);

    /// <summary>
    /// Checks everything that can be checked without running: the architecture, the I/O ranges,
    /// unique core ids in range, data segments inside local memory. Instruction operands that depend
    /// on run-time values (addresses plus lengths, crossbar indices) are checked when executed.
    /// </summary>
    public void Validate(string location = "program")
    {
        Arch.Validate(location);
        Input.Validate(Arch, location);
        Output.Validate(Arch, location);
        if (Cores.IsDefault)
        {
            throw new CimcException("bad-program", location, "no core list");
        }

        if (ExtraSlots.IsDefault)
        {
            throw new CimcException("bad-program", location, "no slot list");
        }

        if (!ExtraSlots.IsEmpty && (!Input.Parts.IsEmpty || !Output.Parts.IsEmpty))
        {
            throw new CimcException("bad-program", location, "a program whose input or output is split into parts has one sample slot");
        }

        foreach (SlotIo io in ExtraSlots)
        {
            IoRange.Check("slot input", io.InputTile, io.InputAddr, Input.Len, Arch, location);
            IoRange.Check("slot output", io.OutputTile, io.OutputAddr, Output.Len, Arch, location);
        }

        var seen = new HashSet<int>();
        foreach (CoreProgram core in Cores)
        {
            if (core.Core < 0 || core.Core >= Arch.TotalCores)
            {
                throw new CimcException("bad-program", location, $"core {core.Core} is outside [0, {Arch.TotalCores})");
            }

            if (!seen.Add(core.Core))
            {
                throw new CimcException("bad-program", location, $"core {core.Core} is listed twice");
            }

            if (core.Code.IsDefault || core.Data.IsDefault || core.Sections.IsDefault)
            {
                throw new CimcException("bad-program", location, $"core {core.Core} has no code or data list");
            }

            int end = 0;
            foreach (SlotSection section in core.Sections)
            {
                if (section.Slot < 0 || section.Slot >= Period || section.Count < 1 || section.Start < end || section.End > core.Code.Length)
                {
                    throw new CimcException("bad-program", location,
                        $"core {core.Core}: section of slot {section.Slot} at [{section.Start}, {(long)section.Start + section.Count}) is outside the code, overlaps the one before, or names no slot of the period {Period}");
                }

                end = section.End;
            }

            foreach (DataSegment segment in core.Data)
            {
                if (segment.Values.IsDefaultOrEmpty || segment.Addr < 0 || (long)segment.Addr + segment.Values.Length > Arch.LocalWords)
                {
                    int n = segment.Values.IsDefault ? 0 : segment.Values.Length;
                    throw new CimcException("bad-program", location,
                        $"core {core.Core}: data segment [{segment.Addr}, {(long)segment.Addr + n}) is empty or outside local memory of {Arch.LocalWords} words");
                }
            }
        }
    }
}
