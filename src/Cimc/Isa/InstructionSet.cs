using System.Collections.Frozen;
using System.Collections.Immutable;

namespace Cimc.Isa;

/// <summary>One operand of an instruction: its name in assembly, its width in the encoding, its signedness.</summary>
public sealed record FieldSpec(string Name, int Bits, bool Signed)
{
    public long Min => Signed ? -(1L << (Bits - 1)) : 0;

    public long Max => Signed ? (1L << (Bits - 1)) - 1 : (1L << Bits) - 1;

    public bool Accepts(long value) => value >= Min && value <= Max;

    /// <summary>How docs and messages spell the field: "imm:i32", "len:u24".</summary>
    public string Describe() => $"{Name}:{(Signed ? "i" : "u")}{Bits}";
}

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

    private static FieldSpec Addr(string name) => U(name, 24);

    private static FieldSpec Len => U("len", 24);

    private static OpcodeSpec Op(Opcode op, string mnemonic, string latency, string description, params FieldSpec[] fields) =>
        new(op, mnemonic, [.. fields], latency, description);

    /// <summary>Every opcode, in opcode order.</summary>
    public static ImmutableArray<OpcodeSpec> All { get; } =
    [
        Op(Opcode.Nop, "nop", LatencyClasses.Control, "does nothing"),
        Op(Opcode.Halt, "halt", LatencyClasses.Control, "stops the core"),
        Op(Opcode.Load, "load", LatencyClasses.Memory, "mem[dst+i] = tile_buffer[src+i] for i < len",
            Addr("dst"), Addr("src"), Len),
        Op(Opcode.Store, "store", LatencyClasses.Memory, "tile_buffer[dst+i] = mem[src+i] for i < len",
            Addr("dst"), Addr("src"), Len),
        Op(Opcode.Set, "set", LatencyClasses.Alu, "mem[dst] = imm",
            Addr("dst"), I("imm", 32)),
        Op(Opcode.Mvm, "mvm", LatencyClasses.Mvm,
            "bit-serial product of mem[src..src+rows) with crossbar xb, rows read in groups of group (0 = all); mem[dst+o] += (neg ? -1 : 1) * sum_k sum_g (adc(p_o,k,g) << (ashift + shift + dac_bits*k)) for o < cols, adc step 2^ashift",
            U("xb", 8), Addr("src"), Addr("dst"), U("rows", 13), U("cols", 13), U("ibits", 5), U("shift", 7), U("neg", 1),
            U("group", 13), U("ashift", 6)),
        Op(Opcode.VClear, "vclear", LatencyClasses.Alu, "mem[dst+i] = 0 for i < len",
            Addr("dst"), Len),
        Op(Opcode.VCopy, "vcopy", LatencyClasses.Alu, "mem[dst+i] = mem[src+i] for i < len, ascending i",
            Addr("dst"), Addr("src"), Len),
        Op(Opcode.VAdd, "vadd", LatencyClasses.Alu, "mem[dst+i] = mem[a+i] + mem[b+i] for i < len",
            Addr("dst"), Addr("a"), Addr("b"), Len),
        Op(Opcode.VSum, "vsum", LatencyClasses.Alu, "mem[dst] = sum of mem[src+i] for i < len",
            Addr("dst"), Addr("src"), Len),
        Op(Opcode.VAxpy, "vaxpy", LatencyClasses.Alu, "mem[dst+i] += imm * mem[s] for i < len",
            Addr("dst"), Addr("s"), I("imm", 32), Len),
        Op(Opcode.VMax, "vmax", LatencyClasses.Alu, "mem[dst+i] = max(mem[src+i], imm) for i < len (ReLU when imm = 0)",
            Addr("dst"), Addr("src"), I("imm", 32), Len),
        Op(Opcode.VRequant, "vrequant", LatencyClasses.Alu,
            "mem[dst+i] = clamp(((mem[src+i] * m_i + round) >> r_i) + zp, lo, hi) with params [zp, lo, hi, m_0, r_0, ...] at mem[params]",
            Addr("dst"), Addr("src"), Addr("params"), Len),
        Op(Opcode.VLut, "vlut", LatencyClasses.Alu,
            "mem[dst+i] = t[mem[src+i] - base] with table [base, size, t_0 ..] at mem[table]",
            Addr("dst"), Addr("src"), Addr("table"), Len),
        Op(Opcode.Send, "send", LatencyClasses.Network, "non-blocking: queues a copy of mem[src..src+len) on channel (this core -> core, tag)",
            U("core", 16), Addr("src"), Len, U("tag", 16)),
        Op(Opcode.Recv, "recv", LatencyClasses.Network, "blocks until channel (core -> this core, tag) has a message of len words; copies it to mem[dst..]",
            U("core", 16), Addr("dst"), Len, U("tag", 16)),
        Op(Opcode.VAct, "vact", LatencyClasses.Alu,
            "special-function unit: mem[dst+i] = clamp(round(f(s_t*(mem[src+i] - z_t)) / s_y) + z_y, 0, umax_y) for i < len, f = sigmoid (fn 0), tanh (1), leaky relu (2), with params [z_t, umax_t, s_t, z_y, umax_y, s_y, alpha] at mem[params] (scales and alpha IEEE-754 double bits)",
            Addr("dst"), Addr("src"), Addr("params"), Len, U("fn", 4)),
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
                spec.Fields.Any(f => f.Bits is < 1 or > 63))
            {
                throw new InvalidOperationException($"ISA table: bad row for '{spec.Mnemonic}'");
            }

            table[spec.Code] = spec;
        }

        return table;
    }
}
