using System.Globalization;
using System.Net;
using System.Text;

namespace Cimc.Reporting;

/// <summary>
/// A self-contained SVG scatter plot (no fonts or scripts needed beyond the viewer's default):
/// points with labels, axes with round 1-2-5 ticks (logarithmic where values span decades), an
/// optional horizontal reference line.
/// </summary>
public static class SvgScatter
{
    /// <summary>A point; its label shows on hover, and beside the point when <paramref name="ShowLabel"/> is set.</summary>
    public sealed record Point(double X, double Y, string Label, bool Highlight, bool ShowLabel = true);

    public static string Render(string title, string xLabel, string yLabel, IReadOnlyList<Point> points, double? referenceY = null, string? referenceLabel = null)
    {
        const int Width = 760, Height = 480, Left = 70, Right = 20, Top = 40, Bottom = 60;
        // Round 1-2-5 ticks and a log scale where values span decades (Axis, shared with the study report).
        Axis xAxis = Axis.For([.. points.Select(p => p.X)]);
        Axis yAxis = Axis.For([.. points.Select(p => p.Y).Concat(referenceY is double ry ? [ry] : [])]);
        double Sx(double x) => Left + (xAxis.Fraction(x) * (Width - Left - Right));
        double Sy(double y) => Height - Bottom - (yAxis.Fraction(y) * (Height - Top - Bottom));
        string N(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"sans-serif\" font-size=\"11\">");
        sb.Append(CultureInfo.InvariantCulture, $"<rect width=\"{Width}\" height=\"{Height}\" fill=\"white\"/>");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Width / 2}\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">{Esc(title)}</text>");
        sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{Height - Bottom}\" x2=\"{Width - Right}\" y2=\"{Height - Bottom}\" stroke=\"black\"/>");
        sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{Height - Bottom}\" stroke=\"black\"/>");
        foreach (double xv in xAxis.Ticks)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{N(Sx(xv))}\" y=\"{Height - Bottom + 16}\" text-anchor=\"middle\">{Axis.Label(xv)}</text>");
        }

        foreach (double yv in yAxis.Ticks)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left - 6}\" y=\"{N(Sy(yv) + 4)}\" text-anchor=\"end\">{Axis.Label(yv)}</text>");
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{N(Sy(yv))}\" x2=\"{Width - Right}\" y2=\"{N(Sy(yv))}\" stroke=\"#eee\"/>");
        }

        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{(Left + Width - Right) / 2}\" y=\"{Height - 18}\" text-anchor=\"middle\">{Esc(xLabel)}</text>");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"16\" y=\"{(Top + Height - Bottom) / 2}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {(Top + Height - Bottom) / 2})\">{Esc(yLabel)}</text>");
        if (referenceY is double r)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{N(Sy(r))}\" x2=\"{Width - Right}\" y2=\"{N(Sy(r))}\" stroke=\"#c33\" stroke-dasharray=\"4 3\"/>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Width - Right - 4}\" y=\"{N(Sy(r) - 4)}\" text-anchor=\"end\" fill=\"#c33\">{Esc(referenceLabel ?? "")}</text>");
        }

        foreach (Point p in points)
        {
            string color = p.Highlight ? "#1a7f37" : "#555";
            sb.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{N(Sx(p.X))}\" cy=\"{N(Sy(p.Y))}\" r=\"4\" fill=\"{color}\"><title>{Esc(p.Label)}</title></circle>");
            if (p.ShowLabel)
            {
                bool right = Sx(p.X) > Width * 0.7;
                sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{N(Sx(p.X) + (right ? -6 : 6))}\" y=\"{N(Sy(p.Y) - 6)}\" font-size=\"9\" fill=\"{color}\" text-anchor=\"{(right ? "end" : "start")}\">{Esc(p.Label)}</text>");
            }
        }

        sb.Append("</svg>\n");
        return sb.ToString();
    }

    private static string Esc(string s) => WebUtility.HtmlEncode(s);
}
