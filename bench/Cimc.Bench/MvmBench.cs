using Cimc.Simulation;

namespace Cimc.Bench;

/// <summary>One MVM-kernel row: MVMs per second on one thread, bit-plane kernel and naive loop.</summary>
public sealed record MvmRow(int Rows, int Cols, int CellBits, int InputBits, int DacBits, int AdcBits, Timing Kernel, Timing Naive, int Batch)
{
    public double KernelPerSecond => Batch / Kernel.Median;

    public double NaivePerSecond => Batch / Naive.Median;

    public double Speedup => Naive.Median / Kernel.Median;
}

/// <summary>
/// Case 3: the simulator's MVM datapath (MvmKernel.Accumulate on CrossbarPlanes, as the simulator
/// calls it for every MVM instruction) on one thread: a 128x128 crossbar of random 2-bit levels, a
/// pool of random 8-bit input vectors, an 8-bit ADC. The naive loop is the definition in docs/isa.md
/// (the one MvmKernelTests checks the kernel against), timed as a yardstick; both must agree.
/// </summary>
public static class MvmBench
{
    private const int XbRows = 128, XbCols = 128, CellBits = 2, InputBits = 8, AdcBits = 8, Pool = 64;

    public static IReadOnlyList<MvmRow> Run(Settings settings, TextWriter log)
    {
        var random = new Random(3);
        var levels = new byte[XbRows * XbCols];
        for (int i = 0; i < levels.Length; i++)
        {
            levels[i] = (byte)random.Next(1 << CellBits);
        }

        long[][] inputs = [.. Enumerable.Range(0, Pool).Select(_ => Enumerable.Range(0, XbRows).Select(_ => random.NextInt64(1L << InputBits)).ToArray())];
        CrossbarPlanes planes = CrossbarPlanes.Build(levels, XbRows, XbCols, CellBits);
        var acc = new long[XbCols];
        var scratch = new ulong[MvmKernel.ScratchWords(XbRows)];

        var rows = new List<MvmRow>();
        foreach (int dacBits in new[] { 1, 2 })
        {
            log.WriteLine($"  mvm 128x128, {dacBits}-bit DAC ...");
            for (int i = 0; i < Pool; i++)
            {
                MvmKernel.Accumulate(planes, inputs[i], InputBits, dacBits, AdcBits, 0, 0, 0, acc, scratch);
                if (!acc.AsSpan().SequenceEqual(Naive(levels, inputs[i], dacBits)))
                {
                    throw new InvalidOperationException($"mvm bench: the kernel and the naive definition disagree ({dacBits}-bit DAC)");
                }
            }

            int batch = settings.MvmBatch;
            Timing kernel = Measure.Time(() =>
            {
                for (int i = 0; i < batch; i++)
                {
                    MvmKernel.Accumulate(planes, inputs[i % Pool], InputBits, dacBits, AdcBits, 0, 0, 0, acc, scratch);
                }
            }, settings.MvmWarmups, settings.MvmRepetitions);

            int naiveBatch = Math.Max(1, batch / 50);
            Timing naive = Measure.Time(() =>
            {
                for (int i = 0; i < naiveBatch; i++)
                {
                    GC.KeepAlive(Naive(levels, inputs[i % Pool], dacBits));
                }
            }, 1, settings.MvmRepetitions);

            // Express the naive loop per `batch` MVMs so the two timings share a unit.
            double scale = (double)batch / naiveBatch;
            rows.Add(new MvmRow(XbRows, XbCols, CellBits, InputBits, dacBits, AdcBits, kernel,
                naive with { Median = naive.Median * scale, Min = naive.Min * scale }, batch));
        }

        return rows;
    }

    /// <summary>docs/isa.md's MVM, written plainly (as in MvmKernelTests.NaiveMvm), shift 0.</summary>
    private static long[] Naive(byte[] levels, long[] x, int dacBits)
    {
        var acc = new long[XbCols];
        long adcMax = (1L << AdcBits) - 1;
        int slices = (InputBits + dacBits - 1) / dacBits;
        for (int k = 0; k < slices; k++)
        {
            for (int o = 0; o < XbCols; o++)
            {
                long p = 0;
                for (int i = 0; i < x.Length; i++)
                {
                    long s = (x[i] >> (dacBits * k)) & ((1L << dacBits) - 1);
                    p += s * levels[(i * XbCols) + o];
                }

                acc[o] += Math.Min(p, adcMax) << (dacBits * k);
            }
        }

        return acc;
    }
}
