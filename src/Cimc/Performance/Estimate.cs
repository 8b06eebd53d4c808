namespace Cimc.Performance;

/// <summary>
/// What <see cref="Estimator"/> finds for a quantized model on a chip without compiling it: the
/// figures of report.json that a design-space exploration screens by, under the same names
/// (latency_ns, throughput_per_s, energy_nj, area_mm2, crossbars_used, cores_used, tops_per_w,
/// tops_per_mm2). Crossbars, cores and area are exact; latency and energy are estimates that a
/// test holds within 10 % of the event-driven simulation on at least 95 % of random points.
/// </summary>
public sealed record Estimate(
    double LatencyNs,
    double ThroughputPerS,
    double EnergyNj,
    double AreaMm2,
    int CrossbarsUsed,
    int CoresUsed,
    double TopsPerW,
    double TopsPerMm2);
