using System.Buffers.Binary;
using System.Collections.Immutable;
using Cimc.Diagnostics;

namespace Cimc.Isa;

/// <summary>
/// The 128-bit binary form: bits 0-7 hold the opcode, then the fields are packed LSB-first in table
/// order (signed fields in two's complement); all higher bits are zero. Stored little-endian.
/// </summary>
public static class InstructionEncoding
{
    public static UInt128 Encode(Instruction instruction)
    {
        OpcodeSpec spec = instruction.Spec;
        UInt128 bits = spec.Code;
        int pos = InstructionSet.OpcodeBits;
        for (int i = 0; i < spec.Fields.Length; i++)
        {
            int width = spec.Fields[i].Bits;
            ulong mask = (1UL << width) - 1;
            bits |= (UInt128)((ulong)instruction.Fields[i] & mask) << pos;
            pos += width;
        }

        return bits;
    }

    public static void Encode(Instruction instruction, Span<byte> destination) =>
        BinaryPrimitives.WriteUInt128LittleEndian(destination, Encode(instruction));

    /// <summary>Decodes one instruction; an unknown opcode or non-zero padding is a CimcException at <paramref name="location"/>.</summary>
    public static Instruction Decode(UInt128 bits, string location)
    {
        byte code = (byte)(bits & 0xFF);
        if (!InstructionSet.TryGetByCode(code, out OpcodeSpec spec))
        {
            throw new CimcException("bad-instruction", location, $"unknown opcode {code}");
        }

        var fields = ImmutableArray.CreateBuilder<long>(spec.Fields.Length);
        int pos = InstructionSet.OpcodeBits;
        foreach (FieldSpec f in spec.Fields)
        {
            ulong raw = (ulong)(bits >> pos) & ((1UL << f.Bits) - 1);
            long value = f.Signed && (raw >> (f.Bits - 1)) != 0 ? (long)raw - (1L << f.Bits) : (long)raw;
            fields.Add(value);
            pos += f.Bits;
        }

        if (pos < InstructionSet.InstructionBits && (bits >> pos) != UInt128.Zero)
        {
            throw new CimcException("bad-instruction", location, $"{spec.Mnemonic}: bits {pos}-127 must be zero");
        }

        return new Instruction(spec.Opcode, fields.MoveToImmutable());
    }

    public static Instruction Decode(ReadOnlySpan<byte> source, string location) =>
        Decode(BinaryPrimitives.ReadUInt128LittleEndian(source), location);
}
