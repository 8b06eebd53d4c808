using System.Globalization;
using System.Text;
using Cimc.Performance;
using static Cimc.Reporting.Svg;

namespace Cimc.Reporting;

/// <summary>
/// One self-contained HTML page for a <see cref="PerformanceReport"/>: inline CSS and SVG, no
/// scripts, no external references, so it opens offline. The markup is also well-formed XML.
/// </summary>
public static class HtmlReport
{
    public static string Render(PerformanceReport r, int crossbarsPerCore)
    {
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>");
        sb.Append(CultureInfo.InvariantCulture, $"<title>{Text($"cimc report: {r.Model} on {r.Arch}")}</title>");
        sb.Append("<style>body{font-family:sans-serif;margin:24px;max-width:1100px;color:#222}table{border-collapse:collapse;margin:8px 0 20px}"
            + "td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}"
            + "h2{margin-top:28px;border-bottom:1px solid #ddd}.note{color:#666;font-size:13px}</style></head><body>");
        sb.Append(CultureInfo.InvariantCulture, $"<h1>{Text($"{r.Model} on {r.Arch}")}</h1>");
        sb.Append(CultureInfo.InvariantCulture, $"<p class=\"note\">{Text($"{r.CoresUsed} cores, {r.CrossbarsUsed} crossbars, {r.Macs:N0} MACs per inference; throughput from a stream of {r.Batch} inferences. Formulas and sources: docs/cost-model.md.")}</p>");

        foreach (string warning in r.Warnings)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<p class=\"note\">{Text($"warning: {warning}")}</p>");
        }

        Table(sb, ["figure", "simulated", "bound from the mapping", "ratio"],
        [
            ["latency", $"{Format(r.LatencyNs)} ns", $"{Format(r.LowerBoundLatencyNs)} ns (lower)", $"{r.LatencyNs / r.LowerBoundLatencyNs:0.00}x"],
            ["throughput", $"{Format(r.ThroughputPerS)} /s", $"{Format(r.UpperBoundThroughputPerS)} /s (upper)", $"{r.ThroughputPerS / r.UpperBoundThroughputPerS:0.00}x"],
            ["energy per inference (batch 1, idle chip)", $"{Format(r.EnergyNj)} nJ", "", ""],
            [$"energy per inference (stream of {r.Batch})", $"{Format(r.EnergyPerInferenceSteadyNj)} nJ", "", ""],
            ["TOPS/W", Format(r.TopsPerW), "", ""],
            ["area (chip / used by the program)", $"{Format(r.AreaMm2)} / {Format(r.AreaUsedMm2)} mm^2", "", ""],
            ["TOPS/mm^2 (chip / used)", $"{Format(r.TopsPerMm2)} / {Format(r.TopsPerMm2Used)}", "", ""],
            ["crossbar / ADC utilization", $"{r.CrossbarUtilization:P1} / {r.AdcUtilization:P1}", "", ""],
            ["busiest resource", $"{r.BusiestResource} ({r.BusiestUtilization:P1})", "", ""],
        ]);
        sb.Append(Bars("Latency against its lower bound (ns)", [("simulated", r.LatencyNs), ("lower bound", r.LowerBoundLatencyNs)], "ns"));

        sb.Append("<h2>Energy of one inference on an idle chip</h2>");
        sb.Append(Bars("Energy by component (nJ)", [.. r.EnergyBreakdownNj.Select(kv => (kv.Key, kv.Value))], "nJ"));
        Table(sb, ["component", "event", "count", "pJ per event", "nJ"],
            [.. r.EnergyLines.Select(l => new[] { l.Component, l.Event, l.Count.ToString("N0", CultureInfo.InvariantCulture), Format(l.CostPj), Format(l.EnergyPj / 1000) }),
             ["leakage", $"{Format(r.LeakagePowerMw)} mW x {Format(r.LatencyNs)} ns", "", "", Format(r.EnergyBreakdownNj.GetValueOrDefault("leakage"))]]);
        sb.Append(Bars("Leakage power of the hardware used (mW)", [.. r.LeakageBreakdownMw.Select(kv => (kv.Key, kv.Value))], "mW"));

        sb.Append("<h2>Area</h2>");
        sb.Append(Bars("Chip area by component (mm^2)", [.. r.AreaBreakdownMm2.Select(kv => (kv.Key, kv.Value))], "mm^2"));

        sb.Append("<h2>Mapping and layers</h2>");
        sb.Append(Svg.Mapping([.. r.Layers.Select(l => (l.Name, (IReadOnlyList<(int, int)>)[.. l.Cores.Select((c, i) => (c, l.CrossbarsPerCore[i]))]))], crossbarsPerCore));
        Table(sb, ["layer", "shape", "cores", "mvms", "ADC conversions", "mvm ns", "lower bound ns", "dynamic nJ"],
            [.. r.Layers.Select(l => new[] { l.Name, $"{l.InFeatures} x {l.OutFeatures}", l.Cores.Length.ToString(CultureInfo.InvariantCulture),
                l.Mvms.ToString("N0", CultureInfo.InvariantCulture), l.AdcConversions.ToString("N0", CultureInfo.InvariantCulture), Format(l.MvmNs), Format(l.LowerBoundNs), Format(l.EnergyNj) })]);
        sb.Append(Bars("Dynamic energy by layer (nJ)", [.. r.Layers.Select(l => (l.Name, l.EnergyNj))], "nJ"));

        sb.Append("<h2>Critical path of one inference</h2>");
        sb.Append(Bars("Time on the critical path by kind (ns)", [.. r.CriticalPathNs.Select(kv => (kv.Key, kv.Value))], "ns"));
        Table(sb, ["where", "what", "start ns", "end ns"],
            [.. r.CriticalPath.Take(80).Select(p => new[] { p.Where, p.What, Format(p.StartNs), Format(p.EndNs) })]);

        sb.Append("<h2>Event counts per inference</h2>");
        Table(sb, ["event", "count"], [.. r.Counts.Select(kv => new[] { kv.Key, kv.Value.ToString("N0", CultureInfo.InvariantCulture) })]);
        sb.Append("</body></html>\n");
        return sb.ToString();
    }

    private static void Table(StringBuilder sb, string[] header, IEnumerable<string[]> rows)
    {
        sb.Append("<table><tr>");
        foreach (string h in header)
        {
            sb.Append("<th>").Append(Text(h)).Append("</th>");
        }

        sb.Append("</tr>");
        foreach (string[] row in rows)
        {
            sb.Append("<tr>");
            foreach (string cell in row)
            {
                sb.Append("<td>").Append(Text(cell)).Append("</td>");
            }

            sb.Append("</tr>");
        }

        sb.Append("</table>");
    }
}
