using System.Collections.Immutable;

namespace Cimc.Isa;

/// <summary>
/// One 128-bit instruction: an opcode and its field values in <see cref="InstructionSet"/> table
/// order. Construction checks the field count and each field's range, so every Instruction can be
/// encoded. Equality is by value. <see cref="ToString"/> is the assembly form.
/// </summary>
public sealed record Instruction
{
    public Instruction(Opcode opcode, ImmutableArray<long> fields)
    {
        OpcodeSpec spec = InstructionSet.Get(opcode);
        if (fields.IsDefault || fields.Length != spec.Fields.Length)
        {
            throw new ArgumentException($"{spec.Mnemonic} takes {spec.Fields.Length} fields, got {(fields.IsDefault ? 0 : fields.Length)}", nameof(fields));
        }

        for (int i = 0; i < fields.Length; i++)
        {
            FieldSpec f = spec.Fields[i];
            if (!f.Accepts(fields[i]))
            {
                throw new ArgumentOutOfRangeException(nameof(fields), fields[i], $"{spec.Mnemonic}: field {f.Name} must be in [{f.Min}, {f.Max}]");
            }
        }

        Opcode = opcode;
        Fields = fields;
    }

    public Opcode Opcode { get; }

    public ImmutableArray<long> Fields { get; }

    public OpcodeSpec Spec => InstructionSet.Get(Opcode);

    public string Mnemonic => Spec.Mnemonic;

    /// <summary>The value of the field named <paramref name="name"/>.</summary>
    public long this[string name] =>
        Spec.IndexOf(name) is int i and >= 0 ? Fields[i] : throw new KeyNotFoundException($"{Mnemonic} has no field '{name}'");

    public static Instruction Create(Opcode opcode, params long[] fields) => new(opcode, [.. fields]);

    public static Instruction Nop() => Create(Opcode.Nop);

    public static Instruction Halt() => Create(Opcode.Halt);

    public static Instruction Load(long dst, long src, long len) => Create(Opcode.Load, dst, src, len);

    public static Instruction Store(long dst, long src, long len) => Create(Opcode.Store, dst, src, len);

    public static Instruction Set(long dst, long imm) => Create(Opcode.Set, dst, imm);

    /// <summary>An mvm reading all rows at once with a unit ADC step (group 0, ashift 0).</summary>
    public static Instruction Mvm(long xb, long src, long dst, long rows, long cols, long ibits, long shift, bool neg) =>
        Mvm(xb, src, dst, rows, cols, ibits, shift, neg, group: 0, ashift: 0);

    public static Instruction Mvm(long xb, long src, long dst, long rows, long cols, long ibits, long shift, bool neg, long group, long ashift) =>
        Mvm(xb, src, dst, rows, cols, ibits, shift, neg, group, ashift, InputWindow.Whole);

    /// <summary>An mvm converting only the input bits of <paramref name="window"/> (a copy of a block with a split input, docs/isa.md).</summary>
    public static Instruction Mvm(long xb, long src, long dst, long rows, long cols, long ibits, long shift, bool neg, long group, long ashift, InputWindow window) =>
        Create(Opcode.Mvm, xb, src, dst, rows, cols, window.IsWhole ? ibits : window.Bits, shift, neg ? 1 : 0, group, ashift, window.Low, window.Lower ? 1 : 0);

    public static Instruction VClear(long dst, long len) => Create(Opcode.VClear, dst, len);

    public static Instruction VCopy(long dst, long src, long len) => Create(Opcode.VCopy, dst, src, len);

    public static Instruction VAdd(long dst, long a, long b, long len) => Create(Opcode.VAdd, dst, a, b, len);

    public static Instruction VSum(long dst, long src, long len) => Create(Opcode.VSum, dst, src, len);

    public static Instruction VAxpy(long dst, long s, long imm, long len) => Create(Opcode.VAxpy, dst, s, imm, len);

    public static Instruction VMax(long dst, long src, long imm, long len) => Create(Opcode.VMax, dst, src, imm, len);

    public static Instruction VMaxV(long dst, long a, long b, long len) => Create(Opcode.VMaxV, dst, a, b, len);

    public static Instruction VRequant(long dst, long src, long parameters, long len) => Create(Opcode.VRequant, dst, src, parameters, len);

    public static Instruction VLut(long dst, long src, long table, long len) => Create(Opcode.VLut, dst, src, table, len);

    public static Instruction VAct(long dst, long src, long parameters, long len, long fn) => Create(Opcode.VAct, dst, src, parameters, len, fn);

    public static Instruction Send(long core, long src, long len, long tag) => Create(Opcode.Send, core, src, len, tag);

    public static Instruction Recv(long core, long dst, long len, long tag) => Create(Opcode.Recv, core, dst, len, tag);

    public bool Equals(Instruction? other) =>
        other is not null && Opcode == other.Opcode && Fields.AsSpan().SequenceEqual(other.Fields.AsSpan());

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Opcode);
        foreach (long f in Fields)
        {
            hash.Add(f);
        }

        return hash.ToHashCode();
    }

    /// <summary>Assembly form, fields in table order: "load dst=0, src=16, len=4".</summary>
    public override string ToString()
    {
        OpcodeSpec spec = Spec;
        if (Fields.Length == 0)
        {
            return spec.Mnemonic;
        }

        // An optional field at 0 is left out, so programs that do not use it print as before.
        return spec.Mnemonic + " " + string.Join(", ", spec.Fields.Select((f, i) => (f, i)).Where(x => !x.f.Optional || Fields[x.i] != 0).Select(x => $"{x.f.Name}={Fields[x.i]}"));
    }
}
