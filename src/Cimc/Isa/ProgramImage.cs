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

    public bool Equals(CoreProgram? other) =>
        other is not null && Core == other.Core && Code.SequenceEqual(other.Code) && Data.SequenceEqual(other.Data);

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

    public bool Equals(ProgramImage? other) =>
        other is not null && Arch == other.Arch && Input == other.Input &&
        Output.Tile == other.Output.Tile && Output.Addr == other.Output.Addr && Output.Len == other.Output.Len &&
        Output.Scales.SequenceEqual(other.Output.Scales) && Output.ZeroPoints.SequenceEqual(other.Output.ZeroPoints) &&
        Cores.SequenceEqual(other.Cores);

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

            if (core.Code.IsDefault || core.Data.IsDefault)
            {
                throw new CimcException("bad-program", location, $"core {core.Core} has no code or data list");
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
