using Cimc.Architectures;
using Cimc.Data;
using Cimc.Import;
using Cimc.Mapping;
using Cimc.Passes;
using Cimc.Performance;
using Cimc.Placement;
using Cimc.Quantization;
using Cimc.Simulation;
using Cimc.Tests.Golden;
using Cimc.Tests.Performance;
using CsCheck;

namespace Cimc.Tests.Compile;

/// <summary>
/// Replicated convolutions (window splitting, docs/isa.md "Replicated convolutions"): copy c of a
/// layer with k copies computes the output pixels x mod k = c of every row. With ideal devices the
/// golden model's outputs are those of the unreplicated network, so programs with random copy
/// counts must equal it bit for bit in both simulators, on roomy and on ring-buffer tiles.
/// </summary>
public sealed class GraphReplicationTests
{
    /// <summary>Random copies per convolution (1 to 4, at most its output width); dense layers keep one.</summary>
    internal static Func<MappedModel, MappedModel> RandomCopies(int seed) => mapped =>
    {
        var rng = new Random(seed);
        QuantizedGraph graph = mapped.Model.Graph!;
        return Replication.Apply(mapped, [.. mapped.Layers.Select((_, l) => graph.NodeOf(l) is { Conv: not null } n ? rng.Next(1, Math.Min(4, n.Shape.Width) + 1) : 1)]);
    };

    [Fact]
    public void Random_graphs_with_replicated_convolutions_match_the_golden_model()
    {
        int replicated = 0;
        Gen.Select(RandomGraphs.Cases(), Gen.Bool, Gen.Int[0, int.MaxValue]).Sample(t =>
        {
            (GraphCase c, bool tree, int seed) = t;
            Func<MappedModel, MappedModel> copies = RandomCopies(seed);
            Architecture arch = GraphBitExactnessTests.ChipFor(c, replicate: copies);
            replicated += copies(CrossbarMapper.Map(c.Model, Compiler.Geometry(arch))).Layers.Any(l => l.Replicas > 1) ? 1 : 0;
            GraphBitExactnessTests.AssertGolden(c, arch, new Lowering(false, tree) { BiasFirst = true }, replicate: copies);
        }, iter: 30, threads: 1);
        Assert.True(replicated >= 15, $"only {replicated} of 30 draws replicated a convolution");
    }

    /// <summary>On tiles just large enough (the buffer the refusal names), where maps become rings read by every copy.</summary>
    [Fact]
    public void Random_graphs_with_replicated_convolutions_in_ring_buffers_match_the_golden_model()
    {
        int rings = 0;
        Gen.Select(RandomGraphs.Cases(), Gen.Int[4, 8], Gen.Int[0, int.MaxValue]).Sample(t =>
        {
            (GraphCase c, int coresPerTile, int seed) = t;
            Func<MappedModel, MappedModel> copies = RandomCopies(seed);
            Lowering lowering = new(false, true) { BiasFirst = true };
            var e = Assert.Throws<Cimc.Diagnostics.CimcException>(() => GraphBitExactnessTests.Compile(c.Model,
                GraphBitExactnessTests.ChipFor(c, coresPerTile, 8 * TileSpec.BytesPerWord, replicate: copies), lowering, copies));
            System.Text.RegularExpressions.Match m = System.Text.RegularExpressions.Regex.Match(e.Message, @"tile buffers hold (\d+) words");
            Assert.True(m.Success, e.Message);
            rings += e.Message.Contains(" rows)", StringComparison.Ordinal) ? 1 : 0;
            int words = int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            GraphBitExactnessTests.AssertGolden(c, GraphBitExactnessTests.ChipFor(c, coresPerTile, words * TileSpec.BytesPerWord, replicate: copies), lowering, replicate: copies);
        }, iter: 30, threads: 1);
        Assert.True(rings >= 4, $"only {rings} of 30 draws held a map in a ring");
    }

    /// <summary>
    /// PIMCOMP's greedy over windows: LeNet-like loads (conv1 784 windows of 28 columns, conv2 100 of
    /// 10, a dense layer). conv1 gets one copy per column (28 windows each); conv2 then has the
    /// slowest copies (10 x ceil(10 / k) window-times) until k = 5 (20 < 28); counts in between that do
    /// not shorten a copy (conv2 from 5 to 9) are skipped; the dense layer never gets copies.
    /// </summary>
    [Fact]
    public void Window_greedy_balances_copies_by_windows_per_copy_under_the_budget()
    {
        LayerLoad[] loads = [new(784, 4), new(100, 8), new(1, 2)];
        int[] widths = [28, 10, 1];
        Assert.Equal(new[] { 28, 5, 1 }, Replication.WindowGreedy(loads, widths, budget: 10_000).ToArray());
        Assert.Equal(28.0, Replication.WindowStage(loads, widths, [28, 5, 1]), 9);

        // A budget one crossbar short of conv1's step from 14 to 28 copies: on the way conv1 reached
        // 3 columns a copy (84 window-times), conv2 (100) took a second copy (50), conv1 went to 14
        // copies (56), and there it stops.
        Assert.Equal(new[] { 14, 2, 1 }, Replication.WindowGreedy(loads, widths, budget: (14 * 4) + (2 * 8) + 2 + (14 * 4) - 1).ToArray());
        Assert.Equal(new[] { 1, 1, 1 }, Replication.WindowGreedy(loads, widths, budget: 14).ToArray());

        // The slowest layer a dense one: nothing to split, so nothing is copied.
        Assert.Equal(new[] { 1, 1 }, Replication.WindowGreedy([new(784, 4), new(1000, 2)], [28, 1], budget: 10_000).ToArray());

        // max: every convolution the same count, at most its width.
        Assert.Equal(new[] { 10, 10, 1 }, Replication.WindowMax(loads, widths, budget: (10 * 4) + (10 * 8) + 2).ToArray());
        Assert.Equal(new[] { 28, 10, 1 }, Replication.WindowMax(loads, widths, budget: 10_000).ToArray());
    }

    /// <summary>
    /// LeNet on ISAAC at 8/8 bits with `--replication balance`: conv1 gets 28 copies and conv2 5, the
    /// program keeps period 1, equals the golden model, and its latency beats conv1's 784 windows on
    /// one crossbar (what no unreplicated program can).
    /// </summary>
    [Fact]
    public void LeNet_on_isaac_with_balanced_copies_splits_windows_and_matches_the_golden_model()
    {
        Architecture isaac = ArchitectureCatalog.Preset("isaac");
        string dir = Path.Combine(TestPaths.Examples, "fashion-mnist");
        NdArray images = Npy.Read(Path.Combine(dir, "calibration.npy"));
        Compilation c = Compiler.Compile(ModelLoader.Load(Path.Combine(dir, "lenet.onnx")), isaac, Compiler.OptionsFor(isaac, 8, 8), images.Take(64),
            settings: CompileSettings.Default with { Replication = ReplicationChoice.Balance });
        Assert.Equal(new[] { 28, 5, 1, 1, 1 }, c.Mapped!.Layers.Select(l => l.Replicas).ToArray());
        Assert.Equal(1, c.Program!.Period);

        QuantizedModel model = c.Quantized!;
        var xbar = new CrossbarParams(isaac.Core.Crossbar.Rows, isaac.Core.Crossbar.Cols, isaac.Core.Crossbar.CellBits, isaac.Core.Dac.Bits, isaac.Core.Adc.Bits);
        var sim = new FunctionalSimulator(c.Program, c.Weights!);
        for (int s = 0; s < 3; s++)
        {
            long[] codes = GoldenGraph.QuantizeInput(model, images.Row(s));
            Assert.Equal(GoldenGraph.RunCodes(model, xbar, codes), sim.RunCodes(codes));
        }

        PerformanceReport r = PerformanceFixtures.Evaluate(c, 16);
        Assert.True(r.LatencyNs < 784 * 8 * 100.0, $"latency {r.LatencyNs} ns");
        Assert.True(r.LatencyNs >= r.LowerBoundLatencyNs && r.LowerBoundLatencyNs >= r.MvmSequenceBoundNs);
        Assert.True(r.ThroughputPerS <= r.UpperBoundThroughputPerS);
    }

    /// <summary>
    /// The replicate passes' check that copies leave the maps room (<see cref="Codegen.GraphCodeGenerator.MapsFit"/>)
    /// says exactly what the schedule does: on tiles of a half, three quarters or all of the buffer
    /// the unreplicated network needs, random copies fit when, and only when, the program compiles
    /// without a tile-buffer refusal.
    /// </summary>
    [Fact]
    public void The_maps_fit_check_agrees_with_the_schedules_refusal()
    {
        (int fit, int refused) = (0, 0);
        Gen.Select(RandomGraphs.Cases(), Gen.Int[0, int.MaxValue]).Sample(t =>
        {
            (GraphCase c, int seed) = t;
            Func<MappedModel, MappedModel> copies = RandomCopies(seed);
            Lowering lowering = new(false, true);
            var e = Assert.Throws<Cimc.Diagnostics.CimcException>(() => GraphBitExactnessTests.Compile(c.Model, GraphBitExactnessTests.ChipFor(c, 4, 8 * TileSpec.BytesPerWord), lowering));
            int words = int.Parse(System.Text.RegularExpressions.Regex.Match(e.Message, @"tile buffers hold (\d+) words").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            Architecture arch = GraphBitExactnessTests.ChipFor(c, 4, Math.Max(1, words * (2 + (seed % 3)) / 4) * TileSpec.BytesPerWord, replicate: copies);
            CrossbarGeometry g = Compiler.Geometry(arch);
            MappedModel mapped = copies(Codegen.CoreCrossbars.Choose(CrossbarMapper.Map(c.Model, g), arch.Core.Crossbars, arch.Core.LocalMemoryWords, Math.Max(g.Rows, g.Cols)));
            bool fits = Codegen.GraphCodeGenerator.MapsFit(Placer.Place(mapped, Compiler.Shape(arch)), Compiler.Header(arch));
            Cimc.Diagnostics.CimcException? refusal = Record.Exception(() => GraphBitExactnessTests.Compile(c.Model, arch, lowering, copies)) as Cimc.Diagnostics.CimcException;
            Assert.Equal(fits, refusal is null || !refusal.Message.Contains(" buffer: needs ", StringComparison.Ordinal));
            _ = fits ? fit++ : refused++;
        }, iter: 30, threads: 1);
        Assert.True(fit > 0 && refused > 0, $"{fit} draws fit and {refused} did not: both sides should be seen");
    }
}
