using System.Runtime.Intrinsics;

namespace Cimc.Simulation.Batched;

/// <summary>vrequant and vlut over a batch: per element, per sample, reading their parameters each time as the reference does.</summary>
internal sealed partial class BatchMachine
{
    private void VRequant(int slot, in DecodedOp op)
    {
        long dst = op.F0, src = op.F1, prm = op.F2, len = op.F3;
        int n = _n;
        Rows(slot, dst, len);
        Rows(slot, src, len);
        Span<long> header = Rows(slot, prm, 3 + (2 * len));
        Span<long> zp = header[..n], lo = header.Slice(n, n), hi = header.Slice(2 * n, n);

        // The compiler's parameters are the same for every sample (data segments); then a row is one
        // vector loop. Writes into the parameters would change them mid-instruction, so such
        // overlaps keep the element-by-element loop.
        bool shared = (dst + len <= prm || prm + 3 + (2 * len) <= dst) && Uniform(zp) && Uniform(lo) && Uniform(hi) &&
            (ulong)unchecked(zp[0] + (1L << 61)) <= 1UL << 62 && lo[0] <= hi[0];
        for (long i = 0; i < len; i++)
        {
            Span<long> x = Rows(slot, src + i, 1);
            Span<long> m = header.Slice((int)((3 + (2 * i)) * n), n);
            Span<long> r = header.Slice((int)((4 + (2 * i)) * n), n);
            Span<long> y = Rows(slot, dst + i, 1);
            if (shared && Uniform(m) && Uniform(r) && (ulong)m[0] <= 1UL << 31 && (ulong)r[0] <= 62)
            {
                RequantShared(x, m[0], (int)r[0], zp[0], lo[0], hi[0], y);
                continue;
            }

            for (int b = 0; b < n; b++)
            {
                y[b] = Requant1(x[b], m[b], r[b], zp[b], lo[b], hi[b]);
            }
        }
    }

    /// <summary>True when every element equals the first.</summary>
    private static bool Uniform(ReadOnlySpan<long> v)
    {
        Vector256<long> first = Vector256.Create(v[0]);
        int b = 0;
        for (; b + 4 <= v.Length; b += 4)
        {
            if (Vector256.Create(v.Slice(b, 4)) != first)
            {
                return false;
            }
        }

        for (; b < v.Length; b++)
        {
            if (v[b] != v[0])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// <see cref="Requant1"/> for one row whose parameters are shared and in the common case's range
    /// (0 &lt;= m &lt;= 2^31, r &lt;= 62, |zp| &lt;= 2^61, lo &lt;= hi); four samples at a time where |x| &lt;= 2^31.
    /// </summary>
    private static void RequantShared(ReadOnlySpan<long> x, long m, int r, long zp, long lo, long hi, Span<long> y)
    {
        Vector256<long> vm = Vector256.Create(m), round = Vector256.Create((1L << r) >> 1), vz = Vector256.Create(zp);
        Vector256<long> vlo = Vector256.Create(lo), vhi = Vector256.Create(hi);
        Vector256<ulong> bias = Vector256.Create(1UL << 31), limit = Vector256.Create(1UL << 32);
        int b = 0;
        for (; b + 4 <= x.Length; b += 4)
        {
            Vector256<long> xv = Vector256.Create(x.Slice(b, 4));
            if (Vector256.GreaterThanAny(xv.AsUInt64() + bias, limit))
            {
                for (int j = b; j < b + 4; j++)
                {
                    y[j] = Requant1(x[j], m, r, zp, lo, hi);
                }

                continue;
            }

            Vector256<long> v = Vector256.ShiftRightArithmetic((xv * vm) + round, r) + vz;
            Vector256.Min(Vector256.Max(v, vlo), vhi).CopyTo(y[b..]);
        }

        for (; b < x.Length; b++)
        {
            y[b] = Requant1(x[b], m, r, zp, lo, hi);
        }
    }

    /// <summary>One element: the common case in 64 bits, else <see cref="RequantChecked"/>.</summary>
    private static long Requant1(long xb, long mb, long rb, long z, long l, long h)
    {
        // |x| <= 2^31, 0 <= m <= 2^31, r <= 62, |zp| <= 2^61 cannot overflow.
        if ((ulong)mb <= 1UL << 31 && (ulong)rb <= 62 && (ulong)unchecked(xb + (1L << 31)) <= 1UL << 32 &&
            (ulong)unchecked(z + (1L << 61)) <= 1UL << 62 && l <= h)
        {
            long v = (((xb * mb) + ((1L << (int)rb) >> 1)) >> (int)rb) + z;
            return v < l ? l : v > h ? h : v;
        }

        return RequantChecked(xb, mb, rb, z, l, h);
    }

    /// <summary><see cref="Requant.Exact"/>, as the reference computes it; parameters it would report fall back to it.</summary>
    private static long RequantChecked(long x, long m, long r, long zp, long lo, long hi)
    {
        if (m < 0 || r < 0 || r > 126 || lo > hi)
        {
            throw new BatchFallbackException("vrequant parameters");
        }

        return Requant.Exact(x, m, (int)r, zp, lo, hi);
    }

    private void VLut(int slot, in DecodedOp op)
    {
        long dst = op.F0, src = op.F1, table = op.F2, len = op.F3;
        int n = _n;
        Rows(slot, dst, len);
        Rows(slot, src, len);
        Rows(slot, table, 2);
        long[] mem = _mem[slot];
        long words = _plan.MemWords[slot];
        for (long i = 0; i < len; i++)
        {
            Span<long> x = Rows(slot, src + i, 1);
            Span<long> y = Rows(slot, dst + i, 1);
            for (int b = 0; b < n; b++)
            {
                long tableBase = mem[(table * n) + b], size = mem[((table + 1) * n) + b];
                long j = unchecked(x[b] - tableBase);
                if (size < 0 || table + 2 + size > words || x[b] < tableBase || j >= size)
                {
                    throw new BatchFallbackException("vlut index or table");
                }

                y[b] = mem[((table + 2 + j) * n) + b];
            }
        }
    }
}
