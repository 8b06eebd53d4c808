using System.Collections.Immutable;
using Cimc.Architectures;
using Cimc.Data;
using Cimc.Diagnostics;
using Cimc.Ir;
using Cimc.Isa;
using Cimc.Mapping;
using Cimc.Passes;
using Cimc.Performance;
using Cimc.Placement;
using Cimc.Simulation;
using Cimc.Simulation.Devices;
using Cimc.Tests.Golden;
using Cimc.Tests.Performance;
using CsCheck;

namespace Cimc.Tests.Compile;

/// <summary>
/// Weight replication (issue 9 parts 4 and 8): replica r of a layer with k copies serves the samples
/// n with n mod k = r. The compiled program, run for every sample of batches longer than its period
/// (and not a multiple of it), equals the golden model bit for bit, also on non-ideal devices where
/// each copy's crossbars differ; the golden model knows only that rule and the copies' sites.
/// </summary>
public sealed class ReplicationTests
{
    private static readonly ImmutableArray<Pass>[] Searches =
    [
        [PassCatalog.ReplicateGreedy], [PassCatalog.ReplicateMinMax], [PassCatalog.ReplicateMax],
    ];

    /// <summary>A random replicated compile: small cores on a large mesh so replicas fit, a random search and budget.</summary>
    private static (Compilation C, NdArray Inputs) CompileReplicated(BitExactnessTests.DesignPoint p, int seed)
    {
        var rng = new Random(seed ^ 0x4e91);
        (Graph graph, NdArray calibration, _) = p.Network();
        int crossbars = rng.Next(1, 5), cores = rng.Next(1, 5);
        Architecture arch = p.Architecture() with
        {
            Tile = p.Architecture().Tile with { Cores = cores },
            // 64 Ki words per core hold any of these networks; the design point's 1 Mi words on up to
            // 1,024 cores would make each reference machine 8 GB, one per sample below.
            Core = p.Architecture().Core with { Crossbars = crossbars, LocalMemoryWords = 1 << 16 },
            Chip = p.Architecture().Chip with { Tiles = 256, Mesh = new MeshSpec(16, 16) },
        };
        OptLevel level = (OptLevel)rng.Next(4);
        ImmutableArray<Pass> search = Searches[rng.Next(Searches.Length)];
        var settings = new CompileSettings
        {
            Passes = [.. Pipelines.For(level, rng.Next(3) == 0 ? PlacementChoice.Greedy : null, ReplicationChoice.None).Take(2), .. search, .. Pipelines.For(level, null, ReplicationChoice.None).Skip(2)],
            ReplicationBudget = new ReplicationBudget(Fraction: new[] { 0.01, 0.05, 0.2, 1.0 }[rng.Next(4)]),
            Seed = rng.Next(),
        };
        Compilation c = Compiler.Compile(graph, arch, p.Options(), calibration, CompileStage.Asm, settings);
        int n = (2 * c.Program!.Period) + 1 + rng.Next(c.Program.Period);
        var inputs = new NdArray([n, p.Widths[0]], [.. Enumerable.Range(0, n * p.Widths[0]).Select(_ => (float)((rng.NextDouble() * 2.4) - 1.2))]);
        return (c, inputs);
    }

    /// <summary>Every copy of every block, as the golden model takes it: name, replica index, site.</summary>
    private static GoldenChip ChipOf(DeviceParams device, PlacedModel placed) =>
        new(device, placed.Layers.Select((_, l) => placed.Replicas(l)).SelectMany(replicas => replicas.SelectMany((layer, r) => layer.Blocks.Select(pb =>
            (new BlockName(pb.Block.Layer, pb.Block.RowBlock, pb.Block.ColBlock, pb.Block.Polarity, pb.Block.Slice), r, new BlockSite(pb.Core, pb.Crossbar))))),
            [.. placed.Mapped.Layers.Select(l => l.Replicas)]);

    [Fact]
    public void Every_sample_of_a_replicated_stream_equals_the_golden_model_on_ideal_and_random_devices()
    {
        int replicated = 0, perturbed = 0;
        Gen.Int[0, int.MaxValue].Sample(seed =>
        {
            BitExactnessTests.DesignPoint p = BitExactnessTests.DesignPoint.From(seed, maxWidth: 60) with { Rows = 16 << (seed % 3), Cols = 16 << ((seed / 3) % 3) };
            (Compilation c, NdArray inputs) = CompileReplicated(p, seed);
            var program = ProgramImage.FromBytes(c.Program!.ToBytes());
            var weights = WeightImage.FromBytes(c.Weights!.ToBytes());
            var xbar = new CrossbarParams(p.Rows, p.Cols, p.CellBits, p.DacBits, p.AdcBits);
            long[][] codes = [.. Enumerable.Range(0, inputs.Rows).Select(r => GoldenModel.QuantizeInput(c.Quantized!, inputs.Row(r)))];
            long[] flat = [.. codes.SelectMany(x => x)];
            int outLen = program.Output.Len;
            if (program.Period > 1)
            {
                Interlocked.Increment(ref replicated);
            }

            // Ideal crossbars: the batched path, and the reference interpreter on each sample's slot view.
            long[] batched = new FunctionalSimulator(program, weights).RunBatchCodes(flat, inputs.Rows);
            for (int n = 0; n < inputs.Rows; n++)
            {
                long[] golden = GoldenModel.RunCodes(c.Quantized!, xbar, codes[n]);
                Assert.Equal(golden, batched.AsSpan(n * outLen, outLen).ToArray());
                Assert.Equal(golden, new FunctionalSimulator(program.ForSlot(n % program.Period), weights).RunCodes(codes[n]));
            }

            // A non-ideal device: each copy's crossbars are realized at their own sites.
            (DeviceModel device, DeviceParams goldenDevice) = NoisyBitExactnessTests.RandomDevice(seed, p.CellBits);
            long[] noisy = new FunctionalSimulator(program, weights, device).RunBatchCodes(flat, inputs.Rows);
            GoldenChip chip = ChipOf(goldenDevice, c.Placed!);
            bool differs = false;
            for (int n = 0; n < inputs.Rows; n++)
            {
                long[] golden = GoldenModel.RunCodes(c.Quantized!, xbar, codes[n], chip, n);
                Assert.Equal(golden, noisy.AsSpan(n * outLen, outLen).ToArray());
                differs |= !golden.SequenceEqual(GoldenModel.RunCodes(c.Quantized!, xbar, codes[n]));
            }

            if (differs)
            {
                Interlocked.Increment(ref perturbed);
            }
        }, iter: 40, threads: 1);

        // Enough draws must replicate and change results on their device, or the property says little.
        // The smallest budgets leave no room for a copy, so some draws do not replicate: of 25 draws,
        // 14 replicated in one run; 40 draws keep the guard without depending on a lucky sample.
        Assert.InRange(replicated, 15, 40);
        Assert.InRange(perturbed, 10, 40);
    }

    [Fact]
    public void The_copy_that_serves_a_sample_is_the_one_the_rule_names_so_a_wrong_rule_fails()
    {
        // A device whose copies differ; the golden model with replica (n + 1) mod k instead of n mod k must disagree somewhere.
        BitExactnessTests.DesignPoint p = BitExactnessTests.DesignPoint.From(11, maxWidth: 40) with { Rows = 16, Cols = 16 };
        Architecture arch = p.Architecture() with { Core = p.Architecture().Core with { Crossbars = 2 } };
        (Graph graph, NdArray calibration, NdArray inputs) = p.Network();
        Compilation c = Compiler.Compile(graph, arch, p.Options(), calibration, CompileStage.Asm,
            new CompileSettings { Replication = ReplicationChoice.Max, ReplicationBudget = new ReplicationBudget(Fraction: 0.01) });
        int period = c.Program!.Period;
        Assert.True(period > 1, "the max search must replicate on this chip");
        var device = new DeviceModel(Variation: 0.3, Seed: 5);
        var goldenDevice = new DeviceParams(0.3, false, 0, 0, 0, 0, 5);
        var xbar = new CrossbarParams(p.Rows, p.Cols, p.CellBits, p.DacBits, p.AdcBits);
        long[] codes = GoldenModel.QuantizeInput(c.Quantized!, inputs.Row(0));
        long[] batch = [.. Enumerable.Repeat(codes, period).SelectMany(x => x)];
        long[] simulated = new FunctionalSimulator(c.Program, c.Weights!, device).RunBatchCodes(batch, period);
        GoldenChip chip = ChipOf(goldenDevice, c.Placed!);
        int outLen = c.Program.Output.Len;
        bool shiftedDisagrees = false;
        for (int n = 0; n < period; n++)
        {
            long[] sample = simulated.AsSpan(n * outLen, outLen).ToArray();
            Assert.Equal(GoldenModel.RunCodes(c.Quantized!, xbar, codes, chip, n), sample);
            shiftedDisagrees |= !GoldenModel.RunCodes(c.Quantized!, xbar, codes, chip, n + 1).SequenceEqual(sample);
        }

        Assert.True(shiftedDisagrees, "the copies must compute differently, or this test checks nothing");
    }

    [Fact]
    public void Simulated_throughput_of_replicated_streams_never_exceeds_the_bound_and_sample_zero_runs_as_without_replication()
    {
        int replicated = 0;
        Gen.Int[0, int.MaxValue].Sample(seed =>
        {
            var rng = new Random(seed);
            Architecture arch = TimingBoundTests.RandomChip(rng);
            int[] widths = [.. Enumerable.Range(0, rng.Next(2, 5)).Select(_ => rng.Next(1, 160))];
            var options = Compiler.OptionsFor(arch) with { WeightBits = rng.Next(2, 9), ActivationBits = rng.Next(2, 9) };
            Func<Op>? activation = rng.Next(3) switch { 0 => () => new Relu(), 1 => () => new Sigmoid(), _ => null };
            var settings = new CompileSettings
            {
                Level = rng.Next(2) == 0 ? OptLevel.O0 : OptLevel.O2,
                Replication = rng.Next(2) == 0 ? ReplicationChoice.Balance : ReplicationChoice.Max,
                ReplicationBudget = new ReplicationBudget(Fraction: new[] { 0.3, 0.6, 1.0 }[rng.Next(3)]),
            };
            Compilation c, plain;
            try
            {
                c = PerformanceFixtures.Compile(settings, arch, options, seed, activation, widths);
                plain = PerformanceFixtures.Compile(settings with { Replication = ReplicationChoice.None }, arch, options, seed, activation, widths);
            }
            catch (CimcException)
            {
                return; // a network this chip cannot hold
            }

            int period = c.Program!.Period;
            int batch = rng.Next(1, (3 * period) + 2);
            PerformanceReport r = PerformanceFixtures.Evaluate(c, batch);
            Assert.True(r.ThroughputPerS <= r.UpperBoundThroughputPerS * (1 + 1e-9),
                $"seed {seed}: throughput {r.ThroughputPerS} > bound {r.UpperBoundThroughputPerS} ({r.UpperBoundThroughputLimit}), period {period}, batch {batch} on {TimingBoundTests.Describe(arch)}");
            Assert.True(r.LatencyNs >= r.LowerBoundLatencyNs * (1 - 1e-9), $"seed {seed}: latency {r.LatencyNs} < bound {r.LowerBoundLatencyNs}");

            // Linear placement keeps the replicas 0 on the unreplicated cores: one sample takes as long.
            Assert.Equal(PerformanceFixtures.Evaluate(plain).LatencyNs, r.LatencyNs, 6);
            if (period > 1)
            {
                Interlocked.Increment(ref replicated);
            }
        }, iter: 40, threads: 1);

        Assert.InRange(replicated, 12, 40); // most chips that hold the network have room for copies
    }

    [Fact]
    public void A_replicated_program_round_trips_through_program_bin_version_4_and_its_assembly()
    {
        BitExactnessTests.DesignPoint p = BitExactnessTests.DesignPoint.From(3, maxWidth: 40) with { Rows = 16, Cols = 16 };
        (Graph graph, NdArray calibration, _) = p.Network();
        Compilation c = Compiler.Compile(graph, p.Architecture(), p.Options(), calibration, CompileStage.Asm,
            new CompileSettings { Replication = ReplicationChoice.Max, ReplicationBudget = new ReplicationBudget(Crossbars: 200) });
        ProgramImage program = c.Program!;
        Assert.True(program.Period > 1);
        byte[] bytes = program.ToBytes();
        Assert.Equal(ProgramImage.ReplicatedVersion, BitConverter.ToInt32(bytes, 8));
        Assert.Equal(program, ProgramImage.FromBytes(bytes));
        string asm = Disassembler.Disassemble(program);
        Assert.Contains(".slot 1 input_tile=", asm);
        Assert.Contains(".sample 1", asm);
        Assert.Equal(program, Assembler.Assemble(asm));

        // Without replication the bytes are version 3, as before.
        Compilation plain = Compiler.Compile(graph, p.Architecture(), p.Options(), calibration);
        Assert.Equal(ProgramImage.Version, BitConverter.ToInt32(plain.Program!.ToBytes(), 8));
        Assert.Equal(1, plain.Program.Period);

        // A section naming a slot outside the period is refused in one line.
        var e = Assert.Throws<CimcException>(() => Assembler.Assemble(asm.Replace(".sample 1\n", $".sample {program.Period}\n")));
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Summary_and_passes_record_the_replicas_period_and_the_estimate()
    {
        BitExactnessTests.DesignPoint p = BitExactnessTests.DesignPoint.From(3, maxWidth: 40) with { Rows = 16, Cols = 16 };
        (Graph graph, NdArray calibration, _) = p.Network();
        Compilation c = Compiler.Compile(graph, p.Architecture(), p.Options(), calibration, CompileStage.Asm,
            new CompileSettings { Replication = ReplicationChoice.Balance, ReplicationBudget = new ReplicationBudget(Crossbars: 100) });
        CompileSummary s = c.Summary();
        AppliedPass replicate = Assert.Single(c.Passes, x => x.Name == "replicate-minmax");
        Assert.Equal(s.Layers.Select(l => l.Replicas), replicate.Replicas!.Value);
        Assert.True(replicate.EstimatedInferencesPerSecond > 0);
        Assert.Equal(c.Mapped!.Period, s.Period);
        Assert.True(s.ReplicatedCrossbars <= 100 || s.Period == 1);
        Assert.All(s.Layers, l => Assert.Equal(l.Replicas - 1, l.ReplicaCores.Length));
    }
}

/// <summary>The replica-count searches on hand-made layer loads.</summary>
public sealed class ReplicationSearchTests
{
    [Fact]
    public void Minmax_finds_the_least_slowest_stage_that_fits_as_exhaustive_search_does()
    {
        Gen.Int[0, int.MaxValue].Sample(seed =>
        {
            var rng = new Random(seed);
            var loads = Enumerable.Range(0, rng.Next(1, 4)).Select(_ => new LayerLoad(rng.Next(1, 50), rng.Next(1, 6))).ToList();
            int budget = loads.Sum(l => l.Crossbars) * rng.Next(1, 6);
            ImmutableArray<int> k = Replication.MinMax(loads, budget);
            Assert.True(loads.Select((l, i) => l.Crossbars * k[i]).Sum() <= budget);
            Assert.True(Replication.Period(k) <= Replication.MaxPeriod);

            // Every count vector up to 8 copies a layer that fits: none has a shorter slowest stage.
            double best = double.MaxValue;
            foreach (int[] c in Vectors(loads.Count, 8))
            {
                if (loads.Select((l, i) => l.Crossbars * c[i]).Sum() <= budget && Replication.Period(c) <= Replication.MaxPeriod)
                {
                    best = Math.Min(best, Replication.Stage(loads, c));
                }
            }

            Assert.True(Replication.Stage(loads, k) <= best + 1e-9, $"seed {seed}: minmax {Replication.Stage(loads, k)} vs exhaustive {best}");
            ImmutableArray<int> g = Replication.Greedy(loads, budget);
            Assert.True(loads.Select((l, i) => l.Crossbars * g[i]).Sum() <= budget);
            Assert.True(Replication.Stage(loads, g) >= Replication.Stage(loads, k) - 1e-9);
        }, iter: 200);
    }

    [Fact]
    public void Equal_layers_get_equal_copies_from_minmax_while_greedy_stops_at_the_period_cap()
    {
        var loads = Enumerable.Repeat(new LayerLoad(10, 1), 4).ToList();
        Assert.Equal(new[] { 8, 8, 8, 8 }, Replication.MinMax(loads, 32).ToArray());
        Assert.Equal(new[] { 8, 8, 8, 8 }, Replication.Max(loads, 35).ToArray());
        Assert.Equal(new[] { 4, 4, 4, 4 }, Replication.Greedy(loads, 32).ToArray()); // 5,4,4,4 would have period 20
        Assert.Equal(new[] { 1, 1, 1, 1 }, Replication.MinMax(loads, 3).ToArray()); // the budget does not even hold one copy each
        Assert.Equal(new ReplicationBudget(Crossbars: 512), ReplicationBudget.Parse("512"));
        Assert.Equal(0.25, ReplicationBudget.Parse("0.25").Fraction);
        Assert.Equal("bad-option", Assert.Throws<CimcException>(() => ReplicationBudget.Parse("1.5")).Diagnostic.Code);
    }

    private static IEnumerable<int[]> Vectors(int n, int max) =>
        n == 0 ? [[]] : Vectors(n - 1, max).SelectMany(v => Enumerable.Range(1, max).Select(k => (int[])[.. v, k]));
}
