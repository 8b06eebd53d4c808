using Cimc.Diagnostics;
using Cimc.Isa;

namespace Cimc.Simulation;

/// <summary>An instruction decoded for execution: the opcode and its fields in table order.</summary>
internal readonly struct DecodedOp(Instruction instruction)
{
    public readonly Opcode Op = instruction.Opcode;
    public readonly long F0 = Field(instruction, 0);
    public readonly long F1 = Field(instruction, 1);
    public readonly long F2 = Field(instruction, 2);
    public readonly long F3 = Field(instruction, 3);
    public readonly long F4 = Field(instruction, 4);
    public readonly long F5 = Field(instruction, 5);
    public readonly long F6 = Field(instruction, 6);
    public readonly long F7 = Field(instruction, 7);
    public readonly long F8 = Field(instruction, 8);
    public readonly long F9 = Field(instruction, 9);
    public readonly long F10 = Field(instruction, 10);
    public readonly long F11 = Field(instruction, 11);

    private static long Field(Instruction instruction, int i) => i < instruction.Fields.Length ? instruction.Fields[i] : 0;
}

/// <summary>
/// The read-only part of a simulation, shared by all workers: decoded code per programmed core
/// ("slot"), data segments, and the crossbars' bit-planes.
/// </summary>
internal sealed class CompiledProgram
{
    public CompiledProgram(ProgramImage program, WeightImage weights, long instructionLimit, Devices.DeviceModel? device = null)
    {
        program.Validate();
        ArchHeader arch = program.Arch;
        if (weights.Rows != arch.Rows || weights.Cols != arch.Cols || weights.CellBits != arch.CellBits)
        {
            throw new CimcException("weights-mismatch", "weights",
                $"weights are {weights.Rows}x{weights.Cols} with {weights.CellBits}-bit cells but the program targets {arch.Rows}x{arch.Cols} with {arch.CellBits}-bit cells");
        }

        Program = program;
        Arch = arch;
        InstructionLimit = instructionLimit;
        SlotCount = program.Cores.Length;
        CoreIds = [.. program.Cores.Select(c => c.Core)];
        SlotOfCore = new int[arch.TotalCores];
        Array.Fill(SlotOfCore, -1);
        for (int s = 0; s < SlotCount; s++)
        {
            SlotOfCore[CoreIds[s]] = s;
        }

        Code = [.. program.Cores.Select(c => c.Code.Select(i => new DecodedOp(i)).ToArray())];
        Instructions = [.. program.Cores.Select(c => c.Code.ToArray())];
        Violations = [.. Instructions.Select(code => code.Select(i => OperandChecks.Violation(i, arch)).ToArray())];
        Data = [.. program.Cores.Select(c => c.Data.ToArray())];
        Crossbars = new CrossbarPlanes?[SlotCount][];
        for (int s = 0; s < SlotCount; s++)
        {
            Crossbars[s] = new CrossbarPlanes?[arch.CrossbarsPerCore];
        }

        foreach ((CrossbarId id, var levels) in weights.Crossbars)
        {
            if (id.Core >= arch.TotalCores || id.Crossbar >= arch.CrossbarsPerCore)
            {
                throw new CimcException("weights-mismatch", "weights",
                    $"{id} does not exist on a chip of {arch.TotalCores} cores with {arch.CrossbarsPerCore} crossbars each");
            }

            int slot = SlotOfCore[id.Core];
            if (slot >= 0)
            {
                Crossbars[slot][id.Crossbar] = CrossbarPlanes.Build(levels.AsSpan(), arch.Rows, arch.Cols, arch.CellBits);
            }
        }

        // A non-ideal device realizes every programmed crossbar once, from the seed.
        Device = device is { IsIdeal: false } ? device.Validate() : null;
        if (Device is not null)
        {
            Analog = new Devices.AnalogCrossbar?[SlotCount][];
            for (int s = 0; s < SlotCount; s++)
            {
                Analog[s] = new Devices.AnalogCrossbar?[arch.CrossbarsPerCore];
            }

            foreach ((CrossbarId id, var levels) in weights.Crossbars)
            {
                int slot = SlotOfCore[id.Core];
                if (slot >= 0)
                {
                    Analog[slot][id.Crossbar] = Devices.AnalogCrossbar.Program(levels.AsSpan(), arch.Rows, arch.Cols, arch.CellBits, Device, id.Core, id.Crossbar);
                }
            }
        }
    }

    /// <summary>The non-ideal device the reads go through, or null for ideal (digital) crossbars.</summary>
    public Devices.DeviceModel? Device { get; }

    /// <summary>The device's realization of each crossbar, when <see cref="Device"/> is set.</summary>
    public Devices.AnalogCrossbar?[][]? Analog { get; }

    public ProgramImage Program { get; }

    public ArchHeader Arch { get; }

    public long InstructionLimit { get; }

    public int SlotCount { get; }

    public int[] CoreIds { get; }

    /// <summary>Global core id to slot, -1 for cores without a program.</summary>
    public int[] SlotOfCore { get; }

    public DecodedOp[][] Code { get; }

    /// <summary>The same code as objects, for messages.</summary>
    public Instruction[][] Instructions { get; }

    /// <summary>
    /// Per slot and pc, the operand that lies outside the machine (<see cref="OperandChecks"/>), or
    /// null: addresses are in the instructions, so the table's bounds are checked once here, and an
    /// instruction faults with this message when it is reached.
    /// </summary>
    public string?[][] Violations { get; }

    public DataSegment[][] Data { get; }

    public CrossbarPlanes?[][] Crossbars { get; }
}
