using System.Globalization;
using System.Text;
using Cimc.Exploration;
using static Cimc.Reporting.Svg;

namespace Cimc.Reporting;

/// <summary>
/// One scatter plot of a pair of objectives: every feasible point in grey, the front's points in
/// green, larger and numbered; round ticks (<see cref="Axis"/>), a unit on each axis, log scales
/// where values span decades, and each point's configuration as a tooltip.
/// </summary>
public static class ParetoPlot
{
    public static string Render(Objective x, Objective y, IReadOnlyList<PointResult> points, IReadOnlyDictionary<string, int> front)
    {
        const int Width = 560, Height = 400, Left = 78, Right = 16, Top = 30, Bottom = 52;
        Axis ax = Axis.For([.. points.Select(p => p.Metric(x.Name)!.Value)]);
        Axis ay = Axis.For([.. points.Select(p => p.Metric(y.Name)!.Value)]);
        string N(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);
        double Sx(double v) => Left + (ax.Fraction(v) * (Width - Left - Right));
        double Sy(double v) => Height - Bottom - (ay.Fraction(v) * (Height - Top - Bottom));
        string Label(Objective o, Axis a) => $"{o.Name} ({o.Unit}{(a.Log ? ", log scale" : "")}; {(o.Maximize ? "higher" : "lower")} is better)";

        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"sans-serif\" font-size=\"11\" role=\"img\" aria-label=\"{Text($"{y.Name} against {x.Name}")}\">");
        sb.Append(CultureInfo.InvariantCulture, $"<rect width=\"{Width}\" height=\"{Height}\" fill=\"white\"/>");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Width / 2}\" y=\"18\" text-anchor=\"middle\" font-size=\"13\">{Text($"{y.Name} against {x.Name}")}</text>");
        foreach (double t in ax.Ticks)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{N(Sx(t))}\" y1=\"{Top}\" x2=\"{N(Sx(t))}\" y2=\"{Height - Bottom}\" stroke=\"#eee\"/>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{N(Sx(t))}\" y=\"{Height - Bottom + 15}\" text-anchor=\"middle\">{Text(Axis.Label(t))}</text>");
        }

        foreach (double t in ay.Ticks)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{N(Sy(t))}\" x2=\"{Width - Right}\" y2=\"{N(Sy(t))}\" stroke=\"#eee\"/>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left - 5}\" y=\"{N(Sy(t) + 4)}\" text-anchor=\"end\">{Text(Axis.Label(t))}</text>");
        }

        sb.Append(CultureInfo.InvariantCulture, $"<polyline points=\"{Left},{Top} {Left},{Height - Bottom} {Width - Right},{Height - Bottom}\" fill=\"none\" stroke=\"black\"/>");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{(Left + Width - Right) / 2}\" y=\"{Height - 12}\" text-anchor=\"middle\">{Text(Label(x, ax))}</text>");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"14\" y=\"{(Top + Height - Bottom) / 2}\" text-anchor=\"middle\" transform=\"rotate(-90 14 {(Top + Height - Bottom) / 2})\">{Text(Label(y, ay))}</text>");
        foreach (PointResult p in points.OrderBy(p => front.ContainsKey(p.Key)))
        {
            double px = Sx(p.Metric(x.Name)!.Value), py = Sy(p.Metric(y.Name)!.Value);
            if (front.TryGetValue(p.Key, out int n))
            {
                sb.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{N(px)}\" cy=\"{N(py)}\" r=\"5\" fill=\"#1a7f37\"><title>{Text($"#{n} {p.Config}")}</title></circle>");
                sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{N(px + 6)}\" y=\"{N(py - 5)}\" font-size=\"10\" fill=\"#1a7f37\">{n}</text>");
            }
            else
            {
                sb.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{N(px)}\" cy=\"{N(py)}\" r=\"3\" fill=\"#999\" fill-opacity=\"0.7\"><title>{Text(p.Config)}</title></circle>");
            }
        }

        return sb.Append("</svg>\n").ToString();
    }
}
