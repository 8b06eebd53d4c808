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
        Argument<string> model = CommonOptions.Model();
        Option<string?> activation = CommonOptions.Activation();
        Option<bool> json = CommonOptions.Json();
        var data = new LabelledDataOptions("the", defaultLimit: null);
        var command = new Command("accuracy", "Measure top-1 accuracy on a labelled data set: of the float model, or with --arch of the compiled program on the simulator.") { model, activation, json };
        data.AddTo(command);
        var binder = new CompileOptionsBinder();
        binder.AddTo(command, archRequired: false);
        command.Options.Add(binder.SweepCsv);
        command.Options.Add(binder.SweepPlot);
        var device = new DeviceOptionsBinder();
        device.AddTo(command, withSeeds: true);
        command.SetAction(parse =>
        {
            Graph graph = CommonOptions.LoadModel(parse.GetValue(model)!, parse.GetValue(activation));
            (NdArray x, Labels y) = data.Load(parse);
            AccuracyResult floatResult = Accuracy.Evaluate(batch => FloatExecutor.Run(graph, batch), x, y);
            if (parse.GetValue(binder.Arch) is null)
            {
                Report(context, parse.GetValue(json), new AccuracyReport(floatResult.Accuracy, floatResult.Correct, floatResult.Total, floatResult.Accuracy, parse.GetValue(model)!));
                return 0;
            }

            NdArray? calibration = binder.LoadCalibration(parse, parse.GetValue(model)!);
            IReadOnlyList<CompileOptionsBinder.DesignChoice> grid = binder.Grid(parse);
            if (grid.Count > 1)
            {
                RunSweep(context, parse, parse.GetValue(json), binder, device, grid, graph, calibration, x, y, floatResult);
                return 0;
            }

            (Architecture arch, QuantizationOptions options, Compilation c, SeededAccuracy seeded) = EvaluatePoint(parse, binder, device, grid[0], graph, calibration, x, y);
            AccuracyResult chip = seeded.First;
            int agree = chip.Predictions.Zip(floatResult.Predictions).Count(p => p.First == p.Second);
            CompileSummary summary = c.Summary();
            CommonOptions.Warn(context, summary.Warnings);
            Report(context, parse.GetValue(json), new AccuracyReport(chip.Accuracy, chip.Correct, chip.Total, floatResult.Accuracy, parse.GetValue(model)!)
            {
                FloatCorrect = floatResult.Correct,
                Arch = arch.Name,
                WeightBits = options.WeightBits,
                ActivationBits = options.ActivationBits,
                SignedWeights = QuantizationOptions.EncodingName(options.SignedWeights),
                CrossbarsUsed = summary.CrossbarsUsed,
                AgreementWithFloat = (double)agree / chip.Total,
                AccuracyStd = seeded.Std,
                Seeds = seeded.Seeds,
                Accuracies = seeded.Accuracies,
                Device = seeded.Device,
                Warnings = summary.Warnings,
            } with
            { Accuracy = seeded.Mean });

            return 0;
        });
        return command;
    }

    /// <summary>Accuracy over one or more device seeds: the mean, its standard deviation, each run.</summary>
    private sealed record SeededAccuracy(AccuracyResult First, double Mean, double Std, IReadOnlyList<ulong> Seeds, IReadOnlyList<double> Accuracies, DeviceModel? Device);

    /// <summary>
    /// Compiles one design point and measures the compiled program's accuracy on the simulator, once
    /// per device seed (an ideal device needs only one run: it is deterministic).
    /// </summary>
    private static (Architecture Arch, QuantizationOptions Options, Compilation Compilation, SeededAccuracy Result) EvaluatePoint(
        ParseResult parse, CompileOptionsBinder binder, DeviceOptionsBinder deviceOptions, CompileOptionsBinder.DesignChoice choice, Graph graph, NdArray? calibration, NdArray x, Labels y)
    {
        Architecture arch = binder.LoadArchitecture(parse, choice);
        QuantizationOptions options = binder.Quantization(parse, arch, choice);
        Compilation c = Compiler.Compile(graph, arch, options, calibration);
        DeviceModel device = deviceOptions.Device(parse);
        IReadOnlyList<ulong> seeds = device.IsIdeal ? [device.Seed] : deviceOptions.SeedList(parse);
        var results = seeds.Select(seed =>
        {
            var simulator = new FunctionalSimulator(c.Program!, c.Weights!, device.WithSeed(seed));
            return Accuracy.Evaluate(batch => simulator.Run(batch), x, y);
        }).ToList();
        double[] accuracies = [.. results.Select(r => r.Accuracy)];
        double mean = accuracies.Average();
        double std = accuracies.Length < 2 ? 0 : Math.Sqrt(accuracies.Sum(a => (a - mean) * (a - mean)) / (accuracies.Length - 1));
        return (arch, options, c, new SeededAccuracy(results[0], mean, std, seeds, accuracies, device.IsIdeal ? null : device));
    }

    /// <summary>Every combination of the listed settings: a table, a CSV file and an SVG plot of accuracy against crossbars.</summary>
    private static void RunSweep(CliContext context, ParseResult parse, bool json, CompileOptionsBinder binder, DeviceOptionsBinder device, IReadOnlyList<CompileOptionsBinder.DesignChoice> grid,
        Graph graph, NdArray? calibration, NdArray x, Labels y, AccuracyResult floatResult)
    {
        var points = new List<SweepPoint>();
        foreach (CompileOptionsBinder.DesignChoice choice in grid)
        {
            (Architecture arch, QuantizationOptions options, Compilation c, SeededAccuracy chip) = EvaluatePoint(parse, binder, device, choice, graph, calibration, x, y);
            CompileSummary summary = c.Summary();
            points.Add(new SweepPoint(options.WeightBits, options.ActivationBits, arch.Core.Crossbar.CellBits, arch.Core.Dac.Bits, arch.Core.Adc.Bits,
                QuantizationOptions.EncodingName(options.SignedWeights), options.AdcRange.ToString().ToLowerInvariant(),
                summary.CrossbarsUsed, summary.AdcCanSaturate, chip.Mean, floatResult.Accuracy)
            { AccuracyStd = chip.Std });
        }

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

        context.Output.WriteLine(report.Arch is null
            ? string.Create(CultureInfo.InvariantCulture, $"accuracy {report.Accuracy:P2} ({report.Correct}/{report.Total}), float reference")
            : string.Create(CultureInfo.InvariantCulture, $"accuracy {report.Accuracy:P2} ({report.Correct}/{report.Total}) compiled for {report.Arch} at {report.WeightBits}-bit weights, {report.ActivationBits}-bit activations on {report.CrossbarsUsed} crossbars; float {report.FloatAccuracy:P2}; same prediction as float on {report.AgreementWithFloat:P2}"));
    }
}

/// <summary>What `cimc accuracy --json` prints; `accuracy`, `correct`, `total`, `float_accuracy` are a contract.</summary>
internal sealed record AccuracyReport(double Accuracy, int Correct, int Total, double FloatAccuracy, string Model)
{
    public int? FloatCorrect { get; init; }

    public string? Arch { get; init; }

    public int? WeightBits { get; init; }

    public int? ActivationBits { get; init; }

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
