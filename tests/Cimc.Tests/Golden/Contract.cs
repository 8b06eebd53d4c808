using Cimc.Quantization;

namespace Cimc.Tests.Golden;

/// <summary>
/// The small definitions of docs/quantization.md, written again from the document for the golden
/// model. Deliberately independent of Cimc.Quantization.IntMath, ActivationQuant and FixedPoint so
/// that the golden model checks them instead of repeating them.
/// </summary>
public static class Contract
{
    /// <summary>round(v): half away from zero, kept in double (callers clamp before converting).</summary>
    public static double Round(double v) => Math.Round(v, MidpointRounding.AwayFromZero);

    /// <summary>Q(b) = max(1, 2^(b-1) - 1).</summary>
    public static long Q(int bits)
    {
        if (bits is < 1 or > 62)
        {
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "bits must be in 1..62");
        }

        return Math.Max(1L, (1L << (bits - 1)) - 1);
    }

    /// <summary>bitlen(n): bits needed to write n >= 0; bitlen(0) = 0.</summary>
    public static int BitLen(long n)
    {
        if (n < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(n), n, "bitlen is defined for non-negative integers");
        }

        int bits = 0;
        while (n > 0)
        {
            bits++;
            n >>= 1;
        }

        return bits;
    }

    public static int CeilDiv(int a, int b) => (a + b - 1) / b;

    /// <summary>Quantizes a real to a code: clamp(round(v / s) + z, 0, umax); NaN gives z (real zero).</summary>
    public static long Quantize(double v, double scale, long zero, long max)
    {
        double q = Round(v / scale) + zero;
        if (double.IsNaN(q))
        {
            return Math.Clamp(zero, 0, max);
        }

        return q <= 0 ? 0 : q >= max ? max : (long)q;
    }

    /// <summary>
    /// rq(acc, M, r) = floor((acc * M + 2^(r-1)) / 2^r) for r >= 1, acc * M for r = 0; exact in 128 bits.
    /// The floor is an explicit division with a correction for negative remainders, not a shift.
    /// </summary>
    public static Int128 Requantize(long acc, long multiplier, int shift)
    {
        if (multiplier < 0 || shift is < 0 or > 126)
        {
            throw new ArgumentOutOfRangeException(nameof(shift), $"M = {multiplier}, r = {shift}: the contract needs M >= 0 and 0 <= r <= 126");
        }

        Int128 product = checked((Int128)acc * multiplier);
        if (shift == 0)
        {
            return product;
        }

        Int128 divisor = Int128.One << shift;
        Int128 numerator = checked(product + (Int128.One << (shift - 1)));
        Int128 quotient = numerator / divisor; // truncates toward zero
        if (numerator % divisor != 0 && numerator < 0)
        {
            quotient -= 1;
        }

        return quotient;
    }

    /// <summary>(M, r) for a real multiplier mu (section 5).</summary>
    public static (long Multiplier, int Shift) FixedPoint(double mu)
    {
        if (mu == 0)
        {
            return (0, 0);
        }

        if (!(mu > 0) || double.IsInfinity(mu))
        {
            throw new ArgumentOutOfRangeException(nameof(mu), mu, "the contract defines multipliers for finite mu >= 0");
        }

        int e = (int)Math.Floor(Math.Log2(mu));
        int r = 30 - e;
        if (r < 0)
        {
            return ((long)Round(mu), 0);
        }

        r = Math.Min(r, 126);
        return ((long)Round(mu * Math.Pow(2, r)), r);
    }

    /// <summary>Scale, zero point and largest code for a calibrated range [lo, hi] with b bits (section 2).</summary>
    public static (double Scale, long Zero, long Max) ActivationFor(double lo, double hi, int bits)
    {
        if (lo >= 0)
        {
            long max = (1L << bits) - 1;
            return (hi == 0 ? 1.0 : hi / max, 0, max);
        }

        long q = Q(bits);
        double m = Math.Max(Math.Abs(lo), Math.Abs(hi));
        return (m / q, q, 2 * q);
    }

    /// <summary>The activation functions of the layer chain, in double.</summary>
    public static double Activate(ActivationKind kind, float alpha, double v) => kind switch
    {
        ActivationKind.None => v,
        ActivationKind.Relu => Math.Max(v, 0.0),
        ActivationKind.LeakyRelu => v >= 0 ? v : (double)alpha * v,
        ActivationKind.Sigmoid => 1.0 / (1.0 + Math.Exp(-v)),
        ActivationKind.Tanh => Math.Tanh(v),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>
    /// y = clamp(round(f(s_t (t - z_t)) / s_y) + z_y, 0, umax_y) (section 5, item 2), in double:
    /// t - z_t as an integer, then times s_t, f, divided by s_y, rounded, plus z_y; NaN gives z_y.
    /// </summary>
    public static long ActivationCode(QuantizedLayer layer, long t)
    {
        ActivationQuant pre = layer.PreActivation ?? throw new ArgumentException($"layer '{layer.Name}' has no pre-activation quantization", nameof(layer));
        ActivationQuant y = layer.Output ?? throw new ArgumentException($"layer '{layer.Name}' has no output quantization", nameof(layer));
        if (t < 0 || t > pre.Max)
        {
            throw new ArgumentOutOfRangeException(nameof(t), t, $"pre-activation codes are 0..{pre.Max}");
        }

        double real = pre.Scale * (double)(t - pre.ZeroPoint);
        return Quantize(Activate(layer.Activation, layer.Alpha, real), y.Scale, y.ZeroPoint, y.Max);
    }

    /// <summary>True for the activations computed by the special-function unit from a requantized pre-activation.</summary>
    public static bool UsesActivationUnit(ActivationKind kind) => kind is ActivationKind.Sigmoid or ActivationKind.Tanh or ActivationKind.LeakyRelu;
}
