using System.CommandLine;
using Cimc.Data;
using Cimc.Diagnostics;

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
}
