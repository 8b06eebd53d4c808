using Cimc.Architectures;

namespace Cimc.Performance;

/// <summary>
/// Each component's cost as a function of the parameters it physically depends on, anchored at
/// the published design point in the architecture's `costs` (docs/cost-model.md section 1). Every
/// function is a ratio to its own value at the anchor, so at the anchor it returns the published
/// figure exactly (x / x = 1 in floating point). The forms and their sources:
/// <list type="bullet">
/// <item>crossbar: a read settles the bit line (RC grows with the rows on it, puma-simulator's
/// xbar_lat_dict: latency proportional to array size) to half a level of the column's
/// <c>rows (2^cell - 1)(2^dac - 1) + 1</c> levels, so <c>t ~ rows log2(2 levels)</c>; every cell
/// conducts for the read, so energy ~ cells x t; area and leakage ~ cells.</item>
/// <item>ADC: <c>b + k g^(b - k)</c> (see <see cref="AdcCurve"/>); latency ~ b + overhead cycles.</item>
/// <item>DAC: power doubles per bit (Accelergy isaac.py, MNSIM DAC tables), drawn over the read pulse.</item>
/// <item>sample-and-hold: the hold capacitor follows the ADC's resolution, so its energy and area follow the ADC curve.</item>
/// <item>shift-and-add: energy, area, leakage ~ its width (Accelergy isaac.py: linear in width).</item>
/// <item>memories (CACTI-like): area and leakage ~ capacity, access energy ~ sqrt(capacity) x port width.</item>
/// <item>tile bus and routers: energy per bit fixed; area and leakage ~ width.</item>
/// </list>
/// </summary>
public static class ComponentCosts
{
    // ---- crossbar ----

    /// <summary>Read time of one input slice: <c>t0 * S(rows, cell, dac) / S(anchor)</c>, S = rows x log2(2 x levels).</summary>
    public static double ReadNs(Architecture a) => ReadNs(a.Costs!.Crossbar, a.Core.Crossbar.Rows, a.Core.Crossbar.CellBits, a.Core.Dac.Bits);

    public static double ReadNs(CrossbarCost k, int rows, int cellBits, int dacBits) =>
        k.ReadLatencyNs * (Settle(rows, cellBits, dacBits) / Settle(k.AnchorRows, k.AnchorCellBits, k.AnchorDacBits));

    /// <summary>Energy of one read: <c>E0 x (cells / cells0) x (t / t0)</c>.</summary>
    public static double ReadEnergyPj(Architecture a) =>
        ReadEnergyPj(a.Costs!.Crossbar, a.Core.Crossbar.Rows, a.Core.Crossbar.Cols, a.Core.Crossbar.CellBits, a.Core.Dac.Bits);

    public static double ReadEnergyPj(CrossbarCost k, int rows, int cols, int cellBits, int dacBits) =>
        k.ReadEnergyPj * CellRatio(k, rows, cols) * (ReadNs(k, rows, cellBits, dacBits) / k.ReadLatencyNs);

    public static double CrossbarAreaMm2(Architecture a) => a.Costs!.Crossbar.AreaMm2 * CellRatio(a.Costs.Crossbar, a.Core.Crossbar.Rows, a.Core.Crossbar.Cols);

    public static double CrossbarLeakageMw(Architecture a) => a.Costs!.Crossbar.LeakageMw * CellRatio(a.Costs.Crossbar, a.Core.Crossbar.Rows, a.Core.Crossbar.Cols);

    private static double CellRatio(CrossbarCost k, int rows, int cols) => (double)rows * cols / ((double)k.AnchorRows * k.AnchorCols);

    private static double Settle(int rows, int cellBits, int dacBits)
    {
        double levels = (rows * (Math.Pow(2, cellBits) - 1) * (Math.Pow(2, dacBits) - 1)) + 1;
        return rows * Math.Log2(2 * levels);
    }

    // ---- ADC ----

    /// <summary>The architecture's ADC at its resolution.</summary>
    public static AdcCost Adc(Architecture a) => Adc(a.Costs!.Adc, a.Core.Adc.Bits);

    /// <summary>The ADC curve at <paramref name="bits"/>: the anchor itself at the anchor's resolution.</summary>
    public static AdcCost Adc(AdcCurve c, int bits)
    {
        AdcCost k = c.Anchor;
        double energy = Fom(bits, c.EnergyKneeBits, c.EnergyGrowthPerBit) / Fom(k.Bits, c.EnergyKneeBits, c.EnergyGrowthPerBit);
        double area = Fom(bits, c.AreaKneeBits, c.AreaGrowthPerBit) / Fom(k.Bits, c.AreaKneeBits, c.AreaGrowthPerBit);
        double time = (bits + c.OverheadCycles) / (k.Bits + c.OverheadCycles);
        return new AdcCost(bits, k.EnergyPj * energy, k.LatencyNs * time, k.AreaMm2 * area, k.LeakageMw * area);
    }

    /// <summary>Figure-of-merit shape: linear in bits below the knee, growing g-fold per bit above it.</summary>
    private static double Fom(double bits, double knee, double growth) => bits + (knee * Math.Pow(growth, bits - knee));

    // ---- DAC ----

    /// <summary>One row drive: <c>E0 x 2^(bits - bits0) x pulse / pulse0</c>, the pulse being this crossbar's read.</summary>
    public static double DacEnergyPj(Architecture a) => DacEnergyPj(a.Costs!.Dac, a.Core.Dac.Bits, ReadNs(a));

    public static double DacEnergyPj(DacCost k, int bits, double pulseNs) => k.EnergyPj * DacScale(k, bits) * (pulseNs / k.AnchorPulseNs);

    public static double DacAreaMm2(Architecture a) => a.Costs!.Dac.AreaMm2 * DacScale(a.Costs.Dac, a.Core.Dac.Bits);

    public static double DacLeakageMw(Architecture a) => a.Costs!.Dac.LeakageMw * DacScale(a.Costs.Dac, a.Core.Dac.Bits);

    private static double DacScale(DacCost k, int bits) => Math.Pow(2, bits - k.AnchorBits);

    // ---- sample-and-hold ----

    /// <summary>One column sample: the ADC energy curve's ratio between this resolution and the anchor's.</summary>
    public static double SampleHoldEnergyPj(Architecture a) => a.Costs!.SampleHold.EnergyPj * SampleHoldEnergyScale(a);

    public static double SampleHoldAreaMm2(Architecture a)
    {
        AdcCurve c = a.Costs!.Adc;
        double scale = Fom(a.Core.Adc.Bits, c.AreaKneeBits, c.AreaGrowthPerBit) / Fom(a.Costs.SampleHold.AnchorAdcBits, c.AreaKneeBits, c.AreaGrowthPerBit);
        return a.Costs.SampleHold.AreaMm2 * scale;
    }

    public static double SampleHoldLeakageMw(Architecture a) => a.Costs!.SampleHold.LeakageMw * SampleHoldEnergyScale(a);

    private static double SampleHoldEnergyScale(Architecture a)
    {
        AdcCurve c = a.Costs!.Adc;
        return Fom(a.Core.Adc.Bits, c.EnergyKneeBits, c.EnergyGrowthPerBit) / Fom(a.Costs.SampleHold.AnchorAdcBits, c.EnergyKneeBits, c.EnergyGrowthPerBit);
    }

    // ---- shift-and-add ----

    /// <summary>
    /// Width of a shift-and-add unit: it adds an ADC word into a register of the working precision
    /// (ISAAC's 16-bit units behind 8-bit ADCs), so the wider of the two.
    /// </summary>
    public static int ShiftAddWidth(Architecture a) => Math.Max(a.Core.Adc.Bits, a.DefaultPrecision.ActivationBits);

    public static double ShiftAddEnergyPj(Architecture a) => a.Costs!.ShiftAdd.EnergyPj * ShiftAddScale(a);

    public static double ShiftAddAreaMm2(Architecture a) => a.Costs!.ShiftAdd.AreaMm2 * ShiftAddScale(a);

    public static double ShiftAddLeakageMw(Architecture a) => a.Costs!.ShiftAdd.LeakageMw * ShiftAddScale(a);

    private static double ShiftAddScale(Architecture a) => (double)ShiftAddWidth(a) / a.Costs!.ShiftAdd.AnchorWidthBits;

    // ---- memories ----

    /// <summary>One local-memory entry accessed: <c>E0 x sqrt(words / words0)</c> (bit and word lines grow as the square root of capacity).</summary>
    public static double LocalMemoryAccessPj(Architecture a) => LocalMemoryAccessPj(a.Costs!.LocalMemory, a.Core.LocalMemoryWords);

    public static double LocalMemoryAccessPj(LocalMemoryCost k, int words) => k.AccessEnergyPj * Math.Sqrt((double)words / k.AnchorWords);

    /// <summary>Area of one core's local memory: per physical entry.</summary>
    public static double LocalMemoryAreaMm2(Architecture a) => a.Core.LocalMemoryWords / 1024.0 * a.Costs!.LocalMemory.AreaMm2PerKword;

    /// <summary>Leakage of one core's whole local memory: per physical entry.</summary>
    public static double LocalMemoryLeakageMw(Architecture a) => a.Core.LocalMemoryWords / 1024.0 * a.Costs!.LocalMemory.LeakageMwPerKword;

    /// <summary>One tile-buffer access: <c>E0 x sqrt(bytes / bytes0) x access_bits / access_bits0</c>.</summary>
    public static double TileBufferAccessPj(Architecture a)
    {
        TileBufferCost k = a.Costs!.TileBuffer;
        return k.AccessEnergyPj * Math.Sqrt((double)a.Tile.BufferBytes / k.AnchorBytes) * ((double)k.AccessBits / k.AnchorAccessBits);
    }

    public static double TileBufferAreaMm2(Architecture a) => a.Costs!.TileBuffer.AreaMm2 * BufferRatio(a);

    public static double TileBufferLeakageMw(Architecture a) => a.Costs!.TileBuffer.LeakageMw * BufferRatio(a);

    private static double BufferRatio(Architecture a) => (double)a.Tile.BufferBytes / a.Costs!.TileBuffer.AnchorBytes;

    // ---- interconnect ----

    public static double TileBusAreaMm2(Architecture a) => a.Costs!.TileBus.AreaMm2 * BusRatio(a);

    public static double TileBusLeakageMw(Architecture a) => a.Costs!.TileBus.LeakageMw * BusRatio(a);

    private static double BusRatio(Architecture a) => (double)a.Tile.BusBits / a.Costs!.TileBus.AnchorBusBits;

    /// <summary>A router's area: its buffers and ports scale with the link width.</summary>
    public static double RouterAreaMm2(Architecture a) => a.Costs!.Noc.RouterAreaMm2 * LinkRatio(a);

    public static double RouterLeakageMw(Architecture a) => a.Costs!.Noc.RouterLeakageMw * LinkRatio(a);

    private static double LinkRatio(Architecture a) => (double)a.Chip.Noc.LinkBits / a.Costs!.Noc.AnchorLinkBits;
}
