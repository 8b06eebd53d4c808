using Cimc.Architectures;

using Cimc.Quantization;

namespace Cimc.Performance;

/// <summary>
/// The crossbars and ADC groups of an <see cref="Estimator"/> walk: when each mvm issues, starts and
/// ends by the timing simulator's pipeline rule, and the events it counts. Shared by the walk of a
/// chain of dense layers and the walk of a convolutional graph, so the two price an mvm alike.
/// </summary>
internal sealed class EstimateMvms(Architecture arch, int cores)
{
    private readonly double[] groupFree = new double[cores * arch.Core.AdcGroups];
    private readonly double[] crossbarFree = Filled(cores * arch.Core.Crossbars, double.NaN); // NaN: no mvm yet
    private readonly double[] crossbarBefore = new double[cores * arch.Core.Crossbars];

    /// <summary>Per core: the busiest of its crossbars' and ADC groups' work (slice times and a crossbar's first fill, conversions), as TimingBounds.LayerNs counts them.</summary>
    public double Work(int core)
    {
        double most = 0;
        for (int x = core * arch.Core.Crossbars; x < (core + 1) * arch.Core.Crossbars; x++)
        {
            most = Math.Max(most, crossbarWork[x]);
        }

        for (int g = core * arch.Core.AdcGroups; g < (core + 1) * arch.Core.AdcGroups; g++)
        {
            most = Math.Max(most, groupWork[g]);
        }

        return most;
    }

    private readonly double[] crossbarWork = new double[cores * arch.Core.Crossbars];
    private readonly double[] groupWork = new double[cores * arch.Core.AdcGroups];

    /// <summary>Per core: when its last mvm ends (its halt waits for it).</summary>
    public double[] Done { get; } = new double[cores];

    /// <summary>
    /// One mvm on crossbar <paramref name="xb"/> of <paramref name="core"/> over <paramref name="rows"/>
    /// x <paramref name="cols"/>, issued on the core's clock; returns when it ends.
    /// </summary>
    public double Run(EstimateTally tally, int core, int xb, int rows, int cols, int inputBits, int rowsPerRead)
    {
        int k = IntMath.CeilDiv(inputBits, arch.Core.Dac.Bits);
        long groups = rowsPerRead > 0 ? (rows + rowsPerRead - 1) / rowsPerRead : 1;
        double slices = k * groups, convert = CostModel.ConvertNs(arch, cols), read = CostModel.ReadNs(arch);
        int group = arch.Core.AdcGroupOf(xb);

        // TimingSimulator's mvm: it issues once the input register its crossbar used two mvms ago
        // is free, starts when the crossbar is, and pays no fill when it follows the last one at once.
        int x = (core * arch.Core.Crossbars) + xb, g = (core * arch.Core.AdcGroups) + group;
        double free = crossbarFree[x];
        bool follows = !double.IsNaN(free);
        double issue = Math.Max(tally.Clock[core], crossbarBefore[x]);
        tally.Run(core, issue, tally.Cycle);
        double begin = follows ? Math.Max(issue, free) : issue;
        double fill = follows && issue <= free + 1e-9 ? 0 : CostModel.FillSlices;
        double adcStart = Math.Max(begin, groupFree[g]);
        double end = Math.Max(begin + ((slices + fill) * read), adcStart + ((slices + fill) * convert));
        groupFree[g] = adcStart + (slices * convert);
        (crossbarFree[x], crossbarBefore[x]) = (end, follows ? free : 0);
        Done[core] = Math.Max(Done[core], end);
        crossbarWork[x] += (slices + (crossbarWork[x] == 0 ? CostModel.FillSlices : 0)) * read; // as the per-layer bound: one fill per crossbar
        groupWork[g] += slices * convert;

        tally.Instructions++;
        tally.Mvms++;
        tally.Reads += k * groups;
        tally.Dac += rows * k;
        tally.SampleHolds += cols * k * groups;
        tally.Adc += cols * k * groups;
        tally.ShiftAdds += cols * k * groups;
        tally.Memory += rows + (2 * cols);
        return end;
    }

    private static double[] Filled(int length, double value)
    {
        var a = new double[length];
        Array.Fill(a, value);
        return a;
    }
}
