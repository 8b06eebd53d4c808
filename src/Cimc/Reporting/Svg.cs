using System.Globalization;
using System.Net;
using System.Text;

namespace Cimc.Reporting;

/// <summary>
/// Hand-written inline SVG charts (no packages, no fonts to embed, no scripts): a horizontal bar
/// chart and a grid of boxes. Every text goes through <see cref="Text"/> so the page stays well-formed.
/// </summary>
public static class Svg
{
    private static readonly string[] Palette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];

    public static string Color(int i) => Palette[i % Palette.Length];

    public static string Text(string s) => WebUtility.HtmlEncode(s);

    public static string Num(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

    /// <summary>One bar per item, scaled to the largest, with its value and share printed beside it.</summary>
    public static string Bars(string title, IReadOnlyList<(string Label, double Value)> items, string unit)
    {
        const int LabelWidth = 170, BarWidth = 420, Row = 22, Top = 28;
        double max = items.Select(i => i.Value).DefaultIfEmpty(0).Max();
        double total = items.Sum(i => i.Value);
        int height = Top + (items.Count * Row) + 8;
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"760\" height=\"{height}\" role=\"img\" aria-label=\"{Text(title)}\">");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"0\" y=\"16\" font-size=\"14\" font-weight=\"bold\">{Text(title)}</text>");
        for (int i = 0; i < items.Count; i++)
        {
            (string label, double value) = items[i];
            double w = max > 0 ? value / max * BarWidth : 0;
            int y = Top + (i * Row);
            string share = total > 0 ? (value / total).ToString("P1", CultureInfo.InvariantCulture) : "";
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"0\" y=\"{y + 14}\" font-size=\"12\">{Text(label)}</text>");
            sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{LabelWidth}\" y=\"{y + 3}\" width=\"{Num(Math.Max(w, 0.5))}\" height=\"14\" fill=\"{Color(i)}\"/>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Num(LabelWidth + w + 6)}\" y=\"{y + 14}\" font-size=\"12\">{Text($"{Format(value)} {unit}  {share}")}</text>");
        }

        return sb.Append("</svg>").ToString();
    }

    /// <summary>The mapping: a row per layer, a box per core labelled with its core id and crossbar count.</summary>
    public static string Mapping(IReadOnlyList<(string Layer, IReadOnlyList<(int Core, int Crossbars)> Cores)> layers, int crossbarsPerCore)
    {
        const int Box = 26, Gap = 3, LabelWidth = 120, PerRow = 24;
        var sb = new StringBuilder();
        int rows = layers.Sum(l => Math.Max(1, (l.Cores.Count + PerRow - 1) / PerRow));
        int height = 30 + (rows * (Box + Gap)) + (layers.Count * 6);
        sb.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{LabelWidth + (PerRow * (Box + Gap)) + 10}\" height=\"{height}\" role=\"img\" aria-label=\"mapping\">");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"0\" y=\"16\" font-size=\"14\" font-weight=\"bold\">{Text($"Layers on cores (number in a box: crossbars used of {crossbarsPerCore})")}</text>");
        int y = 28;
        for (int l = 0; l < layers.Count; l++)
        {
            (string name, IReadOnlyList<(int Core, int Crossbars)> cores) = layers[l];
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"0\" y=\"{y + 17}\" font-size=\"12\">{Text($"{name} ({cores.Count} cores)")}</text>");
            for (int c = 0; c < cores.Count; c++)
            {
                int x = LabelWidth + (c % PerRow * (Box + Gap)), yy = y + (c / PerRow * (Box + Gap));
                double fill = crossbarsPerCore > 0 ? 0.35 + (0.65 * cores[c].Crossbars / crossbarsPerCore) : 1;
                sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x}\" y=\"{yy}\" width=\"{Box}\" height=\"{Box}\" fill=\"{Color(l)}\" fill-opacity=\"{Num(fill)}\"><title>{Text($"core {cores[c].Core}: {cores[c].Crossbars} crossbars")}</title></rect>");
                sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{x + (Box / 2)}\" y=\"{yy + 17}\" font-size=\"10\" text-anchor=\"middle\">{cores[c].Crossbars}</text>");
            }

            y += (Math.Max(1, (cores.Count + PerRow - 1) / PerRow) * (Box + Gap)) + 6;
        }

        return sb.Append("</svg>").ToString();
    }

    public static string Format(double v) => v switch
    {
        0 => "0",
        >= 1e6 or <= -1e6 => v.ToString("0.###e0", CultureInfo.InvariantCulture),
        >= 100 => v.ToString("N0", CultureInfo.InvariantCulture),
        >= 1 => v.ToString("0.###", CultureInfo.InvariantCulture),
        _ => v.ToString("0.####", CultureInfo.InvariantCulture),
    };
}
