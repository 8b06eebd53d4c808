using System.Globalization;
using System.Text;

namespace Cimc.Exploration;

/// <summary>One evaluated design point of an accuracy sweep.</summary>
public sealed record SweepPoint(
    int WeightBits,
    int ActivationBits,
    int CellBits,
    int DacBits,
    int AdcBits,
    string SignedWeights,
    string AdcRange,
    int Crossbars,
    bool AdcCanSaturate,
    double Accuracy,
    double FloatAccuracy)
{
    /// <summary>Standard deviation over device seeds; 0 for an ideal device.</summary>
    public double AccuracyStd { get; init; }

    /// <summary>Accuracy lost against the float model, in percentage points.</summary>
    public double LossPoints => (FloatAccuracy - Accuracy) * 100;

    public string Label => $"w{WeightBits} a{ActivationBits} c{CellBits} d{DacBits} adc{AdcBits} {SignedWeights} {AdcRange}";
}

/// <summary>Text forms of a sweep: an aligned table and CSV.</summary>
public static class SweepTable
{
    private static readonly string[] Header =
        ["weight_bits", "activation_bits", "cell_bits", "dac_bits", "adc_bits", "signed_weights", "adc_range", "crossbars", "adc_can_saturate", "accuracy", "accuracy_std", "float_accuracy", "loss_points", "within_1_point"];

    private static string[] Cells(SweepPoint p) =>
    [
        I(p.WeightBits), I(p.ActivationBits), I(p.CellBits), I(p.DacBits), I(p.AdcBits), p.SignedWeights, p.AdcRange, I(p.Crossbars),
        p.AdcCanSaturate ? "yes" : "no", F(p.Accuracy), F(p.AccuracyStd), F(p.FloatAccuracy), p.LossPoints.ToString("F2", CultureInfo.InvariantCulture), p.LossPoints < 1 ? "yes" : "no",
    ];

    public static string Csv(IEnumerable<SweepPoint> points)
    {
        var sb = new StringBuilder();
        sb.AppendLine(string.Join(',', Header));
        foreach (SweepPoint p in points)
        {
            sb.AppendLine(string.Join(',', Cells(p)));
        }

        return sb.ToString();
    }

    public static string Table(IReadOnlyList<SweepPoint> points)
    {
        List<string[]> rows = [.. points.Select(Cells)];
        int[] widths = [.. Header.Select((h, c) => rows.Select(r => r[c].Length).Append(h.Length).Max())];
        var sb = new StringBuilder();
        sb.AppendLine(string.Join("  ", Header.Select((h, c) => h.PadRight(widths[c]))).TrimEnd());
        foreach (string[] row in rows)
        {
            sb.AppendLine(string.Join("  ", row.Select((v, c) => v.PadRight(widths[c]))).TrimEnd());
        }

        int within = points.Count(p => p.LossPoints < 1);
        sb.AppendLine(CultureInfo.InvariantCulture, $"{within} of {points.Count} configurations lose less than 1 point against float ({points[0].FloatAccuracy:P2})");
        return sb.ToString();
    }

    private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);

    private static string F(double v) => v.ToString("F4", CultureInfo.InvariantCulture);
}
