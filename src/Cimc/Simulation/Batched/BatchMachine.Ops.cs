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
        for (long i = 0; i < len; i++)
        {
            Span<long> x = Rows(slot, src + i, 1);
            Span<long> m = header.Slice((int)((3 + (2 * i)) * n), n);
            Span<long> r = header.Slice((int)((4 + (2 * i)) * n), n);
            Span<long> zp = header[..n], lo = header.Slice(n, n), hi = header.Slice(2 * n, n);
            Span<long> y = Rows(slot, dst + i, 1);
            for (int b = 0; b < n; b++)
            {
                long xb = x[b], mb = m[b], rb = r[b], z = zp[b], l = lo[b], h = hi[b];
                // The common case in 64 bits: |x| <= 2^31, 0 <= m <= 2^31, r <= 62, |zp| <= 2^61 cannot overflow.
                if ((ulong)mb <= 1UL << 31 && (ulong)rb <= 62 && (ulong)unchecked(xb + (1L << 31)) <= 1UL << 32 &&
                    (ulong)unchecked(z + (1L << 61)) <= 1UL << 62 && l <= h)
                {
                    long v = (((xb * mb) + ((1L << (int)rb) >> 1)) >> (int)rb) + z;
                    y[b] = v < l ? l : v > h ? h : v;
                }
                else
                {
                    y[b] = Requant(xb, mb, rb, z, l, h);
                }
            }
        }
    }

    /// <summary>clamp(((x * m + round) >> r) + zp, lo, hi) exactly in 128 bits, as the reference computes it.</summary>
    private static long Requant(long x, long m, long r, long zp, long lo, long hi)
    {
        if (m < 0 || r < 0 || r > 126 || lo > hi)
        {
            throw new BatchFallbackException("vrequant parameters");
        }

        Int128 v = (Int128)x * m;
        if (r > 0)
        {
            v += Int128.One << (int)(r - 1);
        }

        v = (v >> (int)r) + zp;
        return v < lo ? lo : v > hi ? hi : (long)v;
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
