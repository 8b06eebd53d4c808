using Cimc.Architectures;
using Cimc.Diagnostics;
using Cimc.Ir;
using Cimc.Passes;
using Cimc.Performance;
using Cimc.Quantization;
using Xunit.Abstractions;

namespace Cimc.Tests.Performance;

/// <summary>
/// The analytic estimate agrees with the compiled program's event-driven simulation: on a fixed-seed
/// sample of random models on random chips (the three presets with random crossbars, converters,
/// ADC sharing, cores, tiles, cell, weight and activation bits, encodings and rows per read), latency,
/// energy and area each within 10 % on at least 95 % of the points, crossbars and cores exactly; a
/// quarter of them at -O0 (reduction chains, direct sends), the rest at -O2.
/// </summary>
public sealed class EstimatorTests(ITestOutputHelper output)
{
    private const int Points = 120;

    [Fact]
    public void Estimates_agree_with_the_simulation_within_ten_percent_on_at_least_95_percent_of_random_points()
    {
        var latency = new List<double>();
        var energy = new List<double>();
        var area = new List<double>();
        var throughput = new List<double>();
        var worst = new List<(double Error, string What)>();
        var rng = new Random(20261129);
        while (latency.Count < Points)
        {
            int seed = rng.Next();
            (Architecture arch, QuantizationOptions options, int[] widths, Func<Op>? activation, int batch) = RandomPoint(new Random(seed));
            bool straight = seed % 4 == 0; // -O0: chains and direct sends instead of trees and the ring
            Compilation c;
            try
            {
                c = PerformanceFixtures.Compile(CompileSettings.Default with { Level = straight ? OptLevel.O0 : OptLevel.O2 }, arch, options, seed, activation, widths);
            }
            catch (CimcException)
            {
                continue; // a network this chip cannot hold: nothing to compare
            }

            PerformanceReport simulated = PerformanceFixtures.Evaluate(c, batch);
            Estimate estimated = Estimator.Of(c.Quantized!, arch, batch, ring: !straight, tree: !straight, delivery: !straight);
            Assert.Equal(simulated.CrossbarsUsed, estimated.CrossbarsUsed);
            Assert.Equal(simulated.CoresUsed, estimated.CoresUsed);
            double Error(double e, double s) => Math.Abs(e - s) / s;
            latency.Add(Error(estimated.LatencyNs, simulated.LatencyNs));
            energy.Add(Error(estimated.EnergyNj, simulated.EnergyNj));
            area.Add(Error(estimated.AreaMm2, simulated.AreaMm2));
            throughput.Add(Error(estimated.ThroughputPerS, simulated.ThroughputPerS));
            worst.Add((Math.Max(latency[^1], energy[^1]), $"seed {seed}: latency {estimated.LatencyNs:F0} vs {simulated.LatencyNs:F0}, energy {estimated.EnergyNj:F1} vs {simulated.EnergyNj:F1} ({string.Join("-", widths)}, {Describe(arch)}, w{options.WeightBits} a{options.ActivationBits} {options.SignedWeights} rpr {options.RowsPerRead})"));
        }

        foreach ((string name, List<double> errors) in new[] { ("latency", latency), ("energy", energy), ("area", area), ("throughput", throughput) })
        {
            output.WriteLine($"{name}: {Summary(errors)}");
        }

        foreach ((double e, string what) in worst.OrderByDescending(w => w.Error).Take(8))
        {
            output.WriteLine($"  {e:P1} {what}");
        }

        Assert.True(Within(latency) >= 0.95, $"latency within 10 % on {Within(latency):P1} of the points ({Summary(latency)})");
        Assert.True(Within(energy) >= 0.95, $"energy within 10 % on {Within(energy):P1} of the points ({Summary(energy)})");
        Assert.True(Within(area) >= 0.95, $"area within 10 % on {Within(area):P1} of the points ({Summary(area)})");
    }

    private static double Within(List<double> errors) => errors.Count(e => e <= 0.10) / (double)errors.Count;

    private static string Summary(List<double> errors)
    {
        List<double> sorted = [.. errors.Order()];
        double At(double q) => sorted[(int)Math.Min(sorted.Count - 1, Math.Floor(q * sorted.Count))];
        return $"{Within(errors):P1} within 10 %, median {At(0.5):P1}, 90th percentile {At(0.9):P1}, 95th {At(0.95):P1}, max {sorted[^1]:P1}";
    }

    internal static (Architecture Arch, QuantizationOptions Options, int[] Widths, Func<Op>? Activation, int Batch) RandomPoint(Random rng)
    {
        Architecture preset = ArchitectureCatalog.Preset(new[] { "puma", "isaac", "edge" }[rng.Next(3)]);
        int size = 32 << rng.Next(3);
        int group = new[] { 1, 2, 4 }[rng.Next(3)];
        int crossbars = Math.Max(group, preset.Core.Crossbars >> rng.Next(3));
        Architecture arch = preset with
        {
            Chip = preset.Chip with { Tiles = Math.Max(1, preset.Chip.Tiles >> rng.Next(4)) },
            Tile = preset.Tile with { Cores = Math.Max(1, preset.Tile.Cores >> rng.Next(3)) },
            Core = preset.Core with
            {
                Crossbars = crossbars - (crossbars % group),
                Adc = new AdcSpec(rng.Next(4, 11), group == 1 ? 1 << rng.Next(4) : rng.Next(1, 5), group),
            },
        };
        arch = arch.With(rows: size, cols: size, cellBits: rng.Next(1, 5), dacBits: rng.Next(1, 3));
        int[] widths = [.. Enumerable.Range(0, rng.Next(2, 5)).Select(_ => rng.Next(8, 400))];
        var options = Compiler.OptionsFor(arch) with
        {
            WeightBits = rng.Next(2, 9),
            ActivationBits = rng.Next(2, 9),
            SignedWeights = (SignedWeightEncoding)rng.Next(3),
            RowsPerRead = rng.Next(4) == 0 ? rng.Next(1, size + 1) : 0,
        };
        Func<Op>? activation = rng.Next(3) switch { 0 => () => new Relu(), 1 => () => new Sigmoid(), _ => null };
        return (arch, options, widths, activation, rng.Next(1, 17));
    }

    private static string Describe(Architecture a) =>
        $"{a.Name}: {a.Chip.Tiles} tiles x {a.Tile.Cores} cores x {a.Core.Crossbars} xbars {a.Core.Crossbar.Rows}x{a.Core.Crossbar.Cols} c{a.Core.Crossbar.CellBits} dac{a.Core.Dac.Bits} adc {a.Core.Adc}";
}
