using System.Collections.Frozen;
using System.Collections.Immutable;

namespace Cimc.Isa;

/// <summary>
/// One operand of an instruction: its name in assembly, its width in the encoding, its signedness,
/// and what it is (<see cref="Role"/>; for an address also which memory, how it is used and how many
/// words it covers). Everything that needs to know which words an instruction touches reads these.
/// </summary>
public sealed record FieldSpec(string Name, int Bits, bool Signed)
{
    public FieldRole Role { get; init; }

    /// <summary>The memory an <see cref="FieldRole.Address"/> field points into.</summary>
    public MemorySpace Space { get; init; }

    /// <summary>How an address's range or a channel is used: read, written, both, or accumulated into.</summary>
    public AccessKind Access { get; init; }

    /// <summary>Words of an address's range or a channel's message.</summary>
    public Extent Extent { get; init; }

    /// <summary>
    /// Words read past the range at addresses that depend on data (a vlut's table entries): not a
    /// range a dependence analysis can see, but accesses all the same.
    /// </summary>
    public Extent? Gathers { get; init; }

    /// <summary>
    /// A field added after programs without it were written: it may be left out of an assembly line
    /// (it reads 0) and the assembly form leaves it out when it is 0, so old text and old binaries
    /// (whose bits there are zero) keep their meaning.
    /// </summary>
    public bool Optional { get; init; }

    public long Min => Signed ? -(1L << (Bits - 1)) : 0;

    public long Max => Signed ? (1L << (Bits - 1)) - 1 : (1L << Bits) - 1;

    public bool Accepts(long value) => value >= Min && value <= Max;

    /// <summary>How docs and messages spell the field: "imm:i32", "len:u24".</summary>
    public string Describe() => $"{Name}:{(Signed ? "i" : "u")}{Bits}";

    /// <summary>The operand semantics in words for docs/isa.md, or null for an immediate: "writes mem[dst, +len)".</summary>
    public string? Semantics() => Optional ? "optional (0 when left out of assembly; zero bits in older programs)" : Role switch
    {
        FieldRole.Address => $"{Verb(Access)} {(Space == MemorySpace.Local ? "mem" : "buffer")}[{Name}, +{Extent.Describe()})" +
            (Gathers is { } g ? $", then {g.Describe()} data-indexed words after it" : ""),
        FieldRole.Length => "length",
        FieldRole.Crossbar => "reads crossbar < crossbars_per_core",
        FieldRole.CrossbarRows => "<= crossbar rows",
        FieldRole.CrossbarCols => "<= crossbar cols",
        FieldRole.Core => "core id < cores",
        FieldRole.Channel => $"{(Access == AccessKind.Write ? "writes channel (this, core" : "reads channel (core, this")}, {Name}) +{Extent.Describe()}",
        _ => null,
    };

    private static string Verb(AccessKind access) => access switch
    {
        AccessKind.Read => "reads",
        AccessKind.Write => "writes",
        AccessKind.ReadWrite => "updates",
        _ => "accumulates into",
    };
}

/// <summary>
/// Vector-unit work of an instruction per element of its <c>len</c>: adds (a compare counts as an
/// add, as PUMA's "other" ALU op does), multiplies, and table or special-function lookups.
/// </summary>
public readonly record struct AluWork(int Adds, int Muls, int Lookups);

/// <summary>
/// One row of the ISA table. <see cref="LatencyClass"/> names the timing class a timing model
/// attaches costs to ("control", "memory", "mvm", "alu", "network").
/// </summary>
public sealed record OpcodeSpec(
    Opcode Opcode,
    string Mnemonic,
    ImmutableArray<FieldSpec> Fields,
    string LatencyClass,
    string Description)
{
    /// <summary>Vector-unit work per element (zero for instructions that do none).</summary>
    public AluWork Work { get; init; }

    /// <summary>The field that counts elements (<c>len</c>), or -1.</summary>
    public int LengthIndex => MemoryAccesses.LengthIndexOf(Opcode);

    /// <summary>The opcode byte (bits 0-7 of the encoding).</summary>
    public byte Code => (byte)Opcode;

    /// <summary>Bits used by the opcode byte and the fields; the rest of the 128 bits is zero.</summary>
    public int EncodedBits => InstructionSet.OpcodeBits + Fields.Sum(f => f.Bits);

    public int IndexOf(string field)
    {
        for (int i = 0; i < Fields.Length; i++)
        {
            if (Fields[i].Name == field)
            {
                return i;
            }
        }

        return -1;
    }
}

/// <summary>
/// The ISA table: the single source of truth for opcodes, operand fields, encodings and latency
/// classes. The encoder, decoder, assembler, disassembler, simulator and docs/isa.md all read it;
/// tests check that each of them covers every row.
/// </summary>
public static class InstructionSet
{
    public const int InstructionBits = 128;
    public const int InstructionBytes = InstructionBits / 8;
    public const int OpcodeBits = 8;

    public static class LatencyClasses
    {
        public const string Control = "control";
        public const string Memory = "memory";
        public const string Mvm = "mvm";
        public const string Alu = "alu";
        public const string Network = "network";
    }

    private static FieldSpec U(string name, int bits) => new(name, bits, false);

    private static FieldSpec I(string name, int bits) => new(name, bits, true);

    private const MemorySpace Buffer = MemorySpace.TileBuffer;

    private static Extent Words(string field) => Extent.Words(field);

    private static FieldSpec Range(string name, AccessKind access, Extent words, MemorySpace space) =>
        U(name, 24) with { Role = FieldRole.Address, Space = space, Access = access, Extent = words };

    private static FieldSpec Reads(string name, Extent words, MemorySpace space = MemorySpace.Local) => Range(name, AccessKind.Read, words, space);

    private static FieldSpec Writes(string name, Extent words, MemorySpace space = MemorySpace.Local) => Range(name, AccessKind.Write, words, space);

    private static FieldSpec Len => U("len", 24) with { Role = FieldRole.Length };

    private static FieldSpec Core => U("core", 16) with { Role = FieldRole.Core };

    private static FieldSpec Tag(AccessKind access) => U("tag", 16) with { Role = FieldRole.Channel, Access = access, Extent = Words("len") };

    private static OpcodeSpec Op(Opcode op, string mnemonic, string latency, string description, params FieldSpec[] fields) =>
        new(op, mnemonic, [.. fields], latency, description);

    private static OpcodeSpec Vector(Opcode op, string mnemonic, AluWork work, string description, params FieldSpec[] fields) =>
        Op(op, mnemonic, LatencyClasses.Alu, description, fields) with { Work = work };

    /// <summary>Every opcode, in opcode order.</summary>
    public static ImmutableArray<OpcodeSpec> All { get; } =
    [
        Op(Opcode.Nop, "nop", LatencyClasses.Control, "does nothing"),
        Op(Opcode.Halt, "halt", LatencyClasses.Control, "stops the core"),
        Op(Opcode.Load, "load", LatencyClasses.Memory, "mem[dst+i] = tile_buffer[src+i] for i < len",
            Writes("dst", Words("len")), Reads("src", Words("len"), Buffer), Len),
        Op(Opcode.Store, "store", LatencyClasses.Memory, "tile_buffer[dst+i] = mem[src+i] for i < len",
            Writes("dst", Words("len"), Buffer), Reads("src", Words("len")), Len),
        Op(Opcode.Set, "set", LatencyClasses.Alu, "mem[dst] = imm",
            Writes("dst", Extent.Constant(1)), I("imm", 32)),
        Op(Opcode.Mvm, "mvm", LatencyClasses.Mvm,
            "bit-serial product of mem[src..src+rows) with crossbar xb, rows read in groups of group (0 = all); mem[dst+o] += (neg ? -1 : 1) * sum_k sum_g (adc(p_o,k,g) << (ashift + shift + ilo + dac_bits*k)) for o < cols, adc step 2^ashift, slice k < ceil(ibits/dac_bits) of the input bits [ilo, ilo+ibits) (bits from ilo+ibits up ignored when lower = 1)",
            U("xb", 8) with { Role = FieldRole.Crossbar }, Reads("src", Words("rows")), Range("dst", AccessKind.Accumulate, Words("cols"), MemorySpace.Local),
            U("rows", 13) with { Role = FieldRole.CrossbarRows }, U("cols", 13) with { Role = FieldRole.CrossbarCols },
            U("ibits", 5), U("shift", 7), U("neg", 1), U("group", 13), U("ashift", 6),
            U("ilo", 5) with { Optional = true }, U("lower", 1) with { Optional = true }),
        Vector(Opcode.VClear, "vclear", default, "mem[dst+i] = 0 for i < len",
            Writes("dst", Words("len")), Len),
        Vector(Opcode.VCopy, "vcopy", default, "mem[dst+i] = mem[src+i] for i < len, ascending i",
            Writes("dst", Words("len")), Reads("src", Words("len")), Len),
        Vector(Opcode.VAdd, "vadd", new(1, 0, 0), "mem[dst+i] = mem[a+i] + mem[b+i] for i < len",
            Writes("dst", Words("len")), Reads("a", Words("len")), Reads("b", Words("len")), Len),
        Vector(Opcode.VSum, "vsum", new(1, 0, 0), "mem[dst] = sum of mem[src+i] for i < len",
            Writes("dst", Extent.Constant(1)), Reads("src", Words("len")), Len),
        Vector(Opcode.VAxpy, "vaxpy", new(1, 1, 0), "mem[dst+i] += imm * mem[s] for i < len",
            Range("dst", AccessKind.ReadWrite, Words("len"), MemorySpace.Local), Reads("s", Extent.Constant(1)), I("imm", 32), Len),
        Vector(Opcode.VMax, "vmax", new(1, 0, 0), "mem[dst+i] = max(mem[src+i], imm) for i < len (ReLU when imm = 0)",
            Writes("dst", Words("len")), Reads("src", Words("len")), I("imm", 32), Len),
        Vector(Opcode.VRequant, "vrequant", new(2, 1, 0),
            "mem[dst+i] = clamp(((mem[src+i] * m_i + round) >> r_i) + zp, lo, hi) with params [zp, lo, hi, m_0, r_0, ...] at mem[params]",
            Writes("dst", Words("len")), Reads("src", Words("len")), Reads("params", new Extent("len", 2, 3)), Len),
        Vector(Opcode.VLut, "vlut", new(0, 0, 1),
            "mem[dst+i] = t[mem[src+i] - base] with table [base, size, t_0 ..] at mem[table]",
            Writes("dst", Words("len")), Reads("src", Words("len")), Reads("table", Extent.Constant(2)) with { Gathers = Words("len") }, Len),
        Op(Opcode.Send, "send", LatencyClasses.Network, "non-blocking: queues a copy of mem[src..src+len) on channel (this core -> core, tag)",
            Core, Reads("src", Words("len")), Len, Tag(AccessKind.Write)),
        Op(Opcode.Recv, "recv", LatencyClasses.Network, "blocks until channel (core -> this core, tag) has a message of len words; copies it to mem[dst..]",
            Core, Writes("dst", Words("len")), Len, Tag(AccessKind.Read)),
        Vector(Opcode.VAct, "vact", new(0, 0, 1),
            "special-function unit: mem[dst+i] = clamp(round(f(s_t*(mem[src+i] - z_t)) / s_y) + z_y, 0, umax_y) for i < len, f = sigmoid (fn 0), tanh (1), leaky relu (2), with params [z_t, umax_t, s_t, z_y, umax_y, s_y, alpha] at mem[params] (scales and alpha IEEE-754 double bits)",
            Writes("dst", Words("len")), Reads("src", Words("len")), Reads("params", Extent.Constant(ActivationParams.Words)), Len, U("fn", 4)),
        Vector(Opcode.VMaxV, "vmaxv", new(1, 0, 0), "mem[dst+i] = max(mem[a+i], mem[b+i]) for i < len (max pooling)",
            Writes("dst", Words("len")), Reads("a", Words("len")), Reads("b", Words("len")), Len),
    ];

    private static readonly OpcodeSpec?[] ByCode = BuildByCode();

    private static readonly FrozenDictionary<string, OpcodeSpec> ByMnemonic =
        All.ToFrozenDictionary(s => s.Mnemonic, StringComparer.Ordinal);

    public static OpcodeSpec Get(Opcode opcode) =>
        (byte)opcode < ByCode.Length && ByCode[(byte)opcode] is { } spec
            ? spec
            : throw new ArgumentOutOfRangeException(nameof(opcode), opcode, "not in the ISA table");

    public static bool TryGetByCode(byte code, out OpcodeSpec spec)
    {
        spec = ByCode[code]!;
        return spec is not null;
    }

    public static bool TryGetByMnemonic(string mnemonic, out OpcodeSpec spec) =>
        ByMnemonic.TryGetValue(mnemonic, out spec!);

    private static OpcodeSpec?[] BuildByCode()
    {
        var table = new OpcodeSpec?[256];
        foreach (OpcodeSpec spec in All)
        {
            // The table is data: check its own invariants once, where a mistake would show first.
            if (table[spec.Code] is not null || spec.EncodedBits > InstructionBits ||
                spec.Fields.Select(f => f.Name).Distinct().Count() != spec.Fields.Length ||
                spec.Fields.Any(f => f.Bits is < 1 or > 63) || !OperandsAreWellFormed(spec))
            {
                throw new InvalidOperationException($"ISA table: bad row for '{spec.Mnemonic}'");
            }

            table[spec.Code] = spec;
        }

        return table;
    }

    /// <summary>Every extent names a length-like field of the same row; a channel has a core; at most one length.</summary>
    private static bool OperandsAreWellFormed(OpcodeSpec spec)
    {
        bool Names(Extent? e) => e is not { Field: { } f } || spec.IndexOf(f) >= 0;
        bool channel = spec.Fields.Any(f => f.Role == FieldRole.Channel);
        return spec.Fields.All(f => Names(f.Extent) && Names(f.Gathers)) &&
            spec.Fields.Count(f => f.Role == FieldRole.Length) <= 1 &&
            (!channel || spec.Fields.Any(f => f.Role == FieldRole.Core));
    }
}
