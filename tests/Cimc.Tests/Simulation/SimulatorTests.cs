using System.Collections.Immutable;
using Cimc.Data;
using Cimc.Diagnostics;
using Cimc.Isa;
using Cimc.Simulation;
using Cimc.Tests.Isa;

namespace Cimc.Tests.Simulation;

public sealed class SimulatorTests
{
    /// <summary>Assembles, goes through program.bin and weights.bin, and builds the simulator: what the tests run is the binary.</summary>
    private static FunctionalSimulator Load(string asm, WeightImage? weights = null, long limit = FunctionalSimulator.DefaultInstructionLimit)
    {
        ProgramImage program = ProgramImage.FromBytes(Assembler.Assemble(asm, "test.asm").ToBytes());
        weights ??= IsaSamples.ZeroWeights(program.Arch.CrossbarsPerCore == 0 ? 0 : program.Arch.TotalCores, program.Arch.Rows, program.Arch.Cols, program.Arch.CellBits);
        return new FunctionalSimulator(program, WeightImage.FromBytes(weights.ToBytes()), limit);
    }

    private const string TwoTiles = """
        .arch tiles=2 cores_per_tile=1 crossbars_per_core=1 rows=4 cols=4 cell_bits=2 dac_bits=1 adc_bits=4 local_words=64 buffer_words=64
        .input tile=0 addr=0 len=4 scale=1 zero_point=0 qmin=-100 qmax=100
        .output tile=0 addr=8 len=3
        .output_scale 1 1 1
        .output_zero_point 0 0 0
        """;

    [Fact]
    public void Two_cores_exchange_messages_and_compute_a_hand_checked_result()
    {
        FunctionalSimulator sim = Load(TwoTiles + """

            .core 0
            .data 0 addr=20
            3
            load dst=0, src=0, len=4          ; x
            vaxpy dst=0, s=20, imm=-2, len=4  ; x - 6
            send core=1, src=0, len=4, tag=7
            recv core=1, dst=10, len=2, tag=9
            store dst=8, src=10, len=2
            set dst=12, imm=-42
            store dst=10, src=12, len=1
            halt

            .core 1
            recv core=0, dst=0, len=4, tag=7
            vmax dst=4, src=0, imm=0, len=4   ; relu
            vsum dst=8, src=4, len=4
            vadd dst=9, a=0, b=4, len=1
            send core=0, src=8, len=2, tag=9
            halt
            """);
        // x = [1, 10, -5, 7] -> [-5, 4, -11, 1]; relu [0, 4, 0, 1]; sum 5; -5 + 0.
        Assert.Equal([5, -5, -42], sim.RunCodes([1, 10, -5, 7], out long executed));
        Assert.Equal(14, executed);
        // Fresh state per sample: the same input gives the same output again.
        Assert.Equal([5, -5, -42], sim.RunCodes([1, 10, -5, 7]));
        Assert.Equal([0, -6, -42], sim.RunCodes([0, 0, 0, 3])); // [-6,-6,-6,-3]: relu sums to 0
    }

    [Fact]
    public void Messages_on_one_channel_arrive_in_order_and_tags_keep_channels_apart()
    {
        FunctionalSimulator sim = Load(TwoTiles + """

            .core 0
            .data 0 addr=0
            1, 2, 3
            send core=1, src=0, len=1, tag=1
            send core=1, src=1, len=1, tag=1
            send core=1, src=2, len=1, tag=2
            recv core=1, dst=10, len=3, tag=0
            store dst=8, src=10, len=3
            halt

            .core 1
            recv core=0, dst=0, len=1, tag=2
            recv core=0, dst=1, len=1, tag=1
            recv core=0, dst=2, len=1, tag=1
            send core=0, src=0, len=3, tag=0
            halt
            """);
        Assert.Equal([3, 1, 2], sim.RunCodes([0, 0, 0, 0]));
    }

    [Fact]
    public void Vrequant_rounds_half_up_with_a_floor_shift_in_128_bits_then_adds_the_zero_point_and_clamps()
    {
        const string header = """
            .arch tiles=1 cores_per_tile=1 crossbars_per_core=0 rows=4 cols=4 cell_bits=2 dac_bits=1 adc_bits=8 local_words=64 buffer_words=64
            .input tile=0 addr=0 len=1 scale=1 zero_point=0 qmin=0 qmax=0
            .output tile=0 addr=8 len=10
            .output_scale 1 1 1 1 1 1 1 1 1 1
            .output_zero_point 0 0 0 0 0 0 0 0 0 0
            """;
        FunctionalSimulator sim = Load(header + """

            .core 0
            .data 0 addr=0
            -7, -5, -7, 9223372036854775807, -9223372036854775808, -4611686018427387904, -3, 3
            .data 0 addr=20
            3, -1000000000000, 1000000000000, 1, 0, 3, 1, 5, 2, 4611686018427387904, 100, 7, 126, 1099511627776, 100, 1, 1, 1, 1
            .data 0 addr=50
            0, -5, 5, 1, 0, 1, 0
            .data 0 addr=60
            -100, 100
            vrequant dst=40, src=0, params=20, len=8
            vrequant dst=48, src=60, params=50, len=2
            store dst=8, src=40, len=10
            halt
            """);
        // -7 -> -7+3; (-15+1)>>1 = -7 -> -4; (-35+2)>>2 = -9 -> -6; ((2^63-1)*2^62 + 2^99) >> 100 = 2^25 -> +3;
        // (-7*2^63 + 2^125) >> 126 = 0 -> 3; (-2^102 + 2^99) >> 100 = -4 -> -1; (-3+1)>>1 = -1 -> 2; (3+1)>>1 = 2 -> 5;
        // then clamping to [-5, 5]: -100 -> -5, 100 -> 5.
        Assert.Equal([-4, -4, -6, 33554435, 3, -1, 2, 5, -5, 5], sim.RunCodes([0]));
    }

    [Fact]
    public void Vlut_looks_up_a_table_with_a_base_offset()
    {
        FunctionalSimulator sim = Load(IsaSamples.OneCoreHeader + """

            .core 0
            .data 0 addr=40
            -2, 5, 10, 20, 30, 40, 50
            load dst=0, src=0, len=4
            vlut dst=10, src=0, table=40, len=4
            store dst=8, src=10, len=4
            halt
            """);
        Assert.Equal([10, 30, 50, 40], sim.RunCodes([-2, 0, 2, 1]));
        var e = Assert.Throws<CimcException>(() => sim.RunCodes([-2, 0, 3, 1]));
        Assert.Equal("simulation-fault", e.Diagnostic.Code);
        Assert.Equal("core 0 pc 1 (vlut)", e.Diagnostic.Location);
        Assert.Throws<CimcException>(() => sim.RunCodes([-3, 0, 0, 0]));
    }

    [Fact]
    public void Mvm_accumulates_adc_codes_of_each_input_slice_and_subtracts_when_neg_is_set()
    {
        string header = IsaSamples.OneCoreHeader.Replace("adc_bits=8", "adc_bits=3").Replace("cols=4", "cols=3");
        byte[] g = [1, 2, 3, 0, 1, 2, 3, 3, 0, 2, 0, 1];
        var weights = new WeightImage(4, 3, 2, [KeyValuePair.Create(new CrossbarId(0, 0), g)]);
        FunctionalSimulator sim = Load(header + """

            .core 0
            load dst=0, src=0, len=4
            mvm xb=0, src=0, dst=10, rows=4, cols=3, ibits=2, shift=1, neg=0, group=0, ashift=0
            mvm xb=0, src=0, dst=20, rows=4, cols=3, ibits=2, shift=1, neg=0, group=0, ashift=0
            mvm xb=0, src=0, dst=20, rows=4, cols=3, ibits=2, shift=0, neg=1, group=0, ashift=0
            store dst=8, src=10, len=3
            store dst=11, src=20, len=1
            halt
            """, weights);
        // x = [1,2,3,0]; slice 0 s = [1,0,1,0]: p = [4,5,3] << 1; slice 1 s = [0,1,1,0]: p = [3,4,2] << 2.
        // Sums [20, 26, 14]; then minus the shift-0 product [10, 13, 7] gives [10, 13, 7].
        Assert.Equal([20, 26, 14, 10], sim.RunCodes([1, 2, 3, 0]));
        // All 3s: slice p = [7, 6, 6] ... saturates at 7 with the 3-bit ADC: col0 p = 1+0+3+2 = 6 per slice.
        Assert.Equal(MvmExpected(g, [3, 3, 3, 3], 3, 1), sim.RunCodes([3, 3, 3, 3]).AsSpan(0, 3).ToArray());
        var e = Assert.Throws<CimcException>(() => sim.RunCodes([4, 0, 0, 0]));
        Assert.Contains("outside [0, 2^2)", e.Message);
        Assert.Equal("core 0 pc 1 (mvm)", e.Diagnostic.Location);
    }

    private static long[] MvmExpected(byte[] g, long[] x, int adcBits, int shift) =>
        MvmKernelTests.NaiveMvm(g, 3, x, 3, 2, 1, adcBits, shift);

    [Fact]
    public void Two_cores_waiting_for_each_other_are_a_deadlock_naming_both()
    {
        FunctionalSimulator sim = Load(TwoTiles + """

            .core 0
            recv core=1, dst=0, len=1, tag=0
            halt
            .core 1
            recv core=0, dst=0, len=1, tag=3
            halt
            """);
        var e = Assert.Throws<CimcException>(() => sim.RunCodes([0, 0, 0, 0]));
        Assert.Equal("simulation-deadlock", e.Diagnostic.Code);
        Assert.Contains("core 0 pc 0 waits in recv for 1 words from core 1 tag 0", e.Message);
        Assert.Contains("core 1 pc 0 waits in recv for 1 words from core 0 tag 3", e.Message);
    }

    [Theory]
    [InlineData("load dst=62, src=0, len=4", "outside local memory")]
    [InlineData("load dst=0, src=62, len=4", "outside the tile buffer")]
    [InlineData("store dst=62, src=0, len=4", "outside the tile buffer")]
    [InlineData("vcopy dst=0, src=61, len=4", "outside local memory")]
    [InlineData("vrequant dst=0, src=0, params=60, len=4", "params range")]
    [InlineData("mvm xb=1, src=0, dst=0, rows=4, cols=4, ibits=8, shift=0, neg=0, group=0, ashift=0", "not programmed")]
    [InlineData("mvm xb=2, src=0, dst=0, rows=4, cols=4, ibits=8, shift=0, neg=0, group=0, ashift=0", "does not exist")]
    [InlineData("mvm xb=0, src=0, dst=0, rows=5, cols=4, ibits=8, shift=0, neg=0, group=0, ashift=0", "exceeds the 4x4 crossbar")]
    [InlineData("send core=1, src=0, len=1, tag=0", "core 1 does not exist")]
    [InlineData("send core=0, src=0, len=2, tag=0\nrecv core=0, dst=0, len=1, tag=0", "has 2 words, recv expects 1")]
    [InlineData("nop", "without halt")]
    public void Out_of_range_operands_are_simulation_faults(string code, string message)
    {
        string program = IsaSamples.OneCoreHeader + "\n.core 0\n" + code + (message == "without halt" ? "" : "\nhalt") + "\n";
        FunctionalSimulator sim = Load(program);
        var e = Assert.Throws<CimcException>(() => sim.RunCodes([0, 0, 0, 0]));
        Assert.Equal("simulation-fault", e.Diagnostic.Code);
        Assert.Contains(message, e.Message);
        Assert.StartsWith("core 0 pc ", e.Diagnostic.Location);
    }

    [Fact]
    public void The_instruction_budget_stops_a_sample()
    {
        FunctionalSimulator sim = Load(IsaSamples.OneCoreHeader + "\n.core 0\nnop\nnop\nnop\nhalt\n", limit: 3);
        Assert.Equal("simulation-limit", Assert.Throws<CimcException>(() => sim.RunCodes([0, 0, 0, 0])).Diagnostic.Code);
    }

    [Fact]
    public void Run_quantizes_inputs_runs_every_sample_and_dequantizes_outputs()
    {
        FunctionalSimulator sim = Load("""
            .arch tiles=1 cores_per_tile=1 crossbars_per_core=0 rows=4 cols=4 cell_bits=2 dac_bits=1 adc_bits=8 local_words=64 buffer_words=64
            .input tile=0 addr=0 len=4 scale=0.5 zero_point=1 qmin=0 qmax=10
            .output tile=0 addr=4 len=4
            .output_scale 2 1 0.5 1
            .output_zero_point 1 0 0 3
            .core 0
            load dst=0, src=0, len=4
            store dst=4, src=0, len=4
            halt
            """);
        // q = clamp(round_away(x / 0.5) + 1, 0, 10): 1.25 -> 4, -0.25 -> 0, 100 -> 10, 0.75 -> 3.
        Assert.Equal([4, 0, 10, 3], sim.Quantize([1.25f, -0.25f, 100f, 0.75f]));
        var inputs = new NdArray([3, 2, 2], [1.25f, -0.25f, 100f, 0.75f, 0, 0, 0, 0, -1, 1, 2, 3]);
        NdArray y = sim.Run(inputs);
        Assert.Equal([3, 4], y.Shape.ToArray());
        Assert.Equal([6f, 0f, 5f, 0f], y.Row(0).ToArray());
        Assert.Equal([0f, 1f, 0.5f, -2f], y.Row(1).ToArray());
        Assert.Throws<CimcException>(() => sim.Run(new NdArray([2, 3], new float[6])));
    }

    [Fact]
    public void Run_reports_which_sample_failed()
    {
        FunctionalSimulator sim = Load(IsaSamples.OneCoreHeader + """

            .core 0
            .data 0 addr=40
            0, 1, 5
            load dst=0, src=0, len=4
            vlut dst=10, src=0, table=40, len=4
            halt
            """);
        var inputs = new NdArray([3, 4], [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
        var e = Assert.Throws<CimcException>(() => sim.Run(inputs));
        Assert.StartsWith("sample 2: core 0 pc 1 (vlut)", e.Diagnostic.Location);
    }

    [Fact]
    public void Weights_that_do_not_match_the_program_are_refused()
    {
        ProgramImage program = Assembler.Assemble(IsaSamples.OneCoreHeader + "\n.core 0\nhalt\n");
        Assert.Throws<CimcException>(() => new FunctionalSimulator(program, IsaSamples.ZeroWeights(1, 8, 4)));
        Assert.Throws<CimcException>(() => new FunctionalSimulator(program, IsaSamples.ZeroWeights(2)));
    }

    [Fact]
    public void Many_samples_through_a_chip_sized_program_run_in_parallel()
    {
        // 16 cores x 8 crossbars of 128x128: each core runs 8 MVMs over the 128 input codes.
        var arch = new ArchHeader(4, 4, 8, 128, 128, 2, 1, 8, 4096, 4096);
        var random = new Random(3);
        var weights = new WeightImage(128, 128, 2, Enumerable.Range(0, 16).SelectMany(c => Enumerable.Range(0, 8).Select(x =>
            KeyValuePair.Create(new CrossbarId(c, x), Enumerable.Range(0, 128 * 128).Select(_ => (byte)random.Next(4)).ToArray()))));
        var cores = Enumerable.Range(0, 16).Select(c =>
        {
            var code = new List<Instruction>();
            if (c % 4 == 0)
            {
                code.Add(Instruction.Load(0, 0, 128));
                code.AddRange(Enumerable.Range(1, 3).Select(k => Instruction.Send(c + k, 0, 128, 0)));
            }
            else
            {
                code.Add(Instruction.Recv(c - (c % 4), 0, 128, 0));
            }

            code.AddRange(Enumerable.Range(0, 8).Select(x => Instruction.Mvm(x, 0, 1000, 128, 128, 8, x, x % 2 == 1)));
            code.Add(Instruction.VSum(2000, 1000, 128));
            code.Add(Instruction.Store(100 + (c % 4), 2000, 1));
            code.Add(Instruction.Halt());
            return new CoreProgram(c, [.. code]);
        });
        var program = new ProgramImage(arch, new InputSpec(0, 0, 128, 1.0 / 255, 0, 0, 255),
            new OutputSpec(0, 100, 1, [1.0], [0]), [.. cores]);
        var sim = new FunctionalSimulator(ProgramImage.FromBytes(program.ToBytes()), weights);
        int n = 500;
        var inputs = new NdArray([n, 128], [.. Enumerable.Range(0, n * 128).Select(_ => (float)random.NextDouble())]);
        NdArray y = sim.Run(inputs);
        Assert.Equal([n, 1], y.Shape.ToArray());
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal((float)sim.RunCodes(sim.Quantize(inputs.Row(i)))[0], y.Row(i)[0]);
        }
    }
}
