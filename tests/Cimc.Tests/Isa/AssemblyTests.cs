using Cimc.Diagnostics;
using Cimc.Isa;
using Cimc.Tests.Cli;
using CsCheck;

namespace Cimc.Tests.Isa;

public sealed class AssemblyTests
{
    private const string Sample = """
        ; a two-core program
        .arch tiles=2 cores_per_tile=1 crossbars_per_core=1 rows=4 cols=4 cell_bits=2 dac_bits=1 adc_bits=4 local_words=64 buffer_words=64
        .input tile=0 addr=0 len=4 scale=0.1 zero_point=-3 qmin=-128 qmax=127
        .output tile=0 addr=8 len=2
        .output_scale 0.5 1E-300
        .output_zero_point 0 -7

        .core 0
        .data 0 addr=20
        3, -4, 9223372036854775807
        load dst=0, src=0, len=4
        send core=1, src=0, len=4, tag=7   ; to the other tile
        recv core=1, dst=10, len=2, tag=9
        store dst=8, src=10, len=2
        halt

        .core 1
        recv core=0, dst=0, len=4, tag=7
        mvm xb=0, src=0, dst=8, rows=4, cols=4, ibits=8, shift=0, neg=1, group=0, ashift=0
        send core=0, src=8, len=2, tag=9
        halt
        """;

    [Fact]
    public void Assembly_to_binary_to_assembly_round_trips_exactly()
    {
        ProgramImage program = Assembler.Assemble(Sample);
        string text = Disassembler.Disassemble(program);
        ProgramImage fromBinary = ProgramImage.FromBytes(program.ToBytes());
        Assert.Equal(program, fromBinary);
        Assert.Equal(text, Disassembler.Disassemble(fromBinary));
        Assert.Equal(program.ToBytes(), Assembler.Assemble(text).ToBytes());
        Assert.Equal(0.1, program.Input.Scale);
        Assert.Equal(long.MaxValue, program.Cores[0].Data[0].Values[2]);
    }

    [Fact]
    public void The_assembler_accepts_fields_in_any_order_and_the_disassembler_prints_table_order()
    {
        ProgramImage program = Assembler.Assemble(IsaSamples.OneCoreHeader + "\n.core 0\nload len=3, src=2, dst=1\nhalt\n");
        Assert.Equal(Instruction.Load(1, 2, 3), program.Cores[0].Code[0]);
        Assert.Contains("load dst=1, src=2, len=3\n", Disassembler.Disassemble(program));
    }

    [Fact]
    public void Random_programs_round_trip_through_text_and_binary()
    {
        Gen.Int.Sample(seed =>
        {
            ProgramImage program = IsaSamples.RandomProgram(new Random(seed));
            string text = Disassembler.Disassemble(program);
            Assert.Equal(program, Assembler.Assemble(text));
            byte[] bytes = program.ToBytes();
            Assert.Equal(program, ProgramImage.FromBytes(bytes));
            Assert.Equal(text, Disassembler.Disassemble(ProgramImage.FromBytes(bytes)));
        }, iter: 300);
    }

    [Theory]
    [InlineData("frob x=1", 7, "unknown instruction 'frob'")]
    [InlineData("load dst=1, src=2", 7, "missing field 'len'")]
    [InlineData("load dst=1, src=2, len=3, len=4", 7, "given twice")]
    [InlineData("load dst=16777216, src=2, len=3", 7, "outside [0, 16777215]")]
    [InlineData("set dst=0, imm=x", 7, "not an integer")]
    [InlineData("set dst=0, value=1", 7, "has no field 'value'")]
    [InlineData(".core 5", 7, "outside [0, 1)")]
    [InlineData(".data 0 addr=62\n1, 2, 3", 8, "outside local memory")]
    [InlineData(".bogus", 7, "unknown directive")]
    public void Assembly_errors_name_the_file_and_line(string body, int line, string message)
    {
        string text = IsaSamples.OneCoreHeader + "\n.core 0\n" + body + "\nhalt\n";
        var e = Assert.Throws<CimcException>(() => Assembler.Assemble(text, "prog.asm"));
        Assert.StartsWith($"prog.asm:{line}: ", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void A_program_without_arch_input_or_output_is_refused()
    {
        Assert.Throws<CimcException>(() => Assembler.Assemble(".core 0\nhalt\n"));
        string noOutput = string.Join('\n', IsaSamples.OneCoreHeader.Split('\n').Take(2));
        Assert.Contains("needs .arch, .input and .output", Assert.Throws<CimcException>(() => Assembler.Assemble(noOutput)).Message);
    }

    [Fact]
    public void The_asm_and_disasm_commands_round_trip_through_files()
    {
        string dir = Directory.CreateTempSubdirectory("cimc-asm").FullName;
        try
        {
            string asm = Path.Combine(dir, "p.asm"), bin = Path.Combine(dir, "p.bin"), back = Path.Combine(dir, "back.asm");
            File.WriteAllText(asm, Sample);
            Assert.Equal(0, CliRunner.Run("asm", asm, "-o", bin).Exit);
            (int exit, string stdout, _) = CliRunner.Run("disasm", bin);
            Assert.Equal(0, exit);
            Assert.Equal(Disassembler.Disassemble(Assembler.Assemble(Sample)), stdout);
            Assert.Equal(0, CliRunner.Run("disasm", bin, "-o", back).Exit);
            Assert.Equal(stdout, File.ReadAllText(back));

            File.WriteAllText(asm, "garbage here");
            (int bad, _, string err) = CliRunner.Run("asm", asm, "-o", bin);
            Assert.Equal(1, bad);
            Assert.StartsWith($"cimc: error: {asm}:1:", err);
            File.WriteAllBytes(bin, [1, 2, 3]);
            Assert.Equal(1, CliRunner.Run("disasm", bin).Exit);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
