using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Cimc.Architectures;
using Cimc.Diagnostics;
using Cimc.Performance;
using Cimc.Reporting;

namespace Cimc.Exploration;

/// <summary>One design point of a cost trend: the parameter swept, its value and what one mvm costs there.</summary>
/// <param name="EnergyPjPerMac">Energy of one full-array mvm at the default precision (crossbar reads, DACs, ADCs,
/// sample-and-holds, shift-and-adds of every weight plane) over its rows x cols MACs.</param>
/// <param name="MvmNs">Latency of that mvm on one crossbar (<see cref="CostModel.MvmNs(Architecture, long, long, long)"/>).</param>
/// <param name="AreaMm2">The whole chip (<see cref="CostModel.ChipArea"/>).</param>
public sealed record TrendPoint(string Parameter, int Value, double EnergyPjPerMac, double MvmNs, double AreaMm2, bool IsPreset);

/// <summary>
/// `cimc arch trends`: how the cost model moves one parameter at a time around an architecture
/// (ADC bits, crossbar size, cell bits, DAC bits), as data and as SVG charts (docs/cost-model.md
/// section 7). The other parameters stay at the architecture's values; points the architecture
/// validator refuses (e.g. more ADCs per crossbar than columns) are left out.
/// </summary>
public static class CostTrends
{
    /// <summary>The swept parameters, their file-name stem and the values tried.</summary>
    public static readonly ImmutableArray<(string Name, string Label, int[] Values)> Parameters =
    [
        ("adc-bits", "ADC bits", [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]),
        ("crossbar-size", "crossbar rows = cols", [32, 64, 128, 256, 512]),
        ("cell-bits", "cell bits", [1, 2, 3, 4]),
        ("dac-bits", "DAC bits", [1, 2, 3, 4]),
    ];

    public static ImmutableArray<TrendPoint> Sweep(Architecture arch)
    {
        var points = ImmutableArray.CreateBuilder<TrendPoint>();
        foreach ((string name, _, int[] values) in Parameters)
        {
            foreach (int v in values)
            {
                Architecture? a = Vary(arch, name, v);
                if (a is not null)
                {
                    points.Add(Point(a, name, v, Current(arch, name) == v));
                }
            }
        }

        return points.ToImmutable();
    }

    /// <summary>The charts: one SVG per parameter and figure, named <c>{parameter}-{energy|latency|area}.svg</c>.</summary>
    public static IReadOnlyList<(string FileName, string Svg)> Charts(Architecture arch, ImmutableArray<TrendPoint> points)
    {
        var charts = new List<(string, string)>();
        foreach ((string name, string label, _) in Parameters)
        {
            var mine = points.Where(p => p.Parameter == name).ToList();
            if (mine.Count == 0)
            {
                continue;
            }

            foreach ((string figure, string axis, Func<TrendPoint, double> y) in new (string, string, Func<TrendPoint, double>)[]
            {
                ("energy", "energy per MAC (pJ)", p => p.EnergyPjPerMac),
                ("latency", "mvm latency (ns)", p => p.MvmNs),
                ("area", "chip area (mm^2)", p => p.AreaMm2),
            })
            {
                var svgPoints = mine.Select(p => new SvgScatter.Point(p.Value, y(p), Svg.Format(y(p)), p.IsPreset)).ToList();
                charts.Add(($"{name}-{figure}.svg", SvgScatter.Render($"{arch.Name}: {axis} against {label}", label, axis, svgPoints)));
            }
        }

        return charts;
    }

    /// <summary>The points as CSV: parameter, value, energy_pj_per_mac, mvm_ns, area_mm2, preset.</summary>
    public static string Csv(ImmutableArray<TrendPoint> points)
    {
        var sb = new StringBuilder("parameter,value,energy_pj_per_mac,mvm_ns,area_mm2,preset\n");
        foreach (TrendPoint p in points)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{p.Parameter},{p.Value},{p.EnergyPjPerMac:G6},{p.MvmNs:G6},{p.AreaMm2:G6},{(p.IsPreset ? 1 : 0)}\n");
        }

        return sb.ToString();
    }

    private static int Current(Architecture a, string name) => name switch
    {
        "adc-bits" => a.Core.Adc.Bits,
        "crossbar-size" => a.Core.Crossbar.Rows == a.Core.Crossbar.Cols ? a.Core.Crossbar.Rows : -1,
        "cell-bits" => a.Core.Crossbar.CellBits,
        _ => a.Core.Dac.Bits,
    };

    private static Architecture? Vary(Architecture a, string name, int v)
    {
        try
        {
            return name switch
            {
                "adc-bits" => a.With(adcBits: v),
                "crossbar-size" => a.With(rows: v, cols: v),
                "cell-bits" => a.With(cellBits: v),
                _ => a.With(dacBits: v),
            };
        }
        catch (CimcException)
        {
            return null;
        }
    }

    private static TrendPoint Point(Architecture a, string name, int value, bool preset)
    {
        int rows = a.Core.Crossbar.Rows, cols = a.Core.Crossbar.Cols;
        int slices = a.Core.InputSlices(a.DefaultPrecision.ActivationBits);
        int planes = PeakMetrics.WeightPlanes(a.DefaultPrecision, a.Core.Crossbar.CellBits);
        double perRead = ComponentCosts.ReadEnergyPj(a) + (rows * ComponentCosts.DacEnergyPj(a))
            + (cols * (ComponentCosts.Adc(a).EnergyPj + ComponentCosts.SampleHoldEnergyPj(a) + ComponentCosts.ShiftAddEnergyPj(a)));
        double energy = planes * slices * perRead / ((double)rows * cols);
        double area = CostModel.ChipArea(a).Sum(s => s.Value);
        return new TrendPoint(name, value, energy, CostModel.MvmNs(a, cols, a.DefaultPrecision.ActivationBits), area, preset);
    }
}
