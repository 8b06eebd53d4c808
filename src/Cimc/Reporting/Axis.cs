namespace Cimc.Reporting;

/// <summary>
/// A chart axis a reader can use: round tick values in 1-2-5 steps, and a logarithmic scale when
/// the values span two decades or more (ticks then at 1, 2, 5 x 10^k, or 10^k alone over many decades).
/// </summary>
public sealed record Axis(double Min, double Max, bool Log, IReadOnlyList<double> Ticks)
{
    public static Axis For(IReadOnlyCollection<double> values)
    {
        double lo = values.Min(), hi = values.Max();
        if (lo > 0 && hi / lo >= 100)
        {
            double a = Math.Floor(Math.Log10(lo)), b = Math.Ceiling(Math.Log10(hi));
            double[] mantissas = b - a > 4 ? [1] : [1, 2, 5];
            var ticks = new List<double>();
            for (double e = a; e <= b; e++)
            {
                ticks.AddRange(mantissas.Select(m => m * Math.Pow(10, e)).Where(t => t >= lo / 1.0001 && t <= hi * 1.0001));
            }

            double pad = (Math.Log10(hi) - Math.Log10(lo)) * 0.05;
            return new Axis(Math.Pow(10, Math.Log10(lo) - pad), Math.Pow(10, Math.Log10(hi) + pad), true, ticks);
        }

        if (hi - lo < 1e-12 * Math.Max(1, Math.Abs(hi)))
        {
            double d = Math.Abs(hi) > 0 ? Math.Abs(hi) * 0.1 : 1;
            (lo, hi) = (lo - d, hi + d);
        }

        double step = NiceStep((hi - lo) / 5);
        double first = Math.Ceiling(lo / step) * step;
        var linear = new List<double>();
        for (double t = first; t <= hi + (step * 1e-9); t += step)
        {
            linear.Add(Math.Round(t / step) * step);
        }

        double margin = (hi - lo) * 0.06;
        return new Axis(lo - margin, hi + margin, false, linear);
    }

    /// <summary>The 1-2-5 x 10^k value nearest above <paramref name="raw"/>.</summary>
    public static double NiceStep(double raw)
    {
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double f = raw / magnitude;
        return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * magnitude;
    }

    /// <summary>A tick label without float noise (0.3, not 0.30000000000000004): 0.05, 2, 1500, 2e5 (exponent form for very large or small values).</summary>
    public static string Label(double v) => Math.Abs(v) >= 1e5 || (Math.Abs(v) < 1e-3 && v != 0)
        ? v.ToString("0.##e0", System.Globalization.CultureInfo.InvariantCulture)
        : v.ToString("0.#####", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Where <paramref name="v"/> falls between 0 (Min) and 1 (Max).</summary>
    public double Fraction(double v) => Log
        ? (Math.Log10(v) - Math.Log10(Min)) / (Math.Log10(Max) - Math.Log10(Min))
        : (v - Min) / (Max - Min);
}
