using System.Collections.Immutable;
using Cimc.Architectures;
using Cimc.Data;
using Cimc.Diagnostics;
using Cimc.Ir;
using Cimc.Isa;
using Cimc.Mapping;
using Cimc.Passes;
using Cimc.Performance;
using Cimc.Simulation;
using Cimc.Tests.Golden;
using Cimc.Tests.Performance;
using CsCheck;

namespace Cimc.Tests.Compile;

/// <summary>
/// The input bit-slice split (split-slices, --slice-split; issue 9 part 4): copies of a crossbar block
/// each convert a window of the input's bit slices, so the program's outputs equal the unsplit
/// program's and the golden model's bit for bit (the golden model knows nothing of it), in both
/// simulators, with either order of the copies; its mvms carry the windows in ilo and lower.
/// </summary>
public sealed class SliceSplitTests
{
    /// <summary>A split-slices pass with a fixed copy count and order, as the tests draw them.</summary>
    private static Pass SplitPass(int copies, bool adjacent) => PassCatalog.SplitSlices with
    {
        Apply = (c, ctx) => c with { Mapped = SliceSplit.Apply(c.Mapped!, [.. c.Mapped!.Layers.Select(_ => copies)], ctx.Architecture.Core.Dac.Bits, adjacent) },
    };

    [Fact]
    public void Split_programs_equal_the_unsplit_program_and_the_golden_model_bit_for_bit_in_both_simulators()
    {
        int split = 0, saturating = 0;
        Gen.Int[0, int.MaxValue].Sample(seed =>
        {
            var rng = new Random(seed ^ 0x51ce);
            BitExactnessTests.DesignPoint p = BitExactnessTests.DesignPoint.From(seed, maxWidth: 60);
            (Graph graph, NdArray calibration, NdArray inputs) = p.Network();
            Architecture arch = p.Architecture() with { Core = p.Architecture().Core with { Crossbars = rng.Next(1, 9), LocalMemoryWords = 1 << 16 } };
            OptLevel level = (OptLevel)rng.Next(4);
            ImmutableArray<Pass> passes = Pipelines.For(level, replication: ReplicationChoice.None);
            var plainSettings = new CompileSettings { Passes = passes };
            var splitSettings = new CompileSettings { Passes = passes.Insert(2, SplitPass(rng.Next(2, 7), adjacent: rng.Next(2) == 0)) };
            Compilation plain = Compiler.Compile(graph, arch, p.Options(), calibration, CompileStage.Asm, plainSettings);
            Compilation c = Compiler.Compile(graph, arch, p.Options(), calibration, CompileStage.Asm, splitSettings);

            var program = ProgramImage.FromBytes(c.Program!.ToBytes());
            var weights = WeightImage.FromBytes(c.Weights!.ToBytes());
            var xbar = new CrossbarParams(p.Rows, p.Cols, p.CellBits, p.DacBits, p.AdcBits);
            long[][] codes = [.. Enumerable.Range(0, inputs.Rows).Select(r => GoldenModel.QuantizeInput(c.Quantized!, inputs.Row(r)))];
            long[] batched = new FunctionalSimulator(program, weights).RunBatchCodes([.. codes.SelectMany(x => x)], inputs.Rows);
            var unsplit = new FunctionalSimulator(plain.Program!, plain.Weights!);
            int outLen = program.Output.Len;
            for (int n = 0; n < inputs.Rows; n++)
            {
                long[] golden = GoldenModel.RunCodes(c.Quantized!, xbar, codes[n]);
                Assert.Equal(golden, batched.AsSpan(n * outLen, outLen).ToArray());
                Assert.Equal(golden, new FunctionalSimulator(program, weights).RunCodes(codes[n]));
                Assert.Equal(unsplit.RunCodes(codes[n]), golden);
            }

            bool windows = program.Cores.Any(core => core.Code.Any(i => i.Opcode == Opcode.Mvm && i["lower"] == 1));
            Assert.Equal(c.Mapped!.Layers.Any(l => l.SliceCopies > 1), windows);
            Assert.Equal(c.Mapped.Layers.Sum(l => l.Crossbars), plain.Mapped!.Layers.Select((l, i) => l.Crossbars * c.Mapped.Layers[i].SliceCopies).Sum());
            if (windows)
            {
                Interlocked.Increment(ref split);
                if (c.Mapped.Layers.Any(l => AdcResolution.Of(l, c.Mapped.Geometry, c.Mapped.Encoding).LosslessBits > p.AdcBits))
                {
                    Interlocked.Increment(ref saturating);
                }
            }
        }, iter: 50, threads: 1);

        // Draws with one input slice (activation bits <= DAC bits) have nothing to split.
        Assert.InRange(split, 25, 50);
        Assert.InRange(saturating, 5, 50); // ADCs that may saturate must be among them
    }

    [Fact]
    public void Input_windows_cover_the_input_once_in_whole_dac_slices_and_only_the_top_one_checks_the_range()
    {
        Gen.Select(Gen.Int[1, 24], Gen.Int[1, 4], Gen.Int[1, 32]).Sample((ibits, dac, k) =>
        {
            ImmutableArray<InputWindow> w = InputWindow.Split(ibits, dac, k);
            int slices = (ibits + dac - 1) / dac;
            Assert.Equal(Math.Min(k, slices) == 1, w is [{ IsWhole: true }]);
            if (w.Length > 1)
            {
                Assert.InRange(w.Length, 2, Math.Min(k, slices));
                Assert.Equal(0, w[0].Low);
                for (int j = 0; j < w.Length; j++)
                {
                    Assert.Equal(j < w.Length - 1, w[j].Lower);
                    Assert.Equal(0, w[j].Low % dac);
                    Assert.Equal(j < w.Length - 1 ? w[j + 1].Low : ibits, w[j].Low + w[j].Bits);
                }

                // Each copy streams at most ceil(slices / k) slices: the latency the split buys.
                Assert.All(w, x => Assert.InRange((x.Bits + dac - 1) / dac, 1, (slices + k - 1) / k));
            }
        });
    }

    [Fact]
    public void Mvm_windows_round_trip_through_binary_and_assembly_and_old_encodings_keep_their_meaning()
    {
        Gen.Select(Gen.Int[0, 31], Gen.Int[0, 31], Gen.Int[0, 1], Gen.Int[0, 127]).Sample((ilo, ibits, lower, shift) =>
        {
            Instruction i = Instruction.Create(Opcode.Mvm, 3, 10, 200, 64, 32, ibits, shift, 1, 8, 2, ilo, lower);
            Assert.Equal(i, InstructionEncoding.Decode(InstructionEncoding.Encode(i), "test"));
            string text = i.ToString();
            Assert.Equal(ilo != 0, text.Contains("ilo=", StringComparison.Ordinal));
            Assert.Equal(lower != 0, text.Contains("lower=", StringComparison.Ordinal));

            // The same fields without a window: what an older cimc wrote, bits 122-127 zero.
            Instruction old = Instruction.Mvm(3, 10, 200, 64, 32, ibits, shift, true, 8, 2);
            UInt128 bits = InstructionEncoding.Encode(old);
            Assert.Equal(UInt128.Zero, bits >> 122);
            Assert.Equal(bits, InstructionEncoding.Encode(i) & ((UInt128.One << 122) - 1));
            Instruction decoded = InstructionEncoding.Decode(bits, "old");
            Assert.Equal((0L, 0L), (decoded["ilo"], decoded["lower"]));
        });

        // Assembly: a program without windows prints no ilo/lower (text as before the fields existed)
        // and reassembles to the same bytes; a split one prints them and round-trips too.
        Architecture edge = ArchitectureCatalog.Preset("edge");
        foreach (int k in new[] { 1, 3 })
        {
            Compilation c = PerformanceFixtures.Compile(new CompileSettings { SliceSplit = new SliceSplitChoice(k) }, edge, Compiler.OptionsFor(edge), 7, () => new Relu(), 40, 20, 10);
            string text = Disassembler.Disassemble(c.Program!);
            Assert.Equal(k > 1, text.Contains("ilo=", StringComparison.Ordinal));
            Assert.Equal(c.Program!.ToBytes(), Assembler.Assemble(text).ToBytes());
        }
    }

    [Fact]
    public void A_split_program_keeps_latency_at_or_above_its_bounds_and_throughput_below_its_bound()
    {
        int timed = 0;
        Gen.Int[0, int.MaxValue].Sample(seed =>
        {
            var rng = new Random(seed);
            Architecture arch = TimingBoundTests.RandomChip(rng);
            int[] widths = [.. Enumerable.Range(0, rng.Next(2, 5)).Select(_ => rng.Next(1, 160))];
            var options = Compiler.OptionsFor(arch) with { WeightBits = rng.Next(2, 9), ActivationBits = rng.Next(2, 9) };
            var settings = new CompileSettings { Level = (OptLevel)rng.Next(3), SliceSplit = new SliceSplitChoice(rng.Next(2, 5)) };
            Compilation c;
            try
            {
                c = PerformanceFixtures.Compile(settings, arch, options, seed, rng.Next(2) == 0 ? () => new Relu() : null, widths);
            }
            catch (CimcException)
            {
                return; // a network (or its copies) this chip cannot hold
            }

            int batch = rng.Next(1, 17);
            PerformanceReport r = PerformanceFixtures.Evaluate(c, batch);
            Assert.True(r.LatencyNs >= r.LowerBoundLatencyNs * (1 - 1e-9), $"seed {seed}: latency {r.LatencyNs} < bound {r.LowerBoundLatencyNs}");
            Assert.True(r.LatencyNs >= r.MvmSequenceBoundNs * (1 - 1e-9), $"seed {seed}: latency {r.LatencyNs} < mvm sequence {r.MvmSequenceBoundNs}");
            Assert.True(r.ThroughputPerS <= r.UpperBoundThroughputPerS * (1 + 1e-9), $"seed {seed}: throughput {r.ThroughputPerS} > bound {r.UpperBoundThroughputPerS}");
            if (c.Mapped!.Layers.Any(l => l.SliceCopies > 1))
            {
                Interlocked.Increment(ref timed);
            }
        }, iter: 40, threads: 1);

        Assert.InRange(timed, 10, 40);
    }

    [Fact]
    public void The_split_shortens_mlp_l4_mvms_on_puma_and_a_copy_count_that_does_not_fit_is_refused_in_one_line()
    {
        Architecture puma = ArchitectureCatalog.Preset("puma");
        PerformanceReport plain = PerformanceFixtures.Evaluate(PerformanceFixtures.PumaMlpL4(puma, new CompileSettings { Level = OptLevel.O0 }));
        Compilation c = PerformanceFixtures.PumaMlpL4(puma, new CompileSettings { Level = OptLevel.O0, SliceSplit = new SliceSplitChoice(2) });
        PerformanceReport split = PerformanceFixtures.Evaluate(c);

        // 16 one-bit slices in two windows of 8: 8 + 2 fill slices of 100 ns per layer instead of 18.
        Assert.Equal(4 * 18 * 100, plain.MvmSequenceBoundNs, 6);
        Assert.Equal(4 * 10 * 100, split.MvmSequenceBoundNs, 6);
        Assert.Equal(2 * 2624, c.Mapped!.Crossbars);

        // 16 copies need 41,984 crossbars; the chip has 21,504.
        var e = Assert.Throws<CimcException>(() => PerformanceFixtures.PumaMlpL4(puma, new CompileSettings { SliceSplit = new SliceSplitChoice(16) }));
        Assert.Equal("does-not-fit", e.Diagnostic.Code);
        Assert.Contains("41984 crossbars", e.Message, StringComparison.Ordinal);
        Assert.Contains("21504 crossbars", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void The_option_adds_the_pass_after_map_and_bad_values_and_convolutional_networks_are_refused_in_one_line()
    {
        Assert.Equal(["quantize", "map", "split-slices", "place-linear", "schedule", "emit"],
            Pipelines.For(OptLevel.O0, sliceSplit: new SliceSplitChoice(3)).Select(p => p.Name));
        Assert.Equal(Pipelines.For(OptLevel.O2).Select(p => p.Name), Pipelines.For(OptLevel.O2, sliceSplit: SliceSplitChoice.None).Select(p => p.Name));
        Assert.Equal(new SliceSplitChoice(4), SliceSplitChoice.Parse("4"));
        Assert.True(SliceSplitChoice.Parse("auto").IsAuto);
        foreach (string bad in new[] { "0", "33", "two", "-2" })
        {
            CimcException e = Assert.Throws<CimcException>(() => SliceSplitChoice.Parse(bad));
            Assert.Equal("bad-option", e.Diagnostic.Code);
        }

        Architecture isaac = ArchitectureCatalog.Preset("isaac");
        string dir = Path.Combine(TestPaths.Examples, "fashion-mnist");
        Graph lenet = Cimc.Import.ModelLoader.Load(Path.Combine(dir, "lenet.onnx"));
        NdArray calibration = Npy.Read(Path.Combine(dir, "calibration.npy")).Take(16);
        CimcException refused = Assert.Throws<CimcException>(() => Compiler.Compile(lenet, isaac, Compiler.OptionsFor(isaac, 8, 8), calibration,
            CompileStage.Asm, new CompileSettings { SliceSplit = new SliceSplitChoice(2) }));
        Assert.Equal("unsupported-for-compile", refused.Diagnostic.Code);
        Assert.DoesNotContain('\n', refused.Message);

        // auto leaves a convolutional network as mapped.
        Compilation auto = Compiler.Compile(lenet, isaac, Compiler.OptionsFor(isaac, 8, 8), calibration, CompileStage.Mapped, new CompileSettings { SliceSplit = SliceSplitChoice.Auto });
        Assert.All(auto.Mapped!.Layers, l => Assert.Equal(1, l.SliceCopies));
    }
}
