using System.Collections.Immutable;
using System.CommandLine;
using System.Globalization;
using Cimc.Data;
using Cimc.Diagnostics;
using Cimc.Evaluation;
using Cimc.Ir;
using Cimc.Reference;

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
        var command = new Command("accuracy", "Measure top-1 accuracy on a labelled data set.") { model, images, labels, divideBy, limit, activation, json };
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
            AccuracyResult result = Accuracy.Evaluate(batch => FloatExecutor.Run(graph, batch), x, y);
            if (parse.GetValue(json))
            {
                context.Output.WriteLine(CommonOptions.ToJson(new
                {
                    accuracy = result.Accuracy,
                    correct = result.Correct,
                    total = result.Total,
                    float_accuracy = result.Accuracy,
                    model = parse.GetValue(model),
                }));
            }
            else
            {
                context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"accuracy {result.Accuracy:P2} ({result.Correct}/{result.Total}) float reference"));
            }

            return 0;
        });
        return command;
    }
}
