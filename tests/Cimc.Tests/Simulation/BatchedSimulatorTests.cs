using System.Collections.Immutable;
using Cimc.Diagnostics;
using Cimc.Isa;
using Cimc.Quantization;
using Cimc.Simulation;
using Cimc.Tests.Compile;
using Cimc.Tests.Isa;
using CsCheck;

namespace Cimc.Tests.Simulation;

/// <summary>The batched path (Run, RunBatchCodes) equals the reference interpreter (RunCodes) bit for bit.</summary>
public sealed class BatchedSimulatorTests
{
    /// <summary>Input codes for n samples: uniform over the input range, or sparse, as after a ReLU.</summary>
    private static long[] RandomCodes(InputSpec spec, int n, Random random)
    {
        bool sparse = random.Next(2) == 0;
        return [.. Enumerable.Range(0, n * spec.Len).Select(_ =>
            sparse && random.Next(3) != 0 ? Math.Clamp(spec.ZeroPoint, spec.QMin, spec.QMax) : random.NextInt64(spec.QMin, spec.QMax + 1))];
    }

    /// <summary>One batched run of n samples gives each sample exactly what the reference interpreter gives it alone.</summary>
    internal static void AssertBatchedEqualsReference(FunctionalSimulator sim, long[] codes, int n)
    {
        int inLen = sim.Program.Input.Len, outLen = sim.Program.Output.Len;
        long[] batched = sim.RunBatchCodes(codes, n);
        Assert.Equal(n * outLen, batched.Length);
        for (int b = 0; b < n; b++)
        {
            long[] reference = sim.RunCodes(codes.AsSpan(b * inLen, inLen));
            Assert.Equal(reference, batched.AsSpan(b * outLen, outLen).ToArray());
        }
    }

    /// <summary>The program with every mvm's group and ashift replaced by random values.</summary>
    private static ProgramImage WithRandomGroups(ProgramImage program, Random random) => program with
    {
        Cores = [.. program.Cores.Select(c => c with
        {
            Code = [.. c.Code.Select(i => i.Opcode != Opcode.Mvm ? i : Instruction.Mvm(i["xb"], i["src"], i["dst"], i["rows"], i["cols"],
                i["ibits"], i["shift"], i["neg"] != 0,
                group: random.Next(3) == 0 ? 0 : random.Next(1, (int)i["rows"] + 2),
                ashift: random.Next(3) == 0 ? 0 : random.Next(0, 5)))],
        })],
    };

    private static FunctionalSimulator Compile(BitExactnessTests.DesignPoint p, out ProgramImage program, out WeightImage weights)
    {
        (var graph, var calibration, _) = p.Network();
        var options = new QuantizationOptions(p.WeightBits, p.ActivationBits, p.Granularity, p.Encoding);
        Compilation c = Compiler.Compile(graph, p.Architecture(), options, calibration);
        program = c.Program!;
        weights = c.Weights!;
        return new FunctionalSimulator(program, weights);
    }

    [Trait("tier", "slow")]
    [Fact]
    public void Batched_runs_of_compiled_programs_equal_the_reference_on_random_design_points()
    {
        int exact = 0, corrected = 0;
        Gen.Int[0, int.MaxValue].Sample(seed =>
        {
            BitExactnessTests.DesignPoint p = BitExactnessTests.DesignPoint.From(seed, maxWidth: 200);
            var random = new Random(seed);
            FunctionalSimulator sim = Compile(p, out _, out _);
            int n = random.Next(1, 60);
            AssertBatchedEqualsReference(sim, RandomCodes(sim.Program.Input, n, random), n);
            Assert.Equal(0, sim.FallbackBatches);
            if (sim.BatchPlan.Blocks.Any(b => b.Any(x => x?.HasExactPart == true)))
            {
                Interlocked.Increment(ref exact);
            }

            if (sim.BatchPlan.Blocks.Any(b => b.Any(x => x?.HasCorrections == true)))
            {
                Interlocked.Increment(ref corrected);
            }
        }, iter: 40, threads: 1);

        // Both the exact product and the saturation corrections must have been exercised.
        Assert.InRange(exact, 5, 40);
        Assert.InRange(corrected, 3, 40);
    }

    [Trait("tier", "slow")]
    [Fact]
    public void Batched_runs_with_grouped_reads_and_coarse_adc_steps_equal_the_reference()
    {
        Gen.Int[0, int.MaxValue].Sample(seed =>
        {
            BitExactnessTests.DesignPoint p = BitExactnessTests.DesignPoint.From(seed, maxWidth: 150);
            var random = new Random(seed);
            Compile(p, out ProgramImage program, out WeightImage weights);
            var sim = new FunctionalSimulator(WithRandomGroups(program, random), weights);
            int n = random.Next(1, 40);
            AssertBatchedEqualsReference(sim, RandomCodes(sim.Program.Input, n, random), n);
            Assert.Equal(0, sim.FallbackBatches);
        }, iter: 30, threads: 1);
    }

    [Fact]
    public void Batches_of_every_size_up_to_and_beyond_the_capacity_agree()
    {
        BitExactnessTests.DesignPoint p = BitExactnessTests.DesignPoint.From(7, maxWidth: 100);
        FunctionalSimulator sim = Compile(p, out _, out _);
        var random = new Random(1);
        foreach (int n in new[] { 1, 15, 16, 17, 300, 600 })
        {
            AssertBatchedEqualsReference(sim, RandomCodes(sim.Program.Input, n, random), n);
        }

        Assert.Equal(0, sim.FallbackBatches);
    }

    private const string OneCore = """
        .arch tiles=1 cores_per_tile=1 crossbars_per_core=1 rows=4 cols=4 cell_bits=2 dac_bits=1 adc_bits=3 local_words=64 buffer_words=64
        .input tile=0 addr=0 len=4 scale=1 zero_point=0 qmin=-8 qmax=8
        .output tile=0 addr=8 len=4
        .output_scale 1 1 1 1
        .output_zero_point 0 0 0 0
        """;

    private static FunctionalSimulator Load(string asm)
    {
        ProgramImage program = Assembler.Assemble(asm, "test.asm");
        var levels = new byte[16];
        Array.Fill(levels, (byte)3);
        return new FunctionalSimulator(program, new WeightImage(4, 4, 2, [KeyValuePair.Create(new CrossbarId(0, 0), levels)]));
    }

    [Fact]
    public void A_fault_in_one_sample_of_a_batch_is_reported_as_the_reference_reports_it()
    {
        FunctionalSimulator sim = Load(OneCore + """

            .core 0
            load dst=0, src=0, len=4
            mvm xb=0, src=0, dst=10, rows=4, cols=4, ibits=3, shift=0, neg=0, group=0, ashift=0
            store dst=8, src=10, len=4
            halt
            """);
        long[] codes = [1, 2, 3, 4, 0, 0, 0, 1, 1, 1, 9, 1];
        var e = Assert.Throws<CimcException>(() => sim.RunBatchCodes(codes, 3));
        Assert.Equal("sample 2: core 0 pc 1 (mvm)", e.Diagnostic.Location);
        Assert.Contains("outside [0, 2^3)", e.Message);
        // Without the bad sample the same batch runs, saturating the 3-bit ADC.
        Assert.Equal(1, sim.FallbackBatches);
        AssertBatchedEqualsReference(sim, codes[..8], 2);
        Assert.Equal(1, sim.FallbackBatches);
    }

    [Fact]
    public void Vector_instructions_with_overlapping_ranges_behave_as_per_sample()
    {
        FunctionalSimulator sim = Load(OneCore + """

            .core 0
            .data 0 addr=40
            0, -3, 3, 5, 1, 3, 0, 7, 2, 1, 0
            .data 0 addr=52
            -3, 7, 1, 2, 3, 4, 5, 6, 7, 8, 9
            load dst=1, src=0, len=4
            vcopy dst=2, src=1, len=4
            vaxpy dst=1, s=3, imm=2, len=4
            vadd dst=0, a=1, b=2, len=5
            vsum dst=6, src=0, len=6
            vmax dst=20, src=0, imm=-2, len=8
            vrequant dst=20, src=20, params=40, len=4
            vlut dst=30, src=20, table=52, len=4
            mvm xb=0, src=30, dst=31, rows=4, cols=3, ibits=3, shift=1, neg=1, group=3, ashift=1
            vadd dst=24, a=31, b=20, len=4
            store dst=8, src=24, len=4
            halt
            """);
        var random = new Random(3);
        long[] codes = [.. Enumerable.Range(0, 4 * 50).Select(_ => random.NextInt64(-8, 9))];
        AssertBatchedEqualsReference(sim, codes, 50);
        Assert.Equal(0, sim.FallbackBatches);
    }

    [Fact]
    public void Vrequant_with_shared_parameters_equals_the_reference_in_and_out_of_the_fast_range()
    {
        // Rows 0 and 3 take the vector path; inputs beyond 2^31 and row 2's m = 2^31 with r = 62 sit at
        // the fast path's edges, row 1's r = 70 is outside it; the last vrequant's parameters differ per sample.
        FunctionalSimulator sim = Load(OneCore + """

            .core 0
            .data 0 addr=40
            5, -100000, 100000, 3, 2, 1, 70, 2147483648, 62, 7, 5
            load dst=0, src=0, len=4
            vrequant dst=20, src=0, params=40, len=4
            vcopy dst=50, src=40, len=11
            vcopy dst=53, src=1, len=1
            vmax dst=53, src=53, imm=0, len=1
            vrequant dst=24, src=0, params=50, len=4
            vadd dst=24, a=24, b=20, len=4
            store dst=8, src=24, len=4
            halt
            """);
        var random = new Random(8);
        long[] codes = [.. Enumerable.Range(0, 4 * 61).Select(_ => random.Next(4) switch
        {
            0 => random.NextInt64(-(1L << 40), 1L << 40),
            1 => random.Next(2) == 0 ? 1L << 31 : -(1L << 31) + random.Next(-1, 2),
            _ => random.NextInt64(-5000, 5000),
        })];
        AssertBatchedEqualsReference(sim, codes, 61);
        Assert.Equal(0, sim.FallbackBatches);
    }

    [Fact]
    public void Run_on_floats_equals_quantize_run_codes_dequantize()
    {
        BitExactnessTests.DesignPoint p = BitExactnessTests.DesignPoint.From(11, maxWidth: 80);
        FunctionalSimulator sim = Compile(p, out _, out _);
        (_, _, var inputs) = p.Network();
        var outputs = sim.Run(inputs);
        for (int r = 0; r < inputs.Rows; r++)
        {
            Assert.Equal(sim.Dequantize(sim.RunCodes(sim.Quantize(inputs.Row(r)))), outputs.Row(r).ToArray());
        }
    }
}
