using System.CommandLine;
using Cimc.Data;
using Cimc.Diagnostics;
using Cimc.Evaluation;
using Cimc.Ir;
using Cimc.Quantization;

namespace Cimc.Cli.Commands;

/// <summary>
/// `--images P --labels P [--divide-by D] [--limit N]`: a labelled data set, read and checked one way
/// for every command that measures accuracy.
/// </summary>
internal sealed class LabelledDataOptions(string what, int? defaultLimit)
{
    public Option<string> Images { get; } = new("--images") { Description = $"{what} images or feature rows (IDX, .gz, .npy or .csv)", Required = true };

    public Option<string> Labels { get; } = new("--labels") { Description = "integer labels, one per image (IDX, .gz, .npy or .csv)", Required = true };

    public Option<double> DivideBy { get; } = CommonOptions.DivideBy();

    public Option<int?> Limit { get; } = new("--limit")
    {
        Description = "use only the first N samples",
        DefaultValueFactory = _ => defaultLimit,
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Images);
        command.Options.Add(Labels);
        command.Options.Add(DivideBy);
        command.Options.Add(Limit);
    }

    /// <summary>The samples (first --limit of them, divided by --divide-by) and as many labels.</summary>
    public (NdArray Images, Labels Labels) Load(ParseResult parse)
    {
        int? limit = parse.GetValue(Limit);
        if (limit is < 1)
        {
            throw new CimcException("bad-option", "--limit", "must be at least 1");
        }

        NdArray x = CommonOptions.ReadInputs(parse.GetValue(Images)!, parse.GetValue(DivideBy), "--images");
        Labels y = DataFiles.ReadLabels(parse.GetValue(Labels)!);
        if (limit is int n)
        {
            x = x.Take(n);
            y = new Labels([.. y.Values.Take(Math.Min(n, y.Count))]);
        }

        return (x, y);
    }

    /// <summary>
    /// What calibrates a compile measured on this set: the command line's calibration
    /// (<see cref="CompileOptionsBinder.FindCalibration"/>), or, when that is only the default input
    /// range, a part of the set, which is then left out of the measurement (the images and labels
    /// returned are the rest). Notes which it is. A QDQ file that quantizes every activation itself
    /// needs no calibration, so the whole set is measured.
    /// </summary>
    public (CalibrationSource Calibration, NdArray Images, Labels Labels) Calibration(CliContext context, ParseResult parse, CompileOptionsBinder binder, string modelPath, Graph graph, NdArray images, Labels labels)
    {
        CalibrationSource calibration = binder.FindCalibration(parse, modelPath);
        if (calibration is InputRangeCalibration && parse.GetValue(binder.InputRange) is null && !GraphQuantizer.NeedsCalibration(graph))
        {
            context.Note("the model file quantizes every activation (QDQ); no calibration samples are used, every image is measured");
            return (calibration, images, labels);
        }

        if (calibration is InputRangeCalibration && parse.GetValue(binder.InputRange) is null)
        {
            CalibrationSplit.Result split = CalibrationSplit.Split(images, labels, parse.GetValue(Images)!);
            (calibration, images, labels) = (split.Calibration, split.Images, split.Labels);
        }

        context.Note(calibration.Describe());
        return (calibration, images, labels);
    }
}
