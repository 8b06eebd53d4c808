using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Cimc.Exploration;
using static Cimc.Reporting.Svg;

namespace Cimc.Reporting;

/// <summary>
/// The Pareto report of a design-space study, one self-contained HTML page (inline CSS and SVG, no
/// scripts): the exact non-dominated front as a table, numbered; a scatter plot of each pair of
/// objectives with the front's points drawn large, green and numbered as in the table; and each
/// parameter's effect (per value: points, points on the front, median of each objective).
/// </summary>
public static class StudyReport
{
    public static string Render(Study study)
    {
        ImmutableArray<PointResult> front = study.Front();
        List<PointResult> feasible = [.. study.Feasible];
        var number = front.Select((r, i) => (r.Key, i + 1)).ToDictionary(x => x.Key, x => x.Item2);
        var sb = new StringBuilder();
        string model = study.Meta.GetValueOrDefault("model") ?? "model";
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>");
        sb.Append(CultureInfo.InvariantCulture, $"<title>{Text($"cimc explore: {model}")}</title>");
        sb.Append("<style>body{font-family:sans-serif;margin:24px;max-width:1200px;color:#222}table{border-collapse:collapse;margin:8px 0 20px}"
            + "td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:right}th{background:#f3f3f3}td.l,th.l{text-align:left}"
            + "h2{margin-top:28px;border-bottom:1px solid #ddd}.note{color:#666;font-size:13px}</style></head><body>");
        sb.Append(CultureInfo.InvariantCulture, $"<h1>{Text($"Design-space study of {model}")}</h1>");
        int invalid = study.Rows.Count(r => !r.Valid);
        sb.Append(CultureInfo.InvariantCulture, $"<p class=\"note\">{Text($"{study.Rows.Length} points in the database: {feasible.Count} feasible, {invalid} invalid, {study.Rows.Length - feasible.Count - invalid} outside the constraints ({(study.Constraints.IsEmpty ? "none" : string.Join(", ", study.Constraints))}). Objectives: {string.Join(", ", study.Objectives.Select(o => $"{(o.Maximize ? "maximise" : "minimise")} {o.Name}"))}. The front is the exact non-dominated set of the feasible points.")}</p>");

        sb.Append(CultureInfo.InvariantCulture, $"<h2>Pareto front ({front.Length} points)</h2>");
        Table(sb, ["#", .. study.Objectives.Select(o => $"{o.Name} ({o.Unit})"), .. study.Parameters],
            [.. front.Select(r => (string[])[number[r.Key].ToString(CultureInfo.InvariantCulture), .. study.Objectives.Select(o => Format(r.Metric(o.Name)!.Value)), .. study.Parameters.Select(p => Study.Value(r, p))])],
            leftFrom: 1 + study.Objectives.Length);

        if (study.Objectives.Length >= 2 && feasible.Count > 0)
        {
            sb.Append("<h2>Objectives in pairs</h2><p class=\"note\">Grey: feasible points; green and numbered: the front (numbers as in the table). Hover a point for its configuration.</p>");
            for (int a = 0; a < study.Objectives.Length; a++)
            {
                for (int b = a + 1; b < study.Objectives.Length; b++)
                {
                    sb.Append(ParetoPlot.Render(study.Objectives[a], study.Objectives[b], feasible, number));
                }
            }
        }

        sb.Append("<h2>Effect of each parameter</h2><p class=\"note\">For each value: how many feasible points have it, how many of them are on the front, and the median of each objective over them.</p>");
        foreach (string p in study.Parameters)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<h3>{Text(p)}</h3>");
            var groups = feasible.GroupBy(r => Study.Value(r, p)).OrderBy(g => double.TryParse(g.Key, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v : double.NaN).ThenBy(g => g.Key, StringComparer.Ordinal);
            Table(sb, ["value", "points", "on the front", .. study.Objectives.Select(o => $"median {o.Name} ({o.Unit})")],
                [.. groups.Select(g => (string[])[g.Key, g.Count().ToString(CultureInfo.InvariantCulture), g.Count(r => number.ContainsKey(r.Key)).ToString(CultureInfo.InvariantCulture),
                    .. study.Objectives.Select(o => Format(Median([.. g.Select(r => r.Metric(o.Name)!.Value)])))])],
                leftFrom: int.MaxValue);
        }

        List<PointResult> bad = [.. study.Rows.Where(r => !r.Valid)];
        if (bad.Count > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<h2>Invalid points ({bad.Count})</h2>");
            Table(sb, ["configuration", "reason"], [.. bad.Take(200).Select(r => new[] { r.Config, r.Reason ?? "" })], leftFrom: 0);
        }

        sb.Append("</body></html>\n");
        return sb.ToString();
    }

    private static double Median(double[] values)
    {
        Array.Sort(values);
        int n = values.Length;
        return n % 2 == 1 ? values[n / 2] : (values[(n / 2) - 1] + values[n / 2]) / 2;
    }

    private static void Table(StringBuilder sb, IReadOnlyList<string> header, IReadOnlyList<string[]> rows, int leftFrom)
    {
        sb.Append("<table><tr>");
        for (int i = 0; i < header.Count; i++)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<th{(i == 0 || i >= leftFrom ? " class=\"l\"" : "")}>{Text(header[i])}</th>");
        }

        sb.Append("</tr>");
        foreach (string[] row in rows)
        {
            sb.Append("<tr>");
            for (int i = 0; i < row.Length; i++)
            {
                sb.Append(CultureInfo.InvariantCulture, $"<td{(i == 0 || i >= leftFrom ? " class=\"l\"" : "")}>{Text(row[i])}</td>");
            }

            sb.Append("</tr>");
        }

        sb.Append("</table>");
    }
}
