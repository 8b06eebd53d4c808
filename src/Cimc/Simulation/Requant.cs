namespace Cimc.Simulation;

/// <summary>vrequant's arithmetic on one element (docs/isa.md), written once for both interpreters.</summary>
internal static class Requant
{
    /// <summary>
    /// clamp(((x * m + round) >> r) + zp, lo, hi) exactly in 128 bits (floor shift; round is 2^(r-1), or
    /// 0 when r is 0), for parameters the caller has checked: m &gt;= 0, 0 &lt;= r &lt;= 126, lo &lt;= hi.
    /// </summary>
    public static long Exact(long x, long m, int r, long zp, long lo, long hi)
    {
        Int128 v = (Int128)x * m;
        if (r > 0)
        {
            v += Int128.One << (r - 1);
        }

        v = (v >> r) + zp;
        return v < lo ? lo : v > hi ? hi : (long)v;
    }
}
