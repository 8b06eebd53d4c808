namespace Cimc.Performance;

/// <summary>
/// The figures of report.json that a design-space exploration screens by, under the same names
/// (latency_ns, throughput_per_s, energy_nj, area_mm2, crossbars_used, cores_used, tops_per_w,
/// tops_per_mm2): what <see cref="Estimator"/> finds for a quantized model on a chip without
/// compiling it, and what the simulation finds (<see cref="PerformanceObjectives.Figures"/>).
/// For the estimator, crossbars, cores and area are exact; latency and energy are estimates that
/// tests hold within stated tolerances of the event-driven simulation (EstimatorTests, EstimatorConvTests).
/// </summary>
public sealed record Estimate(
    double LatencyNs,
    double ThroughputPerS,
    double EnergyNj,
    double AreaMm2,
    int CrossbarsUsed,
    int CoresUsed,
    double TopsPerW,
    double TopsPerMm2)
{
    /// <summary>The figures, with the efficiencies from <paramref name="ops"/> per inference (2 per multiply-accumulate): ops / energy, ops x throughput / area.</summary>
    public static Estimate Of(double latencyNs, double throughputPerS, double energyNj, double areaMm2, int crossbars, int cores, double ops) =>
        new(latencyNs, throughputPerS, energyNj, areaMm2, crossbars, cores,
            energyNj > 0 ? ops / (energyNj * 1e-9) / 1e12 : 0, areaMm2 > 0 ? ops * throughputPerS / 1e12 / areaMm2 : 0);
}
