using System.Collections.Immutable;
using System.CommandLine;
using System.Globalization;
using Cimc.Architectures;
using Cimc.Data;
using Cimc.Diagnostics;
using Cimc.Evaluation;
using Cimc.Exploration;
using Cimc.Ir;
using Cimc.Quantization;
using Cimc.Reference;
using Cimc.Reporting;
using Cimc.Simulation;
using Cimc.Simulation.Devices;

namespace Cimc.Cli.Commands;

/// <summary>
/// `cimc accuracy MODEL --images P --labels P [--divide-by D] [--limit N] [--json]`: top-1 accuracy
/// of the float model on a labelled set.
/// </summary>
internal static class AccuracyCommand
{
    public static Command Create(CliContext context)
    {
        var model = new ModelOptions();
        Option<bool> json = CommonOptions.Json();
        var data = new LabelledDataOptions("the", defaultLimit: null);
        var command = new Command("accuracy", "Measure top-1 accuracy on a labelled data set: of the float model, or with --arch of the compiled program on the simulator.") { model.Model, model.Activation, json };
        data.AddTo(command);
        var binder = new CompileOptionsBinder();
        binder.AddTo(command, archRequired: false, sweeps: true);
        command.Options.Add(binder.SweepCsv);
        command.Options.Add(binder.SweepPlot);
        var device = new DeviceOptionsBinder();
        device.AddTo(command, withSeeds: true);
        command.SetAction(parse =>
        {
            // Bad options are reported before anything runs or is noted.
            device.Validate(parse);
            binder.Grid(parse);
            string modelPath = model.Path(parse);
            Graph graph = model.Load(parse);
            (NdArray x, Labels y) = data.Load(parse);
            bool asJson = parse.GetValue(json);
            if (parse.GetValue(binder.Arch) is null)
            {
                // Without a chip only the float model runs: a chip or device option would be ignored.
                if ((binder.FirstGiven(parse) ?? device.FirstGiven(parse)) is { } ignored)
                {
                    throw new CimcException("bad-option", ignored, "needs --arch: without a chip, cimc accuracy measures the float model");
                }

                AccuracyResult fp = Measure(context, "float reference", x, y, batch => FloatExecutor.Run(graph, batch));
                Report(context, asJson, new AccuracyReport(fp.Accuracy, fp.Correct, fp.Total, fp.Accuracy, modelPath));
                return 0;
            }

            (CalibrationSource calibration, x, y) = data.Calibration(context, parse, binder, modelPath, graph, x, y);
            AccuracyResult floatResult = Measure(context, "float reference", x, y, batch => FloatExecutor.Run(graph, batch));
            IReadOnlyList<CompileOptionsBinder.DesignChoice> grid = binder.Grid(parse);
            if (grid.Count > 1)
            {
                RunSweep(context, parse, asJson, binder, device, grid, graph, calibration, x, y, floatResult);
                return 0;
            }

            (Architecture arch, QuantizationOptions options, Compilation c, SeededAccuracy seeded) = EvaluatePoint(context, parse, binder, device, grid[0], graph, calibration, x, y);
            AccuracyResult chip = seeded.First;
            int agree = chip.Predictions.Zip(floatResult.Predictions).Count(p => p.First == p.Second);
            CompileSummary summary = c.Summary();
            foreach (string warning in summary.Warnings)
            {
                context.Warn(warning);
            }

            QuantizedModel q = c.Quantized!;
            Report(context, asJson, new AccuracyReport(chip.Accuracy, chip.Correct, chip.Total, floatResult.Accuracy, modelPath)
            {
                FloatCorrect = floatResult.Correct,
                Arch = arch.Name,
                WeightBits = options.WeightBits,
                ActivationBits = options.ActivationBits,
                Precision = BitsText(q, parse.GetValue(binder.Precision)),
                LayerWeightBits = [.. q.Layers.Select(l => l.WeightBits)],
                LayerActivationBits = [.. q.Layers.Select(l => l.Input.Bits)],
                SignedWeights = QuantizationOptions.EncodingName(options.SignedWeights),
                CrossbarsUsed = summary.CrossbarsUsed,
                AgreementWithFloat = (double)agree / chip.Total,
                AccuracyStd = seeded.Std,
                Seeds = seeded.Seeds,
                Accuracies = seeded.Accuracies,
                Device = seeded.Device,
                Calibration = GraphQuantizer.NeedsCalibration(graph) ? calibration.Describe() : "none: the model file quantizes every activation (QDQ)",
                Warnings = summary.Warnings,
            } with
            { Accuracy = seeded.Mean });

            return 0;
        });
        return command;
    }

    /// <summary>Accuracy of one model, with a progress line over the samples.</summary>
    private static AccuracyResult Measure(CliContext context, string what, NdArray x, Labels y, Func<NdArray, NdArray> model)
    {
        using var progress = new ProgressLine(context, $"accuracy of the {what}", x.Rows, "samples");
        return Accuracy.Evaluate(model, x, y, progress: n => progress.Advance(n));
    }

    /// <summary>
    /// The bits that ran, as the text line states them: "8-bit weights, 8-bit activations" when every
    /// layer has the same, else per layer, naming the --precision file that chose them.
    /// </summary>
    private static string BitsText(QuantizedModel q, string? precisionFile)
    {
        int[] w = [.. q.Layers.Select(l => l.WeightBits)], a = [.. q.Layers.Select(l => l.Input.Bits)];
        string source = precisionFile is null ? "per-layer" : $"per-layer ({Path.GetFileName(precisionFile)})";
        return w.Distinct().Count() == 1 && a.Distinct().Count() == 1 && precisionFile is null
            ? $"{w[0]}-bit weights, {a[0]}-bit activations"
            : $"{source} bits: weights {string.Join('/', w)}, activations {string.Join('/', a)}";
    }

    /// <summary>Accuracy over one or more device seeds: the mean, its standard deviation, each run.</summary>
    private sealed record SeededAccuracy(AccuracyResult First, double Mean, double Std, IReadOnlyList<ulong> Seeds, IReadOnlyList<double> Accuracies, DeviceModel? Device);

    /// <summary>
    /// Compiles one design point and measures the compiled program's accuracy on the simulator, once
    /// per device seed (an ideal device needs only one run: it is deterministic).
    /// </summary>
    private static (Architecture Arch, QuantizationOptions Options, Compilation Compilation, SeededAccuracy Result) EvaluatePoint(CliContext context,
        ParseResult parse, CompileOptionsBinder binder, DeviceOptionsBinder deviceOptions, CompileOptionsBinder.DesignChoice choice, Graph graph, CalibrationSource calibration, NdArray x, Labels y,
        ProgressLine? sweep = null)
    {
        Architecture arch = binder.LoadArchitecture(parse, choice);
        QuantizationOptions options = binder.Quantization(parse, arch, choice);
        Compilation c = Compiler.Compile(graph, arch, options, calibration, settings: binder.Settings(parse, context.Output));
        if (sweep is null && InputCoverage.Warning(x, ProgramRunners.Input(c)) is { } warning)
        {
            context.Warn(warning);
        }

        DeviceModel device = deviceOptions.Device(parse);
        IReadOnlyList<ulong> seeds = device.IsIdeal ? [device.Seed] : deviceOptions.SeedList(parse);
        using var progress = sweep is null ? new ProgressLine(context, $"accuracy on the simulator ({arch.Name})", (long)seeds.Count * x.Rows, "samples") : null;
        var results = seeds.Select(seed =>
        {
            IProgramRunner simulator = ProgramRunners.For(c, device.WithSeed(seed));
            return Accuracy.Evaluate(batch => simulator.Run(batch), x, y, progress: n => progress?.Advance(n));
        }).ToList();
        double[] accuracies = [.. results.Select(r => r.Accuracy)];
        double mean = accuracies.Average();
        double std = accuracies.Length < 2 ? 0 : Math.Sqrt(accuracies.Sum(a => (a - mean) * (a - mean)) / (accuracies.Length - 1));
        return (arch, options, c, new SeededAccuracy(results[0], mean, std, seeds, accuracies, device.IsIdeal ? null : device));
    }

    /// <summary>Every combination of the listed settings: a table, a CSV file and an SVG plot of accuracy against crossbars.</summary>
    private static void RunSweep(CliContext context, ParseResult parse, bool json, CompileOptionsBinder binder, DeviceOptionsBinder device, IReadOnlyList<CompileOptionsBinder.DesignChoice> grid,
        Graph graph, CalibrationSource calibration, NdArray x, Labels y, AccuracyResult floatResult)
    {
        var points = new List<SweepPoint>();
        using var progress = new ProgressLine(context, "accuracy sweep", grid.Count, "configurations");
        foreach (CompileOptionsBinder.DesignChoice choice in grid)
        {
            (Architecture arch, QuantizationOptions options, Compilation c, SeededAccuracy chip) = EvaluatePoint(context, parse, binder, device, choice, graph, calibration, x, y, progress);
            if (points.Count == 0 && InputCoverage.Warning(x, ProgramRunners.Input(c)) is { } warning)
            {
                context.Warn(warning);
            }

            progress.Advance();
            CompileSummary summary = c.Summary();
            points.Add(new SweepPoint(options.WeightBits, options.ActivationBits, arch.Core.Crossbar.CellBits, arch.Core.Dac.Bits, arch.Core.Adc.Bits,
                QuantizationOptions.EncodingName(options.SignedWeights), options.AdcRange.ToString().ToLowerInvariant(),
                summary.CrossbarsUsed, summary.AdcCanSaturate, chip.Mean, floatResult.Accuracy)
            { AccuracyStd = chip.Std });
        }

        progress.Dispose();
        string csv = parse.GetValue(binder.SweepCsv)!, plot = parse.GetValue(binder.SweepPlot)!;
        File.WriteAllText(csv, SweepTable.Csv(points));
        File.WriteAllText(plot, SvgScatter.Render(
            $"accuracy against crossbars ({points.Count} configurations)", "crossbars", "accuracy (%)",
            [.. points.Select(p => new SvgScatter.Point(p.Crossbars, p.Accuracy * 100, p.Label, p.LossPoints < 1,
                ShowLabel: p == points.Where(q => q.Crossbars == p.Crossbars).MaxBy(q => q.Accuracy)))],
            floatResult.Accuracy * 100, "float"));
        if (json)
        {
            context.Output.WriteLine(CommonOptions.ToJson(new { FloatAccuracy = floatResult.Accuracy, Points = points, Csv = csv, Plot = plot }));
            return;
        }

        context.Output.Write(SweepTable.Table(points));
        context.Output.WriteLine($"wrote {csv} and {plot}");
    }

    private static void Report(CliContext context, bool json, AccuracyReport report)
    {
        if (json)
        {
            context.Output.WriteLine(CommonOptions.ToJson(report));
            return;
        }

        if (report.Arch is null)
        {
            context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"accuracy {report.Accuracy:P2} ({report.Correct}/{report.Total}), float reference"));
            return;
        }

        // Over several seeds the headline is the mean: the count of one seed beside it would mislead.
        string headline = report.Seeds is { Count: > 1 } seeds
            ? string.Create(CultureInfo.InvariantCulture, $"accuracy {report.Accuracy:P2} ± {report.AccuracyStd * 100:0.00} points (mean ± std over {seeds.Count} seeds, {report.Total} samples each)")
            : string.Create(CultureInfo.InvariantCulture, $"accuracy {report.Accuracy:P2} ({report.Correct}/{report.Total})");
        context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{headline} compiled for {report.Arch} at {report.Precision} on {report.CrossbarsUsed} crossbars; float {report.FloatAccuracy:P2} ({report.FloatCorrect}/{report.Total}); same prediction as float on {report.AgreementWithFloat:P2}{(report.Seeds is { Count: > 1 } ? " (first seed)" : "")}"));
    }
}

/// <summary>What `cimc accuracy --json` prints; `accuracy`, `correct`, `total`, `float_accuracy` are a contract.</summary>
internal sealed record AccuracyReport(double Accuracy, int Correct, int Total, double FloatAccuracy, string Model)
{
    public int? FloatCorrect { get; init; }

    public string? Arch { get; init; }

    public int? WeightBits { get; init; }

    public int? ActivationBits { get; init; }

    /// <summary>The bits that ran, in words: uniform, or per layer with the --precision file.</summary>
    public string? Precision { get; init; }

    public IReadOnlyList<int>? LayerWeightBits { get; init; }

    /// <summary>Bits of each layer's input codes (what its DACs stream).</summary>
    public IReadOnlyList<int>? LayerActivationBits { get; init; }

    /// <summary>Which samples calibrated the activation ranges.</summary>
    public string? Calibration { get; init; }

    public string? SignedWeights { get; init; }

    public int? CrossbarsUsed { get; init; }

    public double? AgreementWithFloat { get; init; }

    /// <summary>Standard deviation of the accuracy over device seeds (0 for an ideal device).</summary>
    public double? AccuracyStd { get; init; }

    public IReadOnlyList<ulong>? Seeds { get; init; }

    public IReadOnlyList<double>? Accuracies { get; init; }

    public DeviceModel? Device { get; init; }

    /// <summary>The compile's warnings (an ADC narrower than lossless needs); null for the float model.</summary>
    public IReadOnlyList<string>? Warnings { get; init; }
}
