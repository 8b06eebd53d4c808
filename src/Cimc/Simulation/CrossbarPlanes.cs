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
/// The MVM datapath, bit-exact: per input slice k (dac_bits wide), p_o = sum_i s_i * G[i][o] computed
/// as sum_u sum_b 2^(u+b) popcount(inplane_u AND colplane_(o,b)); the ADC saturates p_o at
/// 2^adc_bits - 1; the code is shifted by shift + dac_bits*k (modulo 2^64) and accumulated.
/// </summary>
internal static class MvmKernel
{
    /// <summary>Scratch words <see cref="Accumulate"/> needs for up to <paramref name="rows"/> rows: every slice's input planes.</summary>
    public static int ScratchWords(int rows) => 48 * ((rows + 63) >> 6);

    /// <summary>
    /// acc[o] = sum_k (adc(p_o,k) << (shift + dacBits*k)) mod 2^64 for o &lt; acc.Length, inputs x
    /// (already checked to lie in [0, 2^ibits)). The input planes of all slices are built first, then
    /// each column's planes are read once and combined with every slice.
    /// </summary>
    // Fully optimized from the first call: tiered code for this hot loop measured ~3x slower.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Accumulate(CrossbarPlanes xb, ReadOnlySpan<long> x, int ibits, int dacBits, int adcBits, int shift,
        Span<long> acc, Span<ulong> scratch)
    {
        int rows = x.Length;
        int words = (rows + 63) >> 6;
        int cellBits = xb.CellBits;
        int stride = xb.Words;
        int colStride = cellBits * stride;
        long adcMax = (1L << adcBits) - 1;
        int slices = (ibits + dacBits - 1) / dacBits;

        // Input bit j of x_i (slice j / d, DAC bit j % d) goes to plane j: plane index = k*d + u.
        int planeCount = slices * dacBits;
        Span<ulong> inp = scratch[..(planeCount * words)];
        inp.Clear();
        for (int i = 0; i < rows; i++)
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

        // Planes that are all zero contribute nothing: list the others, grouped by slice.
        Span<int> active = stackalloc int[48];
        Span<int> sliceEnd = stackalloc int[32];
        int activeCount = 0;
        for (int k = 0; k < slices; k++)
        {
            for (int u = 0; u < dacBits; u++)
            {
                int plane = (k * dacBits) + u;
                if (shift + (dacBits * k) < 64 && inp.Slice(plane * words, words).ContainsAnyExcept(0UL))
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
            int a = 0;
            for (int k = 0; k < slices; k++)
            {
                int end = sliceEnd[k];
                if (a == end)
                {
                    continue;
                }

                long p = 0;
                for (; a < end; a++)
                {
                    int plane = active[a];
                    int u = plane - (k * dacBits);
                    ref ulong xin = ref Unsafe.Add(ref inBase, plane * words);
                    for (int b = 0; b < cellBits; b++)
                    {
                        ref ulong cp = ref Unsafe.Add(ref col, b * stride);
                        long count = BitOperations.PopCount(xin & cp);
                        for (int w = 1; w < words; w++)
                        {
                            count += BitOperations.PopCount(Unsafe.Add(ref xin, w) & Unsafe.Add(ref cp, w));
                        }

                        p += count << (u + b);
                    }
                }

                total += (p < adcMax ? p : adcMax) << (shift + (dacBits * k));
            }

            acc[o] = total;
        }
    }
}
