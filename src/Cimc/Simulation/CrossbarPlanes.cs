using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Cimc.Simulation;

/// <summary>
/// A crossbar's cell levels stored as column bit-planes, so that a bit-serial MVM becomes AND +
/// popcount: for column o and cell bit b, a row mask (one bit per row, 64 rows a word) of the cells
/// whose level has bit b set. Built once per crossbar when a simulator is created.
/// </summary>
internal sealed class CrossbarPlanes
{
    private CrossbarPlanes(int rows, int cols, int cellBits, ulong[] planes)
    {
        Rows = rows;
        Cols = cols;
        CellBits = cellBits;
        Words = (rows + 63) >> 6;
        Planes = planes;
    }

    public int Rows { get; }

    public int Cols { get; }

    public int CellBits { get; }

    /// <summary>64-row words per plane.</summary>
    public int Words { get; }

    /// <summary>Layout [col][cell bit][word].</summary>
    public ulong[] Planes { get; }

    /// <summary>The level of cell (row, col), read back from the planes.</summary>
    public int Level(int row, int col)
    {
        int level = 0;
        for (int b = 0; b < CellBits; b++)
        {
            level |= (int)((Planes[((col * CellBits) + b) * Words + (row >> 6)] >> (row & 63)) & 1) << b;
        }

        return level;
    }

    /// <summary>From row-major levels ([row][col]).</summary>
    public static CrossbarPlanes Build(ReadOnlySpan<byte> levels, int rows, int cols, int cellBits)
    {
        int words = (rows + 63) >> 6;
        var planes = new ulong[(long)cols * cellBits * words];
        for (int r = 0; r < rows; r++)
        {
            ulong bit = 1UL << (r & 63);
            int w = r >> 6;
            for (int c = 0; c < cols; c++)
            {
                int level = levels[r * cols + c];
                while (level != 0)
                {
                    int b = BitOperations.TrailingZeroCount(level);
                    planes[((c * cellBits) + b) * words + w] |= bit;
                    level &= level - 1;
                }
            }
        }

        return new CrossbarPlanes(rows, cols, cellBits, planes);
    }
}

/// <summary>
/// The MVM datapath, bit-exact: per input slice k (dac_bits wide) and row group g (group rows read at
/// once, 0 = all), p = sum_{i in g} s_i * G[i][o] computed as sum_u sum_b 2^(u+b) popcount(inplane_u
/// AND colplane_(o,b) AND groupmask); the ADC rounds p to steps of 2^ashift (half up) and saturates
/// at 2^adc_bits - 1; the code is shifted by ashift + shift + dac_bits*k (modulo 2^64) and accumulated.
/// </summary>
internal static class MvmKernel
{
    /// <summary>Scratch words <see cref="Accumulate"/> needs for up to <paramref name="rows"/> rows: every slice's input planes.</summary>
    public static int ScratchWords(int rows) => 48 * ((rows + 63) >> 6);

    /// <summary>
    /// acc[o] = sum_k sum_g (adc(p_(o,k,g)) << (ashift + shift + dacBits*k)) mod 2^64 for o &lt; acc.Length,
    /// inputs x (already checked to lie in [0, 2^ibits)). The input planes of all slices are built
    /// first, then each column's planes are read once and combined with every slice and group.
    /// </summary>
    // Fully optimized from the first call: tiered code for this hot loop measured ~3x slower.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Accumulate(CrossbarPlanes xb, ReadOnlySpan<long> x, int ibits, int dacBits, int adcBits, int shift,
        int group, int ashift, Span<long> acc, Span<ulong> scratch)
    {
        int rows = x.Length;
        int words = (rows + 63) >> 6;
        int cellBits = xb.CellBits;
        int stride = xb.Words;
        int colStride = cellBits * stride;
        long adcMax = (1L << adcBits) - 1;
        long half = ashift > 0 ? 1L << (ashift - 1) : 0;
        int slices = (ibits + dacBits - 1) / dacBits;
        int groupRows = group == 0 || group >= rows ? Math.Max(rows, 1) : group;
        int groups = (rows + groupRows - 1) / groupRows;

        int planeCount = slices * dacBits;
        Span<ulong> inp = BuildInputPlanes(x, planeCount, scratch);

        // Planes that are all zero contribute nothing (p = 0 gives code 0 even after rounding), nor
        // do slices shifted out of the 64-bit word: list the others, grouped by slice.
        Span<int> active = stackalloc int[48];
        Span<int> sliceEnd = stackalloc int[32];
        int activeCount = 0;
        for (int k = 0; k < slices; k++)
        {
            for (int u = 0; u < dacBits; u++)
            {
                int plane = (k * dacBits) + u;
                if (ashift + shift + (dacBits * k) < 64 && inp.Slice(plane * words, words).ContainsAnyExcept(0UL))
                {
                    active[activeCount++] = plane;
                }
            }

            sliceEnd[k] = activeCount;
        }

        acc.Clear();
        if (activeCount == 0)
        {
            return;
        }

        ref ulong planes = ref MemoryMarshal.GetArrayDataReference(xb.Planes);
        ref ulong inBase = ref MemoryMarshal.GetReference(inp);
        for (int o = 0; o < acc.Length; o++)
        {
            ref ulong col = ref Unsafe.Add(ref planes, o * colStride);
            long total = 0;
            int first = 0;
            for (int k = 0; k < slices; k++)
            {
                int end = sliceEnd[k];
                if (first == end)
                {
                    continue;
                }

                for (int g = 0; g < groups; g++)
                {
                    int start = g * groupRows, stop = Math.Min(rows, start + groupRows);
                    long p = 0;
                    for (int a = first; a < end; a++)
                    {
                        int plane = active[a];
                        int u = plane - (k * dacBits);
                        ref ulong xin = ref Unsafe.Add(ref inBase, plane * words);
                        for (int b = 0; b < cellBits; b++)
                        {
                            p += CountRows(ref xin, ref Unsafe.Add(ref col, b * stride), start, stop) << (u + b);
                        }
                    }

                    long code = Math.Min((p + half) >> ashift, adcMax);
                    total += code << (ashift + shift + (dacBits * k));
                }

                first = end;
            }

            acc[o] = total;
        }
    }

    /// <summary>Input bit j of x_i (slice j / d, DAC bit j % d) goes to plane j (index k*d + u), 64 rows a word.</summary>
    internal static Span<ulong> BuildInputPlanes(ReadOnlySpan<long> x, int planeCount, Span<ulong> scratch)
    {
        int words = (x.Length + 63) >> 6;
        Span<ulong> inp = scratch[..(planeCount * words)];
        inp.Clear();
        for (int i = 0; i < x.Length; i++)
        {
            ulong v = (ulong)x[i];
            ulong bit = 1UL << (i & 63);
            int w = i >> 6;
            while (v != 0)
            {
                inp[(BitOperations.TrailingZeroCount(v) * words) + w] |= bit;
                v &= v - 1;
            }
        }

        return inp;
    }

    /// <summary>popcount(x AND c) over rows [start, stop): whole words inside, masks at the two ends.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static long CountRows(ref ulong x, ref ulong c, int start, int stop)
    {
        int w0 = start >> 6, w1 = (stop - 1) >> 6;
        ulong m0 = ~0UL << (start & 63);
        ulong m1 = (stop & 63) == 0 ? ~0UL : (1UL << (stop & 63)) - 1;
        if (w0 == w1)
        {
            return BitOperations.PopCount(Unsafe.Add(ref x, w0) & Unsafe.Add(ref c, w0) & m0 & m1);
        }

        long count = BitOperations.PopCount(Unsafe.Add(ref x, w0) & Unsafe.Add(ref c, w0) & m0);
        for (int w = w0 + 1; w < w1; w++)
        {
            count += BitOperations.PopCount(Unsafe.Add(ref x, w) & Unsafe.Add(ref c, w));
        }

        return count + BitOperations.PopCount(Unsafe.Add(ref x, w1) & Unsafe.Add(ref c, w1) & m1);
    }
}
