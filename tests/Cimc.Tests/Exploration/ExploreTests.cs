using Cimc.Architectures;
using Cimc.Data;
using Cimc.Exploration;
using Cimc.Import;
using Cimc.Ir;
using Cimc.Reporting;
using Cimc.Simulation.Devices;
using Cimc.Tests.Cli;

namespace Cimc.Tests.Exploration;

public sealed class ExploreTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cimc-dse-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Example(string name) => Path.Combine(TestPaths.Examples, "fashion-mnist", name);

    private static readonly Graph Model = ModelLoader.Load(Example("mlp.onnx"), new ImportOptions(null));

    private static readonly NdArray Calibration = DataFiles.ReadArray(Example("calibration.npy"));

    private const string TwelvePoints = """{ "arch": "isaac", "params": { "core.crossbar.rows": [64, 128, 256], "core.adc.bits": [4, 8], "weight-bits": [4, 8], "activation-bits": [8] } }""";

    private string Db(string name) => Path.Combine(_dir, name);

    private static ExploreSettings Grid(Shard? shard = null, int jobs = 2) =>
        new(SearchStrategy.Grid, Objective.Defaults(false), Jobs: jobs, Shard: shard);

    private static ExploreSummary RunInto(string db, DesignSpace space, ExploreSettings settings, Func<DesignPoint, PointResult>? evaluate = null, CancellationToken cancel = default)
    {
        using ResultStore store = ResultStore.Open(db);
        store.Claim(Study.MetaFor(space, "mlp.onnx", "hash", "none", 16, settings));
        evaluate ??= new PointEvaluator(Model, Calibration, null, DeviceModel.Ideal, 16).Evaluate;
        return Explorer.Run(space, evaluate, store, settings, null, cancel);
    }

    private static List<PointResult> Rows(string db)
    {
        using ResultStore store = ResultStore.Open(db);
        return store.All();
    }

    [Fact]
    public void A_run_cancelled_mid_way_and_started_again_ends_with_exactly_the_rows_of_an_uninterrupted_run()
    {
        DesignSpace space = DesignSpace.Parse(TwelvePoints);
        RunInto(Db("whole.db"), space, Grid());

        using var cancel = new CancellationTokenSource();
        var evaluator = new PointEvaluator(Model, Calibration, null, DeviceModel.Ideal, 16);
        int calls = 0;
        PointResult Interrupting(DesignPoint p)
        {
            if (Interlocked.Increment(ref calls) == 5)
            {
                cancel.Cancel();
            }

            return evaluator.Evaluate(p);
        }

        ExploreSummary first = RunInto(Db("resumed.db"), space, Grid(), Interrupting, cancel.Token);
        Assert.True(first.Cancelled);
        int kept = Rows(Db("resumed.db")).Count;
        Assert.InRange(kept, 5, 11);

        ExploreSummary second = RunInto(Db("resumed.db"), space, Grid());
        Assert.False(second.Cancelled);
        Assert.Equal(kept, second.Reused);
        Assert.Equal(12 - kept, second.Evaluated);
        Assert.Equal(Rows(Db("whole.db")), Rows(Db("resumed.db")));
        Assert.Contains(Rows(Db("whole.db")), r => r.Valid);
        Assert.Contains(Rows(Db("whole.db")), r => !r.Valid); // some do not fit isaac's core memory
    }

    [Fact]
    [Trait("tier", "slow")] // compiles and prices 24 to 36 points
    public void Shards_merged_equal_the_unsharded_run_and_a_point_is_stored_once()
    {
        DesignSpace space = DesignSpace.Parse(TwelvePoints);
        RunInto(Db("whole.db"), space, Grid());
        RunInto(Db("s0.db"), space, Grid(new Shard(0, 2), jobs: 1));
        RunInto(Db("s1.db"), space, Grid(new Shard(1, 2), jobs: 1));
        Assert.Equal(6, Rows(Db("s0.db")).Count);
        Assert.Empty(Rows(Db("s0.db")).Select(r => r.Key).Intersect(Rows(Db("s1.db")).Select(r => r.Key)));

        using (ResultStore merged = ResultStore.Open(Db("merged.db")))
        {
            Assert.Equal(6, merged.Merge(Db("s0.db")));
            Assert.Equal(6, merged.Merge(Db("s1.db")));
            Assert.Equal(0, merged.Merge(Db("s1.db")));
            Assert.Equal("hash", merged.Meta()["model_hash"]);
        }

        Assert.Equal(Rows(Db("whole.db")), Rows(Db("merged.db")));
    }

    [Fact]
    [Trait("tier", "slow")] // compiles and prices 24 to 36 points
    public void A_database_of_another_study_is_refused_for_runs_and_merges()
    {
        RunInto(Db("a.db"), DesignSpace.Parse(TwelvePoints), Grid());
        DesignSpace other = DesignSpace.Parse("""{ "arch": "puma", "params": { "core.adc.bits": [6] } }""");
        var e = Assert.Throws<Diagnostics.CimcException>(() => RunInto(Db("a.db"), other, Grid()));
        Assert.Contains("space differs", e.Message);
        RunInto(Db("b.db"), other, Grid());
        using ResultStore store = ResultStore.Open(Db("b.db"));
        Assert.Throws<Diagnostics.CimcException>(() => store.Merge(Db("a.db")));
    }

    [Fact]
    public void Invalid_values_and_unknown_options_are_recorded_with_their_reason_and_do_not_stop_the_run()
    {
        DesignSpace space = DesignSpace.Parse("""{ "arch": "isaac", "params": { "core.crossbar.rows": [128, 0], "core.adc.bitz": [8], "unrolling": [2] } }""");
        ExploreSummary s = RunInto(Db("bad.db"), space, Grid());
        Assert.Equal(2, s.Invalid);
        List<PointResult> rows = Rows(Db("bad.db"));
        Assert.All(rows, r => Assert.False(r.Valid));
        // The architecture keys are read first, exactly as a file: the typo is named.
        Assert.All(rows, r => Assert.Contains("bitz", r.Reason));

        DesignSpace options = DesignSpace.Parse("""{ "arch": "isaac", "params": { "core.crossbar.rows": [128, 0], "unrolling": [2, 4] } }""");
        RunInto(Db("opt.db"), options, Grid());
        List<PointResult> optionRows = Rows(Db("opt.db"));
        Assert.Equal(4, optionRows.Count);
        Assert.Equal(2, optionRows.Count(r => r.Reason!.Contains("core.crossbar.rows", StringComparison.Ordinal)));
        Assert.Equal(2, optionRows.Count(r => r.Reason!.Contains("unknown option '--unrolling'", StringComparison.Ordinal)));
    }

    [Fact]
    public void Dotted_keys_change_the_architecture_and_option_names_change_the_quantization()
    {
        DesignSpace space = DesignSpace.Parse("""{ "arch": "isaac", "params": { "core.crossbar.rows": [64], "tile.cores": [6], "weight-bits": [4], "adc-range": ["full"], "granularity": ["per-tensor"], "conv-mapping": ["per-position"] } }""");
        PointSettings s = PointSettings.Of(space.PointAt(0), DeviceModel.Ideal);
        Assert.Equal(Cimc.Quantization.ConvMapping.PerPosition, s.Options.ConvMapping);
        Assert.Equal(64, s.Arch.Core.Crossbar.Rows);
        Assert.Equal(6, s.Arch.Tile.Cores);
        Assert.Equal(4, s.Options.WeightBits);
        Assert.Equal(Cimc.Quantization.AdcRange.Full, s.Options.AdcRange);
        Assert.Equal(Cimc.Quantization.Granularity.PerTensor, s.Options.Granularity);
        Assert.Equal(space.BaseArch.DefaultPrecision.ActivationBits, s.Options.ActivationBits);

        // An object sets several keys together (a square crossbar), leaving the others as they were.
        DesignSpace square = DesignSpace.Parse("""{ "arch": "isaac", "params": { "core.crossbar": [{"rows": 64, "cols": 32}] } }""");
        Architecture arch = PointSettings.Of(square.PointAt(0), DeviceModel.Ideal).Arch;
        Assert.Equal((64, 32, square.BaseArch.Core.Crossbar.CellBits), (arch.Core.Crossbar.Rows, arch.Core.Crossbar.Cols, arch.Core.Crossbar.CellBits));
    }

    [Fact]
    public void Compiler_options_in_a_space_choose_the_pass_pipeline_of_each_point()
    {
        DesignSpace space = DesignSpace.Parse("""{ "arch": "isaac", "params": { "opt-level": ["0", "2"], "placement": ["linear"], "placement-seed": [3] } }""");
        PointSettings o0 = PointSettings.Of(space.PointAt(0), DeviceModel.Ideal), o2 = PointSettings.Of(space.PointAt(1), DeviceModel.Ideal);
        Assert.Equal((Cimc.Passes.OptLevel.O0, Cimc.Passes.PlacementChoice.Linear, 3), (o0.Compile.Level, o0.Compile.Placement, o0.Compile.Seed));
        Assert.Equal(Cimc.Passes.OptLevel.O2, o2.Compile.Level);

        // -O0 chains partial sums and sends directly (docs/optimizations.md): on the shipped model
        // it is slower for one inference than -O2 on isaac, so the two points must differ.
        var evaluator = new PointEvaluator(Model, Calibration, null, DeviceModel.Ideal, 16);
        PointResult slow = evaluator.Evaluate(space.PointAt(0)), fast = evaluator.Evaluate(space.PointAt(1));
        Assert.True(slow.Valid && fast.Valid, slow.Reason ?? fast.Reason);
        Assert.True(slow.LatencyNs > fast.LatencyNs, $"-O0 {slow.LatencyNs} ns vs -O2 {fast.LatencyNs} ns");

        DesignSpace bad = DesignSpace.Parse("""{ "arch": "isaac", "params": { "placement": ["sideways"] } }""");
        PointResult r = evaluator.Evaluate(bad.PointAt(0));
        Assert.False(r.Valid);
        Assert.Contains("not a placement", r.Reason);
    }

    [Fact]
    public void Replication_in_a_space_copies_layers_and_streams_faster_and_a_bad_value_makes_the_point_invalid()
    {
        DesignSpace space = DesignSpace.Parse("""{ "arch": "isaac", "params": { "replication": ["none", "balance"], "replication-budget": ["0.05"] } }""");
        PointSettings none = PointSettings.Of(space.PointAt(0), DeviceModel.Ideal), balance = PointSettings.Of(space.PointAt(1), DeviceModel.Ideal);
        Assert.Equal(Cimc.Mapping.ReplicationChoice.None, none.Compile.Replication);
        Assert.Equal((Cimc.Mapping.ReplicationChoice.Balance, 0.05), (balance.Compile.Replication, balance.Compile.ReplicationBudget.Fraction));

        var evaluator = new PointEvaluator(Model, Calibration, null, DeviceModel.Ideal, 16);
        PointResult plain = evaluator.Evaluate(space.PointAt(0)), copied = evaluator.Evaluate(space.PointAt(1));
        Assert.True(plain.Valid && copied.Valid, plain.Reason ?? copied.Reason);
        Assert.True(copied.CrossbarsUsed > plain.CrossbarsUsed, $"{copied.CrossbarsUsed} vs {plain.CrossbarsUsed} crossbars");
        Assert.True(copied.ThroughputPerS > plain.ThroughputPerS, $"{copied.ThroughputPerS} vs {plain.ThroughputPerS} /s at batch 16");

        DesignSpace bad = DesignSpace.Parse("""{ "arch": "isaac", "params": { "replication": ["lots"] } }""");
        PointResult r = evaluator.Evaluate(bad.PointAt(0));
        Assert.False(r.Valid);
        Assert.Contains("not a replication", r.Reason);
    }

    [Fact]
    public void Per_layer_bits_set_one_layer_and_a_layer_the_model_lacks_makes_the_point_invalid()
    {
        DesignSpace space = DesignSpace.Parse("""{ "arch": "isaac", "params": { "weight-bits": [8], "weight-bits@0": [4], "activation-bits@/2/Gemm": [6], "weight-bits@fc9": [4] } }""");
        PointSettings s = PointSettings.Of(space.PointAt(0), DeviceModel.Ideal);
        Assert.Equal((4, s.Options.ActivationBits), s.Options.BitsFor(0, "/0/Gemm"));
        Assert.Equal((8, 6), s.Options.BitsFor(1, "/2/Gemm"));
        PointResult r = new PointEvaluator(Model, Calibration, null, DeviceModel.Ideal, 16).Evaluate(space.PointAt(0));
        Assert.False(r.Valid);
        Assert.Contains("no layer 'fc9'", r.Reason);

        DesignSpace ok = DesignSpace.Parse("""{ "arch": "isaac", "params": { "weight-bits": [8], "activation-bits": [8], "weight-bits@1": [4, 8] } }""");
        var evaluator = new PointEvaluator(Model, Calibration, null, DeviceModel.Ideal, 16);
        PointResult low = evaluator.Evaluate(ok.PointAt(0)), high = evaluator.Evaluate(ok.PointAt(1));
        Assert.True(low.Valid && high.Valid);
        Assert.True(low.CrossbarsUsed < high.CrossbarsUsed, $"{low.CrossbarsUsed} vs {high.CrossbarsUsed}");
    }

    [Fact]
    public void Accuracy_is_shared_between_points_that_differ_only_in_tiles_and_equals_a_fresh_evaluation()
    {
        NdArray x = DataFiles.ReadArray(Example("sample.npy"));
        Labels y = DataFiles.ReadLabels(Example("sample_labels.npy"));
        DesignSpace space = DesignSpace.Parse("""{ "arch": "isaac", "params": { "tile.cores": [6, 12], "core.adc.bits": [4, 8], "weight-bits": [8], "activation-bits": [8] } }""");
        var shared = new PointEvaluator(Model, Calibration, new LabelledSet(x, y), DeviceModel.Ideal, 16);
        List<PointResult> results = [.. Enumerable.Range(0, 4).Select(i => shared.Evaluate(space.PointAt(i)))];
        Assert.All(results, r => Assert.True(r.Valid, r.Reason));
        Assert.Equal(2, shared.AccuracyCacheHits);
        for (int i = 0; i < 4; i++)
        {
            var fresh = new PointEvaluator(Model, Calibration, new LabelledSet(x, y), DeviceModel.Ideal, 16);
            Assert.Equal(fresh.Evaluate(space.PointAt(i)).Accuracy, results[i].Accuracy);
        }

        // 4-bit ADCs lose accuracy against 8-bit ones on this model: the objective is measured, not copied.
        Assert.NotEqual(results[0].Accuracy, results[1].Accuracy);
    }

    [Fact]
    public void Nsga2_restarted_after_a_cancel_ends_with_the_rows_of_an_uninterrupted_run()
    {
        DesignSpace space = DesignSpace.Parse("""{ "arch": "isaac", "params": { "x": [0,1,2,3,4,5,6,7,8,9], "y": [0,1,2,3,4,5,6,7,8,9] } }""");
        PointResult Fake(DesignPoint p) => new(p.Key, p.Canonical(), true, null, LatencyNs: p.Genes[0], EnergyNj: (1 + p.Genes[1]) * (10.0 - p.Genes[0]), AreaMm2: 1);
        var settings = new ExploreSettings(SearchStrategy.Nsga2, Objective.Defaults(false), Budget: 60, Seed: 5, PopulationSize: 12);
        RunInto(Db("whole.db"), space, settings, Fake);
        using var cancel = new CancellationTokenSource();
        int calls = 0;
        RunInto(Db("resumed.db"), space, settings, p =>
        {
            if (++calls == 30)
            {
                cancel.Cancel();
            }

            return Fake(p);
        }, cancel.Token);
        Assert.InRange(Rows(Db("resumed.db")).Count, 12, 59);
        RunInto(Db("resumed.db"), space, settings, Fake);
        Assert.Equal(60, Rows(Db("whole.db")).Count);
        Assert.Equal(Rows(Db("whole.db")), Rows(Db("resumed.db")));
    }

    [Fact]
    public void Nsga2_shards_are_islands_with_their_share_of_the_budget_whose_databases_merge()
    {
        DesignSpace space = DesignSpace.Parse("""{ "arch": "isaac", "params": { "x": [0,1,2,3,4,5,6,7,8,9], "y": [0,1,2,3,4,5,6,7,8,9] } }""");
        PointResult Fake(DesignPoint p) => new(p.Key, p.Canonical(), true, null, LatencyNs: p.Genes[0], EnergyNj: (1 + p.Genes[1]) * (10.0 - p.Genes[0]), AreaMm2: 1);
        ExploreSettings Island(int i) => new(SearchStrategy.Nsga2, Objective.Defaults(false), Budget: 41, Seed: 3, Shard: new Shard(i, 2), PopulationSize: 10);
        ExploreSummary a = RunInto(Db("i0.db"), space, Island(0), Fake), b = RunInto(Db("i1.db"), space, Island(1), Fake);
        Assert.Equal((21, 20), (a.Requested, b.Requested));
        Assert.NotEqual(Rows(Db("i0.db")).Select(r => r.Key), Rows(Db("i1.db")).Select(r => r.Key));
        using ResultStore merged = ResultStore.Open(Db("islands.db"));
        merged.Merge(Db("i0.db"));
        merged.Merge(Db("i1.db"));
        Assert.Equal(Rows(Db("i0.db")).Select(r => r.Key).Union(Rows(Db("i1.db")).Select(r => r.Key)).Order(), merged.All().Select(r => r.Key).Order());
    }

    [Fact]
    [Trait("tier", "slow")] // compiles and prices 24 to 36 points
    public void The_reports_front_and_the_csv_pareto_column_are_exactly_the_non_dominated_rows_of_the_database()
    {
        DesignSpace space = DesignSpace.Parse("""{ "arch": "isaac", "params": { "core.crossbar.rows": [64, 128, 256], "core.crossbar.cols": [64, 128], "core.adc.bits": [4, 8], "weight-bits": [4, 8, 0], "activation-bits": [8] } }""");
        RunInto(Db("study.db"), space, Grid());
        using ResultStore store = ResultStore.Open(Db("study.db"));
        Study study = Study.Load(store);
        List<PointResult> valid = [.. store.All().Where(r => r.Valid)];
        Assert.True(valid.Count < store.All().Count); // weight-bits 0 is invalid and must not reach the front
        var expected = valid.Where(r => !valid.Any(o => o.LatencyNs <= r.LatencyNs && o.EnergyNj <= r.EnergyNj && o.AreaMm2 <= r.AreaMm2
            && (o.LatencyNs < r.LatencyNs || o.EnergyNj < r.EnergyNj || o.AreaMm2 < r.AreaMm2))).Select(r => r.Key).ToHashSet();
        Assert.True(expected.SetEquals(study.Front().Select(r => r.Key)));

        string[] lines = study.Csv().TrimEnd().Split('\n');
        int pareto = Array.IndexOf(lines[0].Split(','), "pareto");
        Assert.True(expected.SetEquals(lines.Skip(1).Where(l => l.TrimEnd().EndsWith(",true", StringComparison.Ordinal)).Select(l => l.Split(',')[0])));
        Assert.Equal(pareto, lines[0].Split(',').Length - 1);

        string html = StudyReport.Render(study);
        Assert.Contains($"Pareto front ({expected.Count} points)", html);
        Assert.Equal(3, System.Text.RegularExpressions.Regex.Matches(html, "<svg ").Count); // three pairs of three objectives
        System.Xml.Linq.XDocument.Parse(html.Replace("<!DOCTYPE html>", "", StringComparison.Ordinal));
    }

    [Fact]
    public void Axes_use_1_2_5_ticks_and_a_log_scale_when_values_span_decades()
    {
        Axis linear = Axis.For([12.92, 24.75, 31.0]);
        Assert.False(linear.Log);
        Assert.Equal([15.0, 20, 25, 30], linear.Ticks);
        Axis log = Axis.For([3.0, 40, 5000]);
        Assert.True(log.Log);
        Assert.Equal([5.0, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000], log.Ticks);
        Assert.Equal(0.5, Axis.NiceStep(0.31));
        Assert.Equal(2000, Axis.NiceStep(1234));
    }

    [Fact]
    public void Scatter_plots_label_their_axes_with_the_same_round_ticks()
    {
        // The sweep plot of `cimc accuracy` and the cost trends once labelled 12.92 / 24.75 ...
        string svg = Cimc.Reporting.SvgScatter.Render("t", "x", "y",
            [new(12.92, 0.5, "a", false), new(24.75, 0.61, "b", true), new(31.0, 0.9, "c", false)]);
        var labels = System.Text.RegularExpressions.Regex.Matches(svg, ">([0-9.e+-]+)</text>").Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(["15", "20", "25", "30", "0.5", "0.6", "0.7", "0.8", "0.9"], labels);
    }

    [Fact]
    public void The_command_line_explores_merges_and_reports()
    {
        string space = Path.Combine(_dir, "space.json");
        File.WriteAllText(space, """{ "arch": "isaac", "params": { "core.adc.bits": [4, 8], "weight-bits": [4, 8] } }""");
        string model = Example("mlp.onnx");
        (int exit, string output, string error) = CliRunner.Run("explore", model, "--space", space, "--db", Db("s0.db"), "--shard", "0/2", "--jobs", "1");
        Assert.True(exit == 0, error);
        Assert.Contains("2 points: 2 evaluated", output);
        Assert.Contains("explore [", error);
        Assert.Equal(0, CliRunner.Run("explore", model, "--space", space, "--db", Db("s1.db"), "--shard", "1/2", "--csv", Db("s1.csv")).Exit);
        (exit, output, _) = CliRunner.Run("explore", "merge", Db("all.db"), Db("s0.db"), Db("s1.db"));
        Assert.Equal(0, exit);
        Assert.Contains("4 in all", output);
        (exit, output, _) = CliRunner.Run("explore", "report", Db("all.db"), "-o", Db("study.html"), "--csv", Db("all.csv"));
        Assert.Equal(0, exit);
        Assert.Contains("4 points", output);
        Assert.Equal(5, File.ReadAllLines(Db("all.csv")).Length);

        (exit, _, error) = CliRunner.Run("explore", model, "--space", space, "--db", Db("x.db"), "--constraint", "area<=3");
        Assert.Equal(1, exit);
        Assert.Contains("unknown figure 'area'", error);
        (exit, _, error) = CliRunner.Run("explore", model, "--space", space, "--db", Db("x.db"), "--objectives", "accuracy");
        Assert.Equal(1, exit);
        Assert.Contains("--images", error);
        (exit, _, error) = CliRunner.Run("explore", model, "--space", space, "--shard", "2/2");
        Assert.Equal(1, exit);
        Assert.Single(error.Trim().Split('\n'));
    }
}
