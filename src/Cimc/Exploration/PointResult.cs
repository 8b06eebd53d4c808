using System.Collections.Immutable;

namespace Cimc.Exploration;

/// <summary>
/// One evaluated design point, as the results database stores it: the key and canonical
/// configuration, whether it could be built (and why not), and the report's main figures. Accuracy
/// is null when the study has no labelled data.
/// </summary>
public sealed record PointResult(
    string Key,
    string Config,
    bool Valid,
    string? Reason,
    double? LatencyNs = null,
    double? ThroughputPerS = null,
    double? EnergyNj = null,
    double? AreaMm2 = null,
    double? Accuracy = null,
    int? CrossbarsUsed = null,
    int? CoresUsed = null,
    double? LowerBoundLatencyNs = null,
    double? TopsPerW = null,
    double? TopsPerMm2 = null,
    string Fidelity = "simulate")
{
    /// <summary>The figures a study can optimise or constrain, by their report.json names.</summary>
    public static ImmutableArray<string> MetricNames { get; } =
        ["latency_ns", "throughput_per_s", "energy_nj", "area_mm2", "accuracy", "crossbars_used", "cores_used", "lower_bound_latency_ns", "tops_per_w", "tops_per_mm2"];

    public static PointResult Invalid(DesignPoint point, string reason) => new(point.Key, point.Canonical(), false, reason);

    /// <summary>A valid point's row from its figures (estimated or simulated: <paramref name="fidelity"/>); a lower bound only a simulated program has.</summary>
    public static PointResult Of(DesignPoint point, Performance.Estimate f, double? lowerBound, double? accuracy, string fidelity) =>
        new(point.Key, point.Canonical(), true, null, f.LatencyNs, f.ThroughputPerS, f.EnergyNj, f.AreaMm2, accuracy,
            f.CrossbarsUsed, f.CoresUsed, lowerBound, f.TopsPerW, f.TopsPerMm2, fidelity);

    public double? Metric(string name) => name switch
    {
        "latency_ns" => LatencyNs,
        "throughput_per_s" => ThroughputPerS,
        "energy_nj" => EnergyNj,
        "area_mm2" => AreaMm2,
        "accuracy" => Accuracy,
        "crossbars_used" => CrossbarsUsed,
        "cores_used" => CoresUsed,
        "lower_bound_latency_ns" => LowerBoundLatencyNs,
        "tops_per_w" => TopsPerW,
        "tops_per_mm2" => TopsPerMm2,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "not a metric"),
    };
}
