namespace Cimc.Quantization;

/// <summary>The small integer helpers of docs/quantization.md, named as there.</summary>
public static class IntMath
{
    /// <summary>Round half away from zero.</summary>
    public static long Round(double v)
    {
        double r = Math.Round(v, MidpointRounding.AwayFromZero);
        return r >= 9.2e18 ? long.MaxValue / 2 : r <= -9.2e18 ? long.MinValue / 2 : (long)r;
    }

    /// <summary>Largest magnitude of a signed symmetric value of <paramref name="bits"/> bits: max(1, 2^(b-1) - 1).</summary>
    public static long SymmetricMax(int bits) => Math.Max(1L, (1L << (bits - 1)) - 1);

    /// <summary>Bits needed to write a non-negative integer (bitlen(0) = 0).</summary>
    public static int BitLength(long n) => n <= 0 ? 0 : 64 - System.Numerics.BitOperations.LeadingZeroCount((ulong)n);

    public static long Clamp(long v, long lo, long hi) => v < lo ? lo : v > hi ? hi : v;

    /// <summary>Division rounding up, for block counts.</summary>
    public static int CeilDiv(int a, int b) => (a + b - 1) / b;
}
