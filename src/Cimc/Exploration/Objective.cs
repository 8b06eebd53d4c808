using System.Collections.Immutable;
using System.Globalization;
using Cimc.Diagnostics;

namespace Cimc.Exploration;

/// <summary>A figure to optimise: its report.json name, its direction and its unit (for axes).</summary>
public sealed record Objective(string Name, bool Maximize, string Unit)
{
    public static ImmutableArray<Objective> All { get; } =
    [
        new("latency_ns", false, "ns"),
        new("throughput_per_s", true, "inferences/s"),
        new("energy_nj", false, "nJ"),
        new("area_mm2", false, "mm^2"),
        new("accuracy", true, "fraction"),
        new("crossbars_used", false, "crossbars"),
    ];

    public static ImmutableArray<Objective> Defaults(bool withAccuracy) =>
        [.. All.Where(o => o.Name is "latency_ns" or "energy_nj" or "area_mm2" || (withAccuracy && o.Name == "accuracy"))];

    /// <summary>A comma-separated list of objective names, e.g. <c>latency_ns,energy_nj</c>.</summary>
    public static ImmutableArray<Objective> ParseList(string text)
    {
        string[] names = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (names.Length == 0)
        {
            throw new CimcException("bad-option", "--objectives", "needs at least one objective");
        }

        return [.. names.Distinct().Select(n => All.FirstOrDefault(o => o.Name == n)
            ?? throw new CimcException("bad-option", "--objectives", $"unknown objective '{n}' (expected any of {string.Join(", ", All.Select(o => o.Name))})"))];
    }

    /// <summary>The value to minimise (a maximised figure is negated); null when the point lacks it.</summary>
    public double? Cost(PointResult r) => r.Metric(Name) is double v ? (Maximize ? -v : v) : null;
}

/// <summary>A bound on a figure, e.g. <c>area_mm2&lt;=100</c> or <c>accuracy&gt;=0.85</c>.</summary>
public sealed record Constraint(string Metric, string Operator, double Bound)
{
    private static readonly string[] Operators = ["<=", ">=", "<", ">"];

    public static Constraint Parse(string text)
    {
        foreach (string op in Operators)
        {
            int at = text.IndexOf(op, StringComparison.Ordinal);
            if (at <= 0)
            {
                continue;
            }

            string metric = text[..at].Trim(), bound = text[(at + op.Length)..].Trim();
            if (!PointResult.MetricNames.Contains(metric))
            {
                throw new CimcException("bad-option", "--constraint", $"unknown figure '{metric}' in '{text}' (expected any of {string.Join(", ", PointResult.MetricNames)})");
            }

            return double.TryParse(bound, NumberStyles.Float, CultureInfo.InvariantCulture, out double b) && double.IsFinite(b)
                ? new Constraint(metric, op, b)
                : throw new CimcException("bad-option", "--constraint", $"'{bound}' in '{text}' is not a number");
        }

        throw new CimcException("bad-option", "--constraint", $"'{text}' is not of the form FIGURE<=NUMBER (or >=, <, >)");
    }

    /// <summary>How far the point is from meeting the bound, relative to the bound (0 when met; 1 when the figure is missing).</summary>
    public double Violation(PointResult r)
    {
        if (r.Metric(Metric) is not double v)
        {
            return 1;
        }

        bool met = Operator switch { "<=" => v <= Bound, ">=" => v >= Bound, "<" => v < Bound, _ => v > Bound };
        // A strict bound missed by equality still counts as a (tiny) violation.
        return met ? 0 : Math.Max(Math.Abs(v - Bound) / Math.Max(Math.Abs(Bound), 1e-12), 1e-12);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Metric}{Operator}{Bound}");
}
