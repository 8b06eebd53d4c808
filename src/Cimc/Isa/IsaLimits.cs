namespace Cimc.Isa;

/// <summary>
/// The largest machine the ISA's fields can address, derived from the operand semantics of the
/// table: the architecture validator and the program header refuse anything larger before any
/// work starts, instead of an encoding error deep in code generation.
/// </summary>
public static class IsaLimits
{
    /// <summary>Words of local memory the local address fields reach.</summary>
    public static long LocalWords { get; } = Addressable(f => f.Role == FieldRole.Address && f.Space == MemorySpace.Local);

    /// <summary>Words of a tile buffer the buffer address fields reach.</summary>
    public static long BufferWords { get; } = Addressable(f => f.Role == FieldRole.Address && f.Space == MemorySpace.TileBuffer);

    /// <summary>Crossbars per core the crossbar index reaches.</summary>
    public static long CrossbarsPerCore { get; } = Addressable(f => f.Role == FieldRole.Crossbar);

    /// <summary>Cores of a chip the core ids reach.</summary>
    public static long Cores { get; } = Addressable(f => f.Role == FieldRole.Core);

    /// <summary>Crossbar rows an mvm can drive.</summary>
    public static long Rows { get; } = Largest(f => f.Role == FieldRole.CrossbarRows);

    /// <summary>Crossbar columns an mvm can convert.</summary>
    public static long Cols { get; } = Largest(f => f.Role == FieldRole.CrossbarCols);

    /// <summary>The field that sets a limit, for messages: "send.core (16 bits)".</summary>
    public static string Field(FieldRole role, MemorySpace space = MemorySpace.Local)
    {
        (OpcodeSpec op, FieldSpec f) = Fields(f => f.Role == role && (role != FieldRole.Address || f.Space == space)).MinBy(p => p.Field.Max);
        return $"{op.Mnemonic}.{f.Name} ({f.Bits} bits)";
    }

    private static IEnumerable<(OpcodeSpec Op, FieldSpec Field)> Fields(Func<FieldSpec, bool> which) =>
        InstructionSet.All.SelectMany(op => op.Fields.Where(which).Select(f => (op, f)));

    /// <summary>An index field of b bits reaches 2^b things (0 .. 2^b - 1).</summary>
    private static long Addressable(Func<FieldSpec, bool> which) => Fields(which).Min(p => p.Field.Max) + 1;

    /// <summary>A count field of b bits counts up to 2^b - 1.</summary>
    private static long Largest(Func<FieldSpec, bool> which) => Fields(which).Min(p => p.Field.Max);
}
