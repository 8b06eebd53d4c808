using Cimc.Simulation;
using CsCheck;

namespace Cimc.Tests.Simulation;

public sealed class MvmKernelTests
{
    /// <summary>The definition in docs/isa.md, written as plainly as possible.</summary>
    internal static long[] NaiveMvm(byte[] levels, int xbCols, long[] x, int cols, int ibits, int dacBits, int adcBits, int shift,
        int group = 0, int ashift = 0)
    {
        var acc = new long[cols];
        long adcMax = (1L << adcBits) - 1;
        int slices = (ibits + dacBits - 1) / dacBits;
        int size = group == 0 ? x.Length : group;
        for (int k = 0; k < slices; k++)
        {
            for (int o = 0; o < cols; o++)
            {
                for (int start = 0; start < x.Length; start += size)
                {
                    long p = 0;
                    for (int i = start; i < Math.Min(x.Length, start + size); i++)
                    {
                        long s = (x[i] >> (dacBits * k)) & ((1L << dacBits) - 1);
                        p += s * levels[(i * xbCols) + o];
                    }

                    long h = ashift > 0 ? 1L << (ashift - 1) : 0;
                    long code = Math.Min((long)Math.Floor((double)(p + h) / Math.Pow(2, ashift)), adcMax);
                    int sh = ashift + shift + (dacBits * k);
                    acc[o] = unchecked(acc[o] + (sh >= 64 ? 0 : code << sh));
                }
            }
        }

        return acc;
    }

    internal static long[] FastMvm(byte[] levels, int xbRows, int xbCols, int cellBits, long[] x, int cols, int ibits, int dacBits, int adcBits, int shift,
        int group = 0, int ashift = 0)
    {
        CrossbarPlanes planes = CrossbarPlanes.Build(levels, xbRows, xbCols, cellBits);
        var acc = new long[cols];
        MvmKernel.Accumulate(planes, x, ibits, dacBits, adcBits, shift, group, ashift, acc, new ulong[MvmKernel.ScratchWords(xbRows)]);
        return acc;
    }

    [Fact]
    public void The_bit_plane_mvm_equals_the_naive_definition_on_random_crossbars()
    {
        var sizes = Gen.OneOf(Gen.Int[1, 70], Gen.Int[1, 512]);
        Gen.Select(sizes, sizes, Gen.Int[1, 4], Gen.Int[1, 4], Gen.Int[1, 12], Gen.Int[1, 16], Gen.Int[0, 70], Gen.Int)
            .Sample((rows, cols, cellBits, dacBits, adcBits, ibits, shift, seed) =>
            {
                var random = new Random(seed);
                int xbRows = rows + random.Next(0, 3), xbCols = cols + random.Next(0, 3);
                byte[] levels = new byte[xbRows * xbCols];
                // Dense, sparse, or all-maximum crossbars; the last saturates small ADCs.
                int mode = random.Next(3);
                for (int i = 0; i < levels.Length; i++)
                {
                    levels[i] = mode switch
                    {
                        0 => (byte)random.Next(1 << cellBits),
                        1 => (byte)(random.Next(8) == 0 ? random.Next(1 << cellBits) : 0),
                        _ => (byte)((1 << cellBits) - 1),
                    };
                }

                long[] x = [.. Enumerable.Range(0, rows).Select(_ => random.Next(4) == 0 ? 0 : random.NextInt64(1L << ibits))];
                Assert.Equal(
                    NaiveMvm(levels, xbCols, x, cols, ibits, dacBits, adcBits, shift),
                    FastMvm(levels, xbRows, xbCols, cellBits, x, cols, ibits, dacBits, adcBits, shift));
            }, iter: 400);
    }

    [Trait("tier", "slow")]
    [Fact]
    public void Grouped_reads_and_coarse_adc_steps_equal_the_naive_definition_including_saturation()
    {
        var sizes = Gen.OneOf(Gen.Int[1, 70], Gen.Int[1, 300]);
        Gen.Select(sizes, sizes, Gen.Int[1, 4], Gen.Int[1, 4], Gen.Int[1, 12], Gen.Int[1, 16], Gen.Int[0, 20], Gen.Int)
            .Sample((rows, cols, cellBits, dacBits, adcBits, ibits, shift, seed) =>
            {
                var random = new Random(seed);
                // Groups not aligned to 64-row words, larger than the rows, or one row; steps up to 2^12.
                int group = random.Next(4) switch { 0 => 0, 1 => 1, 2 => random.Next(1, rows + 1), _ => random.Next(1, 200) };
                int ashift = random.Next(3) == 0 ? 0 : random.Next(0, 13);
                int xbRows = rows + random.Next(0, 3), xbCols = cols;
                bool full = random.Next(3) == 0;
                byte[] levels = [.. Enumerable.Range(0, xbRows * xbCols).Select(_ => (byte)(full ? (1 << cellBits) - 1 : random.Next(1 << cellBits)))];
                long[] x = [.. Enumerable.Range(0, rows).Select(_ => random.Next(4) == 0 ? 0 : random.NextInt64(1L << ibits))];
                Assert.Equal(
                    NaiveMvm(levels, xbCols, x, cols, ibits, dacBits, adcBits, shift, group, ashift),
                    FastMvm(levels, xbRows, xbCols, cellBits, x, cols, ibits, dacBits, adcBits, shift, group, ashift));
            }, iter: 400);
    }

    [Fact]
    public void Groups_convert_separately_and_the_adc_rounds_half_up()
    {
        // G = all 3, x = [1,1,1,1], d = 1: p = 12 at once, 3 per group of one row.
        byte[] levels = [3, 3, 3, 3];
        long[] x = [1, 1, 1, 1];
        // 3-bit ADC: one read saturates at 7, four reads of 3 give 12.
        Assert.Equal([7L], FastMvm(levels, 4, 1, 2, x, 1, 1, 1, 3, 0));
        Assert.Equal([12L], FastMvm(levels, 4, 1, 2, x, 1, 1, 1, 3, 0, group: 1));
        // Groups of 3 rows then 1 row: 9 saturates at 7, then 3: 10.
        Assert.Equal([10L], FastMvm(levels, 4, 1, 2, x, 1, 1, 1, 3, 0, group: 3));
        // ashift 1: step 2; p = 12 -> floor(13/2) = 6 -> 6 << 1 = 12; p = 3 per row -> floor(4/2) = 2 -> 4 each, 16.
        Assert.Equal([12L], FastMvm(levels, 4, 1, 2, x, 1, 1, 1, 3, 0, ashift: 1));
        Assert.Equal([16L], FastMvm(levels, 4, 1, 2, x, 1, 1, 1, 3, 0, group: 1, ashift: 1));
    }

    [Fact]
    public void The_adc_saturates_each_slice_as_the_hardware_would()
    {
        // G = [[3,3],[3,3]], x = [3,3], 2-bit slices: p = 18 per column, a 4-bit ADC gives 15.
        byte[] levels = [3, 3, 3, 3];
        Assert.Equal([15, 15], FastMvm(levels, 2, 2, 2, [3, 3], 2, 2, 2, 4, 0));
        Assert.Equal([36, 36], FastMvm(levels, 2, 2, 2, [3, 3], 2, 2, 2, 8, 1));
    }
}
