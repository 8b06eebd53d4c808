namespace Cimc.Quantization;

/// <summary>A real multiplier mu encoded as M / 2^r (docs/quantization.md section 5).</summary>
public readonly record struct FixedPoint(long Multiplier, int Shift)
{
    public const int MaxShift = 126;

    public static FixedPoint FromReal(double mu)
    {
        if (!(mu > 0) || double.IsInfinity(mu))
        {
            return new FixedPoint(0, 0);
        }

        int e = (int)Math.Floor(Math.Log2(mu));
        int r = 30 - e;
        if (r < 0)
        {
            return new FixedPoint(IntMath.Round(mu), 0);
        }

        if (r > MaxShift)
        {
            r = MaxShift;
        }

        return new FixedPoint(IntMath.Round(Math.ScaleB(mu, r)), r);
    }

    public double Value => Multiplier * Math.ScaleB(1.0, -Shift);
}
