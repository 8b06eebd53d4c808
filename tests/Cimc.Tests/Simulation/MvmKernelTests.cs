using Cimc.Simulation;
using CsCheck;

namespace Cimc.Tests.Simulation;

public sealed class MvmKernelTests
{
    /// <summary>The definition in docs/isa.md, written as plainly as possible.</summary>
    internal static long[] NaiveMvm(byte[] levels, int xbCols, long[] x, int cols, int ibits, int dacBits, int adcBits, int shift)
    {
        var acc = new long[cols];
        long adcMax = (1L << adcBits) - 1;
        int slices = (ibits + dacBits - 1) / dacBits;
        for (int k = 0; k < slices; k++)
        {
            for (int o = 0; o < cols; o++)
            {
                long p = 0;
                for (int i = 0; i < x.Length; i++)
                {
                    long s = (x[i] >> (dacBits * k)) & ((1L << dacBits) - 1);
                    p += s * levels[(i * xbCols) + o];
                }

                long code = Math.Min(p, adcMax);
                int sh = shift + (dacBits * k);
                acc[o] = unchecked(acc[o] + (sh >= 64 ? 0 : code << sh));
            }
        }

        return acc;
    }

    private static long[] FastMvm(byte[] levels, int xbRows, int xbCols, int cellBits, long[] x, int cols, int ibits, int dacBits, int adcBits, int shift)
    {
        CrossbarPlanes planes = CrossbarPlanes.Build(levels, xbRows, xbCols, cellBits);
        var acc = new long[cols];
        MvmKernel.Accumulate(planes, x, ibits, dacBits, adcBits, shift, acc, new ulong[MvmKernel.ScratchWords(xbRows)]);
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

    [Fact]
    public void The_adc_saturates_each_slice_as_the_hardware_would()
    {
        // G = [[3,3],[3,3]], x = [3,3], 2-bit slices: p = 18 per column, a 4-bit ADC gives 15.
        byte[] levels = [3, 3, 3, 3];
        Assert.Equal([15, 15], FastMvm(levels, 2, 2, 2, [3, 3], 2, 2, 2, 4, 0));
        Assert.Equal([36, 36], FastMvm(levels, 2, 2, 2, [3, 3], 2, 2, 2, 8, 1));
    }
}
