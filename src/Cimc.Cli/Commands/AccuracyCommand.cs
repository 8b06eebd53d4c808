using System.Collections.Immutable;
using System.CommandLine;
using System.Globalization;
using Cimc.Architectures;
using Cimc.Data;
using Cimc.Diagnostics;
using Cimc.Evaluation;
using Cimc.Ir;
using Cimc.Quantization;
using Cimc.Reference;
using Cimc.Simulation;

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
        var images = new Option<string>("--images") { Description = "images or feature rows (IDX, .gz, .npy or .csv)", Required = true };
        var labels = new Option<string>("--labels") { Description = "integer labels, one per image (IDX, .gz, .npy or .csv)", Required = true };
        var divideBy = new Option<double>("--divide-by") { Description = "divide every input value by D (e.g. 255 for byte images)", DefaultValueFactory = _ => 1.0 };
        var limit = new Option<int?>("--limit") { Description = "use only the first N samples" };
        var command = new Command("accuracy", "Measure top-1 accuracy on a labelled data set: of the float model, or with --arch of the compiled program on the simulator.") { model, images, labels, divideBy, limit, activation, json };
        var binder = new CompileOptionsBinder();
        binder.AddTo(command, archRequired: false);
        command.SetAction(parse =>
        {
            double divisor = parse.GetValue(divideBy);
            if (!(divisor > 0) || double.IsInfinity(divisor))
            {
                throw new CimcException("bad-option", "--divide-by", $"must be a positive number, got {divisor}");
            }

            if (parse.GetValue(limit) is < 1)
            {
                throw new CimcException("bad-option", "--limit", "must be at least 1");
            }

            Graph graph = CommonOptions.LoadModel(parse.GetValue(model)!, parse.GetValue(activation));
            NdArray x = DataFiles.ReadArray(parse.GetValue(images)!);
            Labels y = DataFiles.ReadLabels(parse.GetValue(labels)!);
            if (parse.GetValue(limit) is int n)
            {
                x = x.Take(n);
                y = new Labels(y.Values.Take(Math.Min(n, y.Count)).ToImmutableArray());
            }

            x = x.DivideBy((float)divisor);
            AccuracyResult floatResult = Accuracy.Evaluate(batch => FloatExecutor.Run(graph, batch), x, y);
            if (parse.GetValue(binder.Arch) is null)
            {
                Report(context, parse.GetValue(json), new AccuracyReport(floatResult.Accuracy, floatResult.Correct, floatResult.Total, floatResult.Accuracy, parse.GetValue(model)!));
                return 0;
            }

            Architecture arch = binder.LoadArchitecture(parse);
            QuantizationOptions options = binder.Quantization(parse, arch);
            Compilation c = Compiler.Compile(graph, arch, options, binder.LoadCalibration(parse, parse.GetValue(model)!));
            var simulator = new FunctionalSimulator(c.Program!, c.Weights!);
            AccuracyResult chip = Accuracy.Evaluate(batch => simulator.Run(batch), x, y);
            int agree = chip.Predictions.Zip(floatResult.Predictions).Count(p => p.First == p.Second);
            CompileSummary summary = c.Summary();
            Report(context, parse.GetValue(json), new AccuracyReport(chip.Accuracy, chip.Correct, chip.Total, floatResult.Accuracy, parse.GetValue(model)!)
            {
                FloatCorrect = floatResult.Correct,
                Arch = arch.Name,
                WeightBits = options.WeightBits,
                ActivationBits = options.ActivationBits,
                SignedWeights = options.SignedWeights.ToString().ToLowerInvariant(),
                CrossbarsUsed = summary.CrossbarsUsed,
                AgreementWithFloat = (double)agree / chip.Total,
            });

            return 0;
        });
        return command;
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
}
