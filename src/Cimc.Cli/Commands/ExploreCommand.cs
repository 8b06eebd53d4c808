using System.Collections.Immutable;
using System.CommandLine;
using System.Globalization;
using System.Text;
using Cimc.Data;
using Cimc.Diagnostics;
using Cimc.Exploration;
using Cimc.Ir;
using Cimc.Simulation.Devices;

namespace Cimc.Cli.Commands;

/// <summary>
/// `cimc explore MODEL --space SPACE.json [--strategy grid|random|nsga2] [--budget N] [--seed S]
/// [--objectives A,B] [--constraint "area_mm2&lt;=100"]... [--images P --labels P] [--jobs N] [--db FILE]
/// [--shard i/n] [--csv FILE] [--fidelity estimate|simulate|auto]`, and its subcommands `merge` and `report`. The work is in
/// Cimc.Exploration; this file reads options and files.
/// </summary>
internal static class ExploreCommand
{
    public static Command Create(CliContext context)
    {
        var model = new Argument<string?>("MODEL") { Description = "the model to explore (any form cimc reads)", Arity = ArgumentArity.ZeroOrOne };
        Option<string?> activation = CommonOptions.Activation();
        var space = new Option<string?>("--space") { Description = "the design space: {\"arch\": PRESET|FILE, \"params\": {KEY: [values...]}} (docs/dse-study.md)" };
        var strategy = new Option<string>("--strategy") { Description = "grid (every point), random or nsga2", DefaultValueFactory = _ => "grid" };
        var budget = new Option<long?>("--budget") { Description = "points to evaluate (grid: the first N; random: default 100; nsga2: default 200)" };
        var seed = new Option<int>("--seed") { Description = "seed of the random and nsga2 strategies", DefaultValueFactory = _ => 1 };
        var objectives = new Option<string?>("--objectives") { Description = $"comma-separated, any of {string.Join(", ", Objective.All.Select(o => o.Name))} (default latency_ns,energy_nj,area_mm2, and accuracy with --images)" };
        var constraint = new Option<string[]>("--constraint") { Description = "a bound such as area_mm2<=100 or accuracy>=0.85 (repeatable)", DefaultValueFactory = _ => [] };
        var jobs = new Option<int>("--jobs", "-j") { Description = "points evaluated in parallel (default: the number of cores)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var db = new Option<string>("--db") { Description = "the results database (SQLite); a run resumes what it holds", DefaultValueFactory = _ => "explore.db" };
        var shard = new Option<string?>("--shard") { Description = "take shard i of n of the points (0-based, e.g. 1/4); for nsga2, island i of n" };
        var csv = new Option<string?>("--csv") { Description = "also write every point of the database as CSV" };
        var fidelity = new Option<string>("--fidelity") { Description = "estimate (analytic, no compile), simulate (compile + event-driven simulation) or auto (estimate all, simulate those on or near the estimated front)", DefaultValueFactory = _ => "simulate" };
        var batch = new Option<int>("--batch") { Description = $"inferences streamed through the pipeline for throughput (default {SimulateCommand.DefaultBatch})", DefaultValueFactory = _ => SimulateCommand.DefaultBatch };
        var calibrationData = new Option<string?>("--calibration-data") { Description = "calibration inputs (.npy, .csv or IDX); default: calibration.npy beside the model" };
        var calibrationDivideBy = new Option<double>("--calibration-divide-by") { Description = "divide calibration values by D", DefaultValueFactory = _ => 1.0 };
        var data = new LabelledDataOptions("labelled (for the accuracy objective)", defaultLimit: null);
        data.Images.Required = false;
        data.Labels.Required = false;
        var command = new Command("explore", "Explore a design space: evaluate latency, energy, area (and accuracy) over architecture and option values, store every point, find the Pareto front.")
        {
            model, activation, space, strategy, budget, seed, objectives, constraint, jobs, db, shard, csv, fidelity, batch, calibrationData, calibrationDivideBy,
        };
        data.AddTo(command);
        command.Subcommands.Add(Merge(context));
        command.Subcommands.Add(Report(context));
        command.SetAction(parse =>
        {
            string modelPath = parse.GetValue(model) ?? throw new CimcException("bad-option", "MODEL", "give the model to explore (or a subcommand: merge, report)");
            string spacePath = parse.GetValue(space) ?? throw new CimcException("bad-option", "--space", "give the design space file (--space SPACE.json)");
            DesignSpace designSpace = DesignSpace.Load(spacePath);
            Graph graph = CommonOptions.LoadModel(modelPath, parse.GetValue(activation));
            bool withData = parse.GetValue(data.Images) is not null || parse.GetValue(data.Labels) is not null;
            LabelledSet? labelled = null;
            string dataId = "none";
            if (withData)
            {
                (NdArray x, Labels y) = data.Load(parse);
                labelled = new LabelledSet(x, y);
                dataId = string.Create(CultureInfo.InvariantCulture,
                    $"images {Study.HashFile(parse.GetValue(data.Images)!)[..16]} labels {Study.HashFile(parse.GetValue(data.Labels)!)[..16]} /{parse.GetValue(data.DivideBy)} limit {parse.GetValue(data.Limit)}");
            }

            var settings = new ExploreSettings(
                ExploreSettings.ParseStrategy(parse.GetValue(strategy)!),
                parse.GetValue(objectives) is { } o ? Objective.ParseList(o) : Objective.Defaults(withData),
                parse.GetValue(budget),
                parse.GetValue(seed),
                parse.GetValue(jobs),
                parse.GetValue(shard) is { } s ? Shard.Parse(s) : null)
            {
                Constraints = [.. parse.GetValue(constraint)!.Select(Constraint.Parse)],
                Fidelity = ExploreSettings.ParseFidelity(parse.GetValue(fidelity)!),
            };
            settings.Validate();
            if (!withData && settings.Objectives.Any(x => x.Name == "accuracy"))
            {
                throw new CimcException("bad-option", "--objectives", "accuracy needs labelled data: give --images and --labels");
            }

            int batchSize = parse.GetValue(batch);
            if (batchSize is < 1 or > 100_000)
            {
                throw new CimcException("bad-option", "--batch", $"must be between 1 and 100000 (got {batchSize})");
            }

            NdArray? calibration = Calibration(parse.GetValue(calibrationData), parse.GetValue(calibrationDivideBy), modelPath);
            using ResultStore store = ResultStore.Open(parse.GetValue(db)!);
            var evaluator = new PointEvaluator(graph, calibration, labelled, DeviceModel.Ideal, batchSize) { Accuracies = store };
            store.Claim(Study.MetaFor(designSpace, modelPath, Study.HashFile(modelPath), dataId, batchSize, settings));

            bool terminal = ReferenceEquals(context.Error, Console.Error) && !Console.IsErrorRedirected;
            var progress = new ProgressPrinter(context.Error, terminal);
            using var cancel = new CancellationTokenSource();
            void OnCancel(object? sender, ConsoleCancelEventArgs e)
            {
                e.Cancel = true; // stop after the points in flight are stored
                cancel.Cancel();
            }

            Console.CancelKeyPress += OnCancel;
            ExploreSummary summary;
            try
            {
                summary = Explorer.Run(designSpace, evaluator.Estimate, evaluator.Simulate, store, settings, progress.Report, cancel.Token);
            }
            finally
            {
                Console.CancelKeyPress -= OnCancel;
                progress.Finish();
            }

            Study study = Study.Load(store, settings.Objectives) with { Constraints = settings.Constraints };
            if (parse.GetValue(csv) is { } csvPath)
            {
                File.WriteAllText(csvPath, study.Csv());
            }

            context.Output.Write(Summary(summary, store.Path, study, settings.Fidelity));
            if (summary.Cancelled)
            {
                context.Error.WriteLine($"cimc: stopped; {store.Path} holds every finished point: run the same command again to continue");
                return 130;
            }

            return 0;
        });
        return command;
    }

    private static Command Merge(CliContext context)
    {
        var output = new Argument<string>("OUT.db") { Description = "the database to merge into (created if missing)" };
        var inputs = new Argument<string[]>("IN.db") { Description = "databases of the same study (shards)", Arity = ArgumentArity.OneOrMore };
        var command = new Command("merge", "Merge the databases of one study's shards into one (rows by key; a point present twice is kept once).") { output, inputs };
        command.SetAction(parse =>
        {
            string target = parse.GetValue(output)!;
            string[] sources = parse.GetValue(inputs)!;
            foreach (string source in sources)
            {
                if (!File.Exists(source))
                {
                    throw new CimcException("file-not-found", source, "no such database");
                }

                if (Path.GetFullPath(source) == Path.GetFullPath(target))
                {
                    throw new CimcException("bad-option", source, "is the output database");
                }
            }

            using ResultStore store = ResultStore.Open(target);
            int added = sources.Sum(store.Merge);
            context.Output.WriteLine($"merged {sources.Length} databases into {target}: {added} new points, {store.Keys().Count} in all");
            return 0;
        });
        return command;
    }

    private static Command Report(CliContext context)
    {
        var dbArg = new Argument<string>("DB") { Description = "a results database written by cimc explore" };
        var output = new Option<string>("--output", "-o") { Description = "the HTML file to write", Required = true };
        var csv = new Option<string?>("--csv") { Description = "also write every point as CSV (a column per parameter and figure, and pareto)" };
        var objectives = new Option<string?>("--objectives") { Description = "the objectives of the front (default: those the study was run with)" };
        var constraint = new Option<string[]>("--constraint") { Description = "bounds for the front (default: those the study was run with), e.g. accuracy>=0.85 (repeatable)", DefaultValueFactory = _ => [] };
        var command = new Command("report", "Write the Pareto report of a study: the front, scatter plots of each pair of objectives, each parameter's effect.") { dbArg, output, csv, objectives, constraint };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(dbArg)!;
            if (!File.Exists(path))
            {
                throw new CimcException("file-not-found", path, "no such database");
            }

            using ResultStore store = ResultStore.Open(path);
            Study study = Study.Load(store, parse.GetValue(objectives) is { } o ? Objective.ParseList(o) : null);
            if (parse.GetValue(constraint) is { Length: > 0 } bounds)
            {
                study = study with { Constraints = [.. bounds.Select(Constraint.Parse)] };
            }

            string file = parse.GetValue(output)!;
            File.WriteAllText(file, Reporting.StudyReport.Render(study));
            if (parse.GetValue(csv) is { } csvPath)
            {
                File.WriteAllText(csvPath, study.Csv());
            }

            context.Output.WriteLine($"wrote {file}: {study.Rows.Length} points, {study.Front().Length} on the front");
            return 0;
        });
        return command;
    }

    private static NdArray? Calibration(string? path, double divisor, string modelPath)
    {
        if (!(divisor > 0) || double.IsInfinity(divisor))
        {
            throw new CimcException("bad-option", "--calibration-divide-by", $"must be a positive number, got {divisor}");
        }

        path ??= Path.Combine(Path.GetDirectoryName(Path.GetFullPath(modelPath)) ?? ".", "calibration.npy");
        return File.Exists(path) ? DataFiles.ReadArray(path).DivideBy((float)divisor) : null;
    }

    private static string Summary(ExploreSummary s, string db, Study study, Fidelity fidelity)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{s.Requested} points: {s.Evaluated} evaluated, {s.Reused} already in {db}, {s.Invalid} invalid; the database holds {study.Rows.Length}\n");
        if (fidelity == Fidelity.Auto)
        {
            sb.Append(CultureInfo.InvariantCulture, $"fidelity auto: {s.Simulated} simulated now (on or near the estimated front), the others stored as estimates; the database holds {study.Rows.Count(r => r.Fidelity == "simulate")} simulated rows\n");
        }
        ImmutableArray<PointResult> front = study.Front();
        sb.Append(CultureInfo.InvariantCulture, $"front ({string.Join(", ", study.Objectives.Select(o => (o.Maximize ? "max " : "min ") + o.Name))}): {front.Length} points\n");
        foreach (PointResult r in front.Take(20))
        {
            sb.Append("  ").Append(string.Join("  ", study.Objectives.Select(o => $"{o.Name}={Reporting.Svg.Format(r.Metric(o.Name)!.Value)}")))
              .Append("  ").Append(r.Config).Append('\n');
        }

        if (front.Length > 20)
        {
            sb.Append(CultureInfo.InvariantCulture, $"  ... {front.Length - 20} more (cimc explore report {db} -o study.html)\n");
        }

        return sb.ToString();
    }
}
