namespace Cimc.Isa;

/// <summary>
/// The bounds an instruction's operands must keep on a machine, from the operand semantics of the
/// ISA table: every range inside its memory, the crossbar and core indices existing, rows and
/// columns within the crossbar. Both simulators check these (data-dependent checks, such as a
/// vlut's index, stay with the instruction's semantics).
/// </summary>
public static class OperandChecks
{
    /// <summary>The first operand of <paramref name="i"/> out of bounds on <paramref name="arch"/>, as a message, or null.</summary>
    public static string? Violation(Instruction i, ArchHeader arch)
    {
        OpcodeSpec spec = i.Spec;
        for (int k = 0; k < spec.Fields.Length; k++)
        {
            FieldSpec f = spec.Fields[k];
            long v = i.Fields[k];
            string? problem = f.Role switch
            {
                FieldRole.Address => RangeProblem(f, v, v + f.Extent.Fixed + (f.Extent.Field is { } n ? f.Extent.Scale * i[n] : 0), arch),
                FieldRole.Crossbar when v >= arch.CrossbarsPerCore => $"crossbar {v} does not exist (a core has {arch.CrossbarsPerCore})",
                FieldRole.Core when v >= arch.TotalCores => $"core {v} does not exist (the chip has {arch.TotalCores})",
                FieldRole.CrossbarRows when v > arch.Rows => $"{f.Name} = {v} exceeds the {arch.Rows}x{arch.Cols} crossbar",
                FieldRole.CrossbarCols when v > arch.Cols => $"{f.Name} = {v} exceeds the {arch.Rows}x{arch.Cols} crossbar",
                _ => null,
            };
            if (problem is not null)
            {
                return problem;
            }
        }

        return null;
    }

    private static string? RangeProblem(FieldSpec f, long addr, long end, ArchHeader arch) =>
        f.Space == MemorySpace.Local
            ? end > arch.LocalWords ? $"{f.Name} range [{addr}, {end}) is outside local memory of {arch.LocalWords} words" : null
            : end > arch.BufferWords ? $"{f.Name} range [{addr}, {end}) is outside the tile buffer of {arch.BufferWords} words" : null;
}
