using System.Collections.Immutable;
using Cimc.Diagnostics;
using Cimc.Isa;
using Cimc.Simulation;
using CsCheck;

namespace Cimc.Tests.Isa;

public sealed class InstructionSetTests
{
    [Fact]
    public void Every_opcode_has_a_table_row_an_encoding_an_assembly_form_and_a_simulator_case()
    {
        foreach (Opcode opcode in Enum.GetValues<Opcode>())
        {
            OpcodeSpec spec = InstructionSet.Get(opcode);
            Assert.True(InstructionSet.TryGetByMnemonic(spec.Mnemonic, out OpcodeSpec byName) && byName == spec);
            Assert.True(InstructionSet.TryGetByCode(spec.Code, out OpcodeSpec byCode) && byCode == spec);
            Assert.Contains(spec.LatencyClass, new[] { "control", "memory", "mvm", "alu", "network" });
            Assert.True(spec.EncodedBits <= InstructionSet.InstructionBits);

            // Encoder and decoder at the extremes of every field.
            foreach (bool max in new[] { false, true })
            {
                var instruction = new Instruction(opcode, [.. spec.Fields.Select(f => max ? f.Max : f.Min)]);
                Assert.Equal(instruction, InstructionEncoding.Decode(InstructionEncoding.Encode(instruction), "test"));
            }

            // Simulator: a program using the opcode runs to the end.
            Instruction[] example = IsaSamples.Examples[opcode];
            Assert.Contains(example, i => i.Opcode == opcode);
            var program = Assembler.Assemble(IsaSamples.OneCoreHeader);
            program = program with { Cores = [new CoreProgram(0, [.. example, Instruction.Halt()], IsaSamples.ExampleData)] };
            var simulator = new FunctionalSimulator(ProgramImage.FromBytes(program.ToBytes()), IsaSamples.ZeroWeights());
            Assert.Equal(4, simulator.RunCodes([0, 0, 0, 0]).Length);

            // Assembler and disassembler.
            string text = Disassembler.Disassemble(program);
            Assert.Contains(spec.Mnemonic, text);
            Assert.Equal(program, Assembler.Assemble(text));
        }
    }

    [Fact]
    public void Encode_then_decode_is_the_identity_on_random_instructions()
    {
        Gen.Select(Gen.Int[0, InstructionSet.All.Length - 1], Gen.ULong.Array[12])
            .Sample((index, raw) =>
            {
                Instruction instruction = IsaSamples.FromRaw(InstructionSet.All[index], raw);
                UInt128 bits = InstructionEncoding.Encode(instruction);
                Assert.Equal(instruction, InstructionEncoding.Decode(bits, "test"));
                Span<byte> bytes = stackalloc byte[16];
                InstructionEncoding.Encode(instruction, bytes);
                Assert.Equal(instruction, InstructionEncoding.Decode(bytes, "test"));
                Assert.Equal(instruction.Spec.Code, bytes[0]);
            }, iter: 20_000);
    }

    [Fact]
    public void The_encoding_packs_fields_lsb_first_after_the_opcode_byte()
    {
        // set dst=5, imm=-1: opcode 4 in bits 0-7, dst in bits 8-31, imm (32 ones) in bits 32-63.
        UInt128 bits = InstructionEncoding.Encode(Instruction.Set(5, -1));
        Assert.Equal((UInt128)0xFFFF_FFFF_0000_0504UL, bits);
    }

    [Fact]
    public void The_decoder_rejects_unknown_opcodes_and_non_zero_padding()
    {
        var unknown = Assert.Throws<CimcException>(() => InstructionEncoding.Decode((UInt128)200, "here"));
        Assert.Contains("unknown opcode 200", unknown.Message);
        UInt128 halt = InstructionEncoding.Encode(Instruction.Halt()) | ((UInt128)1 << 127);
        var padding = Assert.Throws<CimcException>(() => InstructionEncoding.Decode(halt, "here"));
        Assert.Contains("must be zero", padding.Message);
        UInt128 load = InstructionEncoding.Encode(Instruction.Load(1, 2, 3)) | ((UInt128)1 << 80);
        Assert.Throws<CimcException>(() => InstructionEncoding.Decode(load, "here"));
    }

    [Fact]
    public void An_instruction_refuses_fields_outside_their_width()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Instruction.Load(1 << 24, 0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Instruction.Set(0, (long)int.MaxValue + 1));
        Assert.Throws<ArgumentException>(() => new Instruction(Opcode.Load, ImmutableArray.Create(1L)));
    }

    [Fact]
    public void Field_lookup_by_name_follows_the_table()
    {
        Instruction mvm = Instruction.Mvm(3, 10, 20, 128, 64, 8, 2, true);
        Assert.Equal(3, mvm["xb"]);
        Assert.Equal(64, mvm["cols"]);
        Assert.Equal(1, mvm["neg"]);
        Assert.Equal("mvm xb=3, src=10, dst=20, rows=128, cols=64, ibits=8, shift=2, neg=1, group=0, ashift=0", mvm.ToString());
    }

    [Fact]
    public void Mvm_group_and_ashift_survive_assembly_and_program_bin_and_default_to_zero()
    {
        Instruction old = Instruction.Mvm(3, 10, 20, 128, 64, 8, 2, true);
        Assert.Equal(0, old["group"]);
        Assert.Equal(0, old["ashift"]);
        Instruction grouped = Instruction.Mvm(0, 0, 8, 4, 4, 2, 1, false, group: 3, ashift: 5);
        Assert.Equal("mvm xb=0, src=0, dst=8, rows=4, cols=4, ibits=2, shift=1, neg=0, group=3, ashift=5", grouped.ToString());
        Assert.Throws<ArgumentOutOfRangeException>(() => Instruction.Mvm(0, 0, 0, 1, 1, 1, 0, false, group: 8192, ashift: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Instruction.Mvm(0, 0, 0, 1, 1, 1, 0, false, group: 0, ashift: 64));
        var program = Assembler.Assemble(IsaSamples.OneCoreHeader) with { Cores = [new CoreProgram(0, [grouped, Instruction.Halt()], [])] };
        Assert.Equal(program, Assembler.Assemble(Disassembler.Disassemble(program)));
        Assert.Equal(program, ProgramImage.FromBytes(program.ToBytes()));
    }

    [Fact]
    public void Older_program_bins_are_refused_with_one_line_and_a_hint_to_recompile()
    {
        byte[] bytes = (Assembler.Assemble(IsaSamples.OneCoreHeader) with { Cores = [new CoreProgram(0, [Instruction.Halt()], [])] }).ToBytes();
        foreach (byte old in new byte[] { 1, 2, 8 })
        {
            bytes[8] = old;
            var e = Assert.Throws<CimcException>(() => ProgramImage.FromBytes(bytes));
            Assert.Contains($"unsupported version {old} (expected 3 to 5 or 7; recompile the model", e.Message);
            Assert.DoesNotContain('\n', e.Message);
        }
    }
}
