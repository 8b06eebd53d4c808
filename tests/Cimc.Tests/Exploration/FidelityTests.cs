using Cimc.Data;
using Cimc.Exploration;
using Cimc.Import;
using Cimc.Ir;
using Cimc.Performance;
using Cimc.Quantization;
using Cimc.Simulation.Devices;
using Cimc.Tests.Cli;

namespace Cimc.Tests.Exploration;

/// <summary>`cimc explore --fidelity estimate|simulate|auto`, the shared stages and the accuracy cache in the database.</summary>
public sealed class FidelityTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cimc-fidelity-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Example(string name) => Path.Combine(TestPaths.Examples, "fashion-mnist", name);

    private static readonly Graph Model = ModelLoader.Load(Example("mlp.onnx"), new ImportOptions(null));

    private static readonly NdArray Calibration = DataFiles.ReadArray(Example("calibration.npy"));

    private const string Space = """{ "arch": "isaac", "params": { "core.crossbar.rows": [64, 128], "core.adc.bits": [4, 6, 8], "tile.cores": [6, 12], "weight-bits": [4, 8] } }""";

    private string Db(string name) => Path.Combine(_dir, name);

    private static ExploreSettings Settings(Fidelity fidelity) =>
        new(SearchStrategy.Grid, Objective.Defaults(false), Jobs: 2) { Fidelity = fidelity };

    private static ExploreSummary RunInto(string db, DesignSpace space, Fidelity fidelity, PointEvaluator? evaluator = null, CancellationToken cancel = default)
    {
        using ResultStore store = ResultStore.Open(db);
        store.Claim(Study.MetaFor(space, "mlp.onnx", "hash", "none", 16, Settings(fidelity)));
        evaluator ??= new PointEvaluator(Model, Calibration, null, DeviceModel.Ideal, 16);
        return Explorer.Run(space, evaluator.Estimate, evaluator.Simulate, store, Settings(fidelity), null, cancel);
    }

    private static List<PointResult> Rows(string db)
    {
        using ResultStore store = ResultStore.Open(db);
        return store.All();
    }

    [Fact]
    public void Estimated_rows_say_so_count_crossbars_exactly_and_come_within_ten_percent_of_the_simulated_ones()
    {
        DesignSpace space = DesignSpace.Parse(Space);
        RunInto(Db("estimate.db"), space, Fidelity.Estimate);
        RunInto(Db("simulate.db"), space, Fidelity.Simulate);
        var simulated = Rows(Db("simulate.db")).ToDictionary(r => r.Key);
        List<PointResult> estimated = Rows(Db("estimate.db"));
        Assert.Equal(simulated.Keys.Order(), estimated.Select(r => r.Key).Order());
        Assert.All(estimated, r => Assert.Equal("estimate", r.Fidelity));
        Assert.All(simulated.Values, r => Assert.Equal("simulate", r.Fidelity));
        int compared = 0;
        foreach (PointResult e in estimated.Where(r => r.Valid && simulated[r.Key].Valid))
        {
            PointResult s = simulated[e.Key];
            Assert.Equal(s.CrossbarsUsed, e.CrossbarsUsed);
            Assert.Equal(s.CoresUsed, e.CoresUsed);
            Assert.Equal(s.AreaMm2!.Value, e.AreaMm2!.Value, 9);
            Assert.InRange(e.LatencyNs!.Value / s.LatencyNs!.Value, 0.9, 1.1);
            Assert.InRange(e.EnergyNj!.Value / s.EnergyNj!.Value, 0.9, 1.1);
            Assert.Null(e.LowerBoundLatencyNs);
            compared++;
        }

        Assert.True(compared >= 12, $"only {compared} points valid at both fidelities");
    }

    [Fact]
    public void Auto_simulates_the_first_two_estimated_fronts_until_they_hold_simulations_only_and_stores_the_rest_as_estimates()
    {
        DesignSpace space = DesignSpace.Parse(Space);
        ExploreSummary summary = RunInto(Db("auto.db"), space, Fidelity.Auto);
        RunInto(Db("estimate.db"), space, Fidelity.Estimate);
        ExploreSettings settings = Settings(Fidelity.Auto);
        HashSet<string> NearFront(IEnumerable<PointResult> rows)
        {
            List<PointResult> valid = [.. rows.Where(r => r.Valid)];
            List<Score> scores = [.. valid.Select(r => Explorer.ScoreOf(r, settings))];
            List<List<int>> fronts = Pareto.FastNonDominatedSort([.. scores.Select(x => (IReadOnlyList<double>)x.Costs)], [.. scores.Select(x => x.Violation)]);
            return [.. fronts.Take(Explorer.NearFronts).SelectMany(f => f).Select(i => valid[i].Key)];
        }

        List<PointResult> rows = Rows(Db("auto.db"));
        var simulated = rows.Where(r => r.Fidelity == "simulate").Select(r => r.Key).ToHashSet();
        Assert.Equal(space.Size, rows.Count);
        Assert.Equal(simulated.Count, summary.Simulated);
        Assert.Subset(simulated, NearFront(Rows(Db("estimate.db")))); // every estimated near-front point was simulated
        Assert.Subset(simulated, NearFront(rows)); // and the near front of what is stored is simulated
        Assert.InRange(simulated.Count, 2, (int)space.Size - 1);
        var estimates = Rows(Db("estimate.db")).ToDictionary(r => r.Key);
        Assert.All(rows.Where(r => r.Fidelity == "estimate"), r => Assert.Equal(estimates[r.Key], r));

        // Started again, it finds everything stored and simulates nothing.
        ExploreSummary again = RunInto(Db("auto.db"), space, Fidelity.Auto);
        Assert.Equal(0, again.Evaluated);
        Assert.Equal(rows, Rows(Db("auto.db")));
    }

    [Fact]
    public void An_auto_run_cancelled_mid_way_and_started_again_ends_with_the_rows_of_an_uninterrupted_one()
    {
        DesignSpace space = DesignSpace.Parse(Space);
        RunInto(Db("whole.db"), space, Fidelity.Auto);
        using var cancel = new CancellationTokenSource();
        var evaluator = new PointEvaluator(Model, Calibration, null, DeviceModel.Ideal, 16);
        int simulations = 0;
        var interrupting = new InterruptingEvaluator(evaluator, () =>
        {
            if (Interlocked.Increment(ref simulations) == 2)
            {
                cancel.Cancel();
            }
        });
        using (ResultStore store = ResultStore.Open(Db("resumed.db")))
        {
            Assert.True(Explorer.Run(space, evaluator.Estimate, interrupting.Simulate, store, Settings(Fidelity.Auto), null, cancel.Token).Cancelled);
        }

        Assert.InRange(Rows(Db("resumed.db")).Count, 1, (int)space.Size - 1);
        RunInto(Db("resumed.db"), space, Fidelity.Auto);
        Assert.Equal(Rows(Db("whole.db")), Rows(Db("resumed.db")));
    }

    [Fact]
    public void A_simulation_replaces_a_stored_estimate_and_merging_keeps_the_simulation()
    {
        DesignSpace space = DesignSpace.Parse(Space);
        RunInto(Db("upgraded.db"), space, Fidelity.Estimate);
        ExploreSummary simulated = RunInto(Db("upgraded.db"), space, Fidelity.Simulate);
        Assert.Equal((int)space.Size, simulated.Evaluated);
        List<PointResult> rows = Rows(Db("upgraded.db"));
        Assert.Equal(space.Size, rows.Count);
        Assert.All(rows, r => Assert.Equal("simulate", r.Fidelity));

        // An estimate run over simulated rows reuses them; merging estimates into simulations changes nothing.
        Assert.Equal(0, RunInto(Db("upgraded.db"), space, Fidelity.Estimate).Evaluated);
        RunInto(Db("estimates.db"), space, Fidelity.Estimate);
        using (ResultStore store = ResultStore.Open(Db("upgraded.db")))
        {
            Assert.Equal(0, store.Merge(Db("estimates.db")));
        }

        Assert.Equal(rows, Rows(Db("upgraded.db")));
        using (ResultStore store = ResultStore.Open(Db("estimates.db")))
        {
            Assert.Equal((int)space.Size, store.Merge(Db("upgraded.db"))); // every estimate upgraded
        }

        Assert.Equal(rows, Rows(Db("estimates.db")));
    }

    [Fact]
    public void Weights_are_cut_once_per_quantization_and_crossbar_shape_and_the_shared_cut_prices_as_a_fresh_compile()
    {
        DesignSpace space = DesignSpace.Parse(Space);
        var evaluator = new PointEvaluator(Model, Calibration, null, DeviceModel.Ideal, 16);
        List<PointResult> rows = [.. Enumerable.Range(0, (int)space.Size).Select(i => evaluator.Simulate(space.PointAt(i)))];
        Assert.Equal(4, evaluator.Mappings); // 2 crossbar sizes x 2 weight bits, whatever the ADC and cores

        // A point whose ADC bits differ from the first one cut for its shape: it must price as a compile from scratch.
        int index = Enumerable.Range(0, (int)space.Size).Last(i => rows[i].Valid);
        PointSettings s = PointSettings.Of(space.PointAt(index), DeviceModel.Ideal);
        Compilation c = Compiler.Compile(Model, s.Arch, s.Options, Calibration, CompileStage.Asm, s.Compile);
        PerformanceReport fresh = PerformanceReport.Evaluate(PerformanceInputs.For(c, 16), Model.Name);
        Assert.Equal(fresh.LatencyNs, rows[index].LatencyNs);
        Assert.Equal(fresh.EnergyNj, rows[index].EnergyNj);
        Assert.Equal(fresh.ThroughputPerS, rows[index].ThroughputPerS);
    }

    [Fact]
    public void Accuracies_are_kept_in_the_database_and_a_new_run_on_it_measures_none_again()
    {
        NdArray x = DataFiles.ReadArray(Example("sample.npy"));
        Labels y = DataFiles.ReadLabels(Example("sample_labels.npy"));
        DesignSpace space = DesignSpace.Parse("""{ "arch": "isaac", "params": { "tile.cores": [6, 12], "core.adc.bits": [4, 8], "weight-bits": [8], "activation-bits": [8] } }""");
        List<PointResult> first;
        using (ResultStore store = ResultStore.Open(Db("acc.db")))
        {
            var evaluator = new PointEvaluator(Model, Calibration, new LabelledSet(x, y), DeviceModel.Ideal, 16) { Accuracies = store };
            first = [.. Enumerable.Range(0, 4).Select(i => evaluator.Estimate(space.PointAt(i)))];
            Assert.Equal(2, evaluator.AccuracyCacheHits); // tiles do not change accuracy
        }

        using (ResultStore store = ResultStore.Open(Db("acc.db")))
        {
            var evaluator = new PointEvaluator(Model, Calibration, new LabelledSet(x, y), DeviceModel.Ideal, 16) { Accuracies = store };
            List<PointResult> again = [.. Enumerable.Range(0, 4).Select(i => evaluator.Simulate(space.PointAt(i)))];
            Assert.Equal(4, evaluator.AccuracyCacheHits); // all from the database
            Assert.Equal(first.Select(r => r.Accuracy), again.Select(r => r.Accuracy));
        }

        var fresh = new PointEvaluator(Model, Calibration, new LabelledSet(x, y), DeviceModel.Ideal, 16);
        Assert.Equal(first[1].Accuracy, fresh.Simulate(space.PointAt(1)).Accuracy);
        Assert.NotEqual(first[0].Accuracy, first[1].Accuracy); // 4- and 8-bit ADCs: measured, not copied
    }

    [Fact]
    public void The_command_line_takes_a_fidelity_and_refuses_an_unknown_one_in_one_line()
    {
        string space = Path.Combine(_dir, "space.json");
        File.WriteAllText(space, """{ "arch": "isaac", "params": { "core.adc.bits": [4, 8], "weight-bits": [4, 8] } }""");
        string model = Example("mlp.onnx");
        (int exit, string output, string error) = CliRunner.Run("explore", model, "--space", space, "--db", Db("cli.db"), "--fidelity", "auto", "--csv", Db("cli.csv"));
        Assert.True(exit == 0, error);
        Assert.Contains("fidelity auto:", output);
        Assert.Contains("fidelity", File.ReadAllLines(Db("cli.csv"))[0]);
        (exit, _, error) = CliRunner.Run("explore", model, "--space", space, "--db", Db("cli2.db"), "--fidelity", "exact");
        Assert.Equal(1, exit);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Contains("--fidelity", error);
    }

    /// <summary>Calls back before each simulation (to cancel a run part way).</summary>
    private sealed class InterruptingEvaluator(PointEvaluator inner, Action before)
    {
        public PointResult Simulate(DesignPoint p)
        {
            before();
            return inner.Simulate(p);
        }
    }
}
