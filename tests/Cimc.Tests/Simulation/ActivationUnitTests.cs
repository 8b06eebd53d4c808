using System.Collections.Immutable;
using Cimc.Diagnostics;
using Cimc.Isa;
using Cimc.Quantization;
using Cimc.Simulation;
using Cimc.Tests.Golden;
using Cimc.Tests.Isa;
using CsCheck;

namespace Cimc.Tests.Simulation;

/// <summary>vact, the special-function unit (docs/isa.md): its arithmetic, its faults, and the batched path.</summary>
public sealed class ActivationUnitTests
{
    private const string Header = """
        .arch tiles=1 cores_per_tile=1 crossbars_per_core=1 rows=4 cols=4 cell_bits=2 dac_bits=1 adc_bits=8 local_words=64 buffer_words=64
        .input tile=0 addr=0 len=4 scale=1 zero_point=0 qmin=-1000000 qmax=1000000
        .output tile=0 addr=8 len=4
        .output_scale 1 1 1 1
        .output_zero_point 0 0 0 0
        """;

    /// <summary>load 4 codes, vact them with the block at 40, store the results.</summary>
    private static FunctionalSimulator Unit(ActivationParams p, long fn, string extra = "") =>
        Unit(string.Join(", ", p.ToWords()), fn, extra);

    private static FunctionalSimulator Unit(string block, long fn, string extra = "")
    {
        string asm = Header + $"""

            .core 0
            .data 0 addr=40
            {block}
            load dst=0, src=0, len=4
            {extra}
            vact dst=10, src=0, params=40, len=4, fn={fn}
            store dst=8, src=10, len=4
            halt
            """;
        ProgramImage program = ProgramImage.FromBytes(Assembler.Assemble(asm, "test.asm").ToBytes());
        return new FunctionalSimulator(program, IsaSamples.ZeroWeights(1, 4, 4));
    }

    [Fact]
    public void Sigmoid_tanh_and_leaky_relu_give_the_hand_computed_codes_at_the_boundaries()
    {
        // sigmoid(0.05 (t - 128)) in codes of 1/255: t = 128 is exactly 127.5, which rounds away from zero.
        Assert.Equal([0, 50, 128, 255], Unit(new ActivationParams(128, 255, 0.05, 0, 255, 1.0 / 255, 0), 0).RunCodes([0, 100, 128, 255]));

        // tanh(0.25 (t - 8)) around z_y = 127: negative inputs land below the zero point.
        Assert.Equal([5, 127, 247, 19], Unit(new ActivationParams(8, 15, 0.25, 127, 254, 1.0 / 127, 0), 1).RunCodes([0, 8, 15, 3]));

        // leaky relu, slope 0.1: -10 -> -1 -> -2 + 5; -7 -> -1.4 -> -1 + 5; -1 -> -0.2 -> 0 + 5; 10 -> 20 + 5.
        Assert.Equal([3, 4, 5, 25], Unit(new ActivationParams(10, 20, 1, 5, 30, 0.5, 0.1), 2).RunCodes([0, 3, 9, 20]));
    }

    [Fact]
    public void Results_saturate_at_zero_and_at_umax_y()
    {
        Assert.Equal([3, 4, 5, 22], Unit(new ActivationParams(10, 20, 1, 5, 22, 0.5, 0.1), 2).RunCodes([0, 3, 9, 20]));
        Assert.Equal([0, 0, 0, 20], Unit(new ActivationParams(10, 20, 1, 0, 22, 0.5, 0.1), 2).RunCodes([0, 3, 9, 20]));

        // A scale so large that x overflows to +-infinity: sigmoid gives 0 and 1, tanh -1 and 1.
        var huge = new ActivationParams(2, 4, double.MaxValue, 0, 100, 0.01, 0);
        Assert.Equal([0, 50, 100, 100], Unit(huge, 0).RunCodes([0, 2, 4, 3]));

        // leaky relu with slope 0 at -infinity is NaN, which gives the zero point (the code of real zero).
        Assert.Equal([7, 7, 100, 7], Unit(huge with { OutputZero = 7, Alpha = 0 }, 2).RunCodes([0, 1, 4, 2]));
    }

    [Fact]
    public void Vact_equals_the_golden_formula_on_random_blocks_and_codes()
    {
        Gen.Select(Gen.Int[0, 2], Gen.Int[1, 16], Gen.Int[1, 16], Gen.Int[0, int.MaxValue]).Sample((fn, inBits, outBits, seed) =>
        {
            var rng = new Random(seed);
            long umaxT = (1L << inBits) - 1, umaxY = (1L << outBits) - 1;
            var pre = new ActivationQuant(Math.Pow(2, rng.Next(-12, 4)) * (0.5 + rng.NextDouble()), rng.NextInt64(0, umaxT + 1), umaxT);
            var y = new ActivationQuant(Math.Pow(2, rng.Next(-12, 2)) * (0.5 + rng.NextDouble()), rng.NextInt64(0, umaxY + 1), umaxY);
            ActivationKind kind = fn switch { 0 => ActivationKind.Sigmoid, 1 => ActivationKind.Tanh, _ => ActivationKind.LeakyRelu };
            float alpha = (float)rng.NextDouble();
            var layer = new QuantizedLayer("l", 1, 1, [1], 2, [1.0], [0], pre, kind, alpha, [], pre, y, false);
            long[] codes = [0, umaxT, pre.ZeroPoint, rng.NextInt64(0, umaxT + 1)];
            FunctionalSimulator sim = Unit(new ActivationParams(pre.ZeroPoint, umaxT, pre.Scale, y.ZeroPoint, umaxY, y.Scale, alpha), fn);
            Assert.Equal(codes.Select(t => Contract.ActivationCode(layer, t)).ToArray(), sim.RunCodes(codes));
        }, iter: 300);
    }

    [Theory]
    [InlineData("128, 255, 0, 0, 255, 4571153621781053440, 0", 0, "s_t = 0 must be finite and > 0")]
    [InlineData("128, 255, 4607182418800017408, 0, 255, 9221120237041090560, 0", 0, "s_y = NaN must be finite and > 0")]
    [InlineData("128, 9007199254740992, 4607182418800017408, 0, 255, 4607182418800017408, 0", 1, "umax_t = 9007199254740992 is outside [0, 2^52]")]
    [InlineData("128, 255, 4607182418800017408, 0, -1, 4607182418800017408, 0", 1, "umax_y = -1 is outside [0, 2^52]")]
    [InlineData("128, 255, 4607182418800017408, 0, 255, 4607182418800017408, 9218868437227405312", 2, "alpha = Infinity must be finite")]
    [InlineData("128, 255, 4607182418800017408, 0, 255, 4607182418800017408, 0", 3, "function 3 is not defined")]
    [InlineData("128, 100, 4607182418800017408, 0, 255, 4607182418800017408, 0", 0, "input mem[3] = 200 is outside [0, umax_t = 100]")]
    public void Bad_parameter_blocks_functions_and_codes_fault_in_both_simulators_with_one_clear_line(string block, long fn, string message)
    {
        FunctionalSimulator sim = Unit(block, fn);
        long[] codes = [0, 1, 2, 200];
        var e = Assert.Throws<CimcException>(() => sim.RunCodes(codes));
        Assert.Equal("simulation-fault", e.Diagnostic.Code);
        Assert.Equal("core 0 pc 1 (vact)", e.Diagnostic.Location);
        Assert.Contains(message, e.Message);
        Assert.DoesNotContain('\n', e.Message);

        long[] batch = [.. Enumerable.Repeat(codes, 8).SelectMany(c => c)];
        var b = Assert.Throws<CimcException>(() => sim.RunBatchCodes(batch, 8));
        Assert.Contains("core 0 pc 1 (vact)", b.Diagnostic.Location);
        Assert.Contains(message, b.Message);
    }

    [Fact]
    public void The_batched_path_equals_the_reference_with_memoized_direct_and_per_sample_blocks()
    {
        // 8-bit codes over 200 samples take the memo; 20-bit codes evaluate directly; a block whose
        // z_t comes from the input (vcopy) differs per sample and takes the element-by-element loop.
        var small = new ActivationParams(100, 255, 0.03, 0, 255, 1.0 / 255, 0);
        var wide = new ActivationParams(500_000, 1_000_000, 1e-5, 30_000, 65_535, 1.0 / 30_000, 0);
        var random = new Random(5);
        foreach ((FunctionalSimulator sim, long max) in new[]
        {
            (Unit(small, 0), 255L),
            (Unit(wide, 1), 1_000_000L),
            (Unit(small with { Alpha = 0.25 }, 2, "vcopy dst=40, src=3, len=1"), 255L),
        })
        {
            const int n = 200;
            long[] codes = [.. Enumerable.Range(0, 4 * n).Select(i => i % 4 == 3 ? random.NextInt64(0, 256) : random.NextInt64(0, max + 1))];
            BatchedSimulatorTests.AssertBatchedEqualsReference(sim, codes, n);
            Assert.Equal(0, sim.FallbackBatches);
        }
    }

    [Fact]
    public void The_parameter_block_round_trips_its_doubles_bit_for_bit()
    {
        var p = new ActivationParams(-3, 1L << 52, Math.BitIncrement(0.1), 1L << 52, 7, double.Epsilon, -0.0);
        ImmutableArray<long> words = [.. p.ToWords()];
        Assert.Equal(ActivationParams.Words, words.Length);
        ActivationParams back = ActivationParams.Read(words.AsSpan());
        Assert.Equal(BitConverter.DoubleToInt64Bits(p.InputScale), BitConverter.DoubleToInt64Bits(back.InputScale));
        Assert.Equal(BitConverter.DoubleToInt64Bits(p.Alpha), BitConverter.DoubleToInt64Bits(back.Alpha));
        Assert.Equal(p, back);
        Assert.Null(back.Problem());
    }
}
