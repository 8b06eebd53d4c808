using System.Text.Json.Nodes;
using Cimc.Architectures;

namespace Cimc.Performance;

/// <summary>
/// What the chip can do at best, from the architecture alone, counted the way ISAAC and PUMA
/// count it (docs/cost-model.md section 4): every crossbar busy, streaming back-to-back
/// matrix-vector products at the preset's default weight and activation precision (so the
/// pipeline fill is amortized away), 2 operations per multiply-accumulate. Peak power is every
/// component at the rate that stream drives it, plus the leakage of the whole chip and the
/// off-chip links' power.
/// </summary>
/// <param name="PeakTops">2 x MACs per second / 1e12.</param>
/// <param name="PeakPowerW">The sum of <paramref name="PowerBreakdownMw"/>, in W.</param>
/// <param name="AreaMm2">The whole chip (<see cref="CostModel.ChipArea"/>).</param>
public sealed record PeakMetrics(
    double PeakTops,
    double PeakTopsPerW,
    double PeakTopsPerMm2,
    double PeakPowerW,
    double AreaMm2,
    double MvmNs,
    Dictionary<string, double> PowerBreakdownMw,
    Dictionary<string, double> AreaBreakdownMm2)
{
    public static PeakMetrics Of(Architecture arch)
    {
        CoreSpec core = arch.Core;
        PrecisionSpec p = arch.DefaultPrecision;
        int rows = core.Crossbar.Rows, cols = core.Crossbar.Cols;
        int planes = WeightPlanes(p, core.Crossbar.CellBits);
        AdcCost adc = ComponentCosts.Adc(arch);

        // One slice with every crossbar of an ADC group streaming: the read, or the group's ADCs
        // converting all its columns in turn, whichever is slower (they pipeline).
        double slice = Math.Max(ComponentCosts.ReadNs(arch), core.ColumnsPerAdc * adc.LatencyNs);
        double mvm = core.InputSlices(p.ActivationBits) * slice;
        double xbars = arch.TotalCrossbars;
        double macsPerNs = xbars * rows * cols / planes / mvm;
        double readsPerNs = xbars / slice, conversionsPerNs = xbars * cols / slice;

        // Traffic when every crossbar takes its own input vector and gives up its outputs, as ISAAC
        // provisions its eDRAM, bus and router (Accelergy isaac.py derives their energies that way).
        // Each shared part carries at most its bandwidth: a bus its width per cycle, a buffer one
        // access per cycle, a router a flit per port per cycle (tiles_per_router + 4 mesh ports).
        double bitsPerNs = xbars * (rows + ((double)cols / planes)) * p.ActivationBits / mvm;
        CostSpec k = arch.Costs!;
        int tiles = arch.TotalTiles;
        double busBits = Math.Min(bitsPerNs, tiles * arch.Tile.BusBits * arch.ClockGhz);
        double bufferAccesses = Math.Min(bitsPerNs * 2 / k.TileBuffer.AccessBits, tiles * arch.ClockGhz);
        double routerBits = Math.Min(bitsPerNs, arch.Chips * arch.Chip.Routers * (arch.Chip.Noc.TilesPerRouter + 4) * arch.Chip.Noc.LinkBits * arch.ClockGhz);
        var power = new Dictionary<string, double>
        {
            ["crossbar"] = readsPerNs * ComponentCosts.ReadEnergyPj(arch),
            ["adc"] = conversionsPerNs * adc.EnergyPj,
            ["dac"] = readsPerNs * rows * ComponentCosts.DacEnergyPj(arch),
            ["sample_hold"] = conversionsPerNs * ComponentCosts.SampleHoldEnergyPj(arch),
            ["shift_add"] = conversionsPerNs * ComponentCosts.ShiftAddEnergyPj(arch),
            ["local_memory"] = xbars * (rows + (2.0 * cols)) / mvm * ComponentCosts.LocalMemoryAccessPj(arch),
            ["alu"] = arch.TotalCores * core.VectorLanes * arch.ClockGhz * k.Alu.MulEnergyPj,
            ["tile_buffer"] = bufferAccesses * ComponentCosts.TileBufferAccessPj(arch),
            ["tile_bus"] = busBits * k.TileBus.EnergyPj,
            ["router"] = routerBits * (k.Noc.RouterEnergyPjPerBit + k.Noc.LinkEnergyPjPerBit),
            ["leakage"] = ChipLeakageMw(arch),
            ["offchip"] = arch.Chips * k.OffChip.Links * k.OffChip.PowerMwPerLink,
        };
        var area = CostModel.ChipArea(arch).ToDictionary(s => s.Component, s => s.Value);
        double tops = 2 * macsPerNs / 1000;
        double watts = power.Values.Sum() / 1000, mm2 = area.Values.Sum();
        return new PeakMetrics(tops, tops / watts, tops / mm2, watts, mm2, mvm, power, area);
    }

    /// <summary>Crossbars one weight occupies: its stored bits over the cell bits, times 2 for differential pairs (src/Cimc/Mapping/CrossbarMapper.cs).</summary>
    public static int WeightPlanes(PrecisionSpec p, int cellBits) => p.SignedWeights switch
    {
        SignedWeights.Differential => 2 * ((p.WeightBits - 1 + cellBits - 1) / cellBits),
        _ => (p.WeightBits + cellBits - 1) / cellBits,
    };

    /// <summary>Leakage of every core, tile and router of the chip.</summary>
    public static double ChipLeakageMw(Architecture arch) =>
        (arch.TotalCores * CostModel.CoreLeakageMw(arch).Sum(s => s.Value))
        + (arch.TotalTiles * (ComponentCosts.TileBufferLeakageMw(arch) + ComponentCosts.TileBusLeakageMw(arch)))
        + (arch.Chips * arch.Chip.Routers * ComponentCosts.RouterLeakageMw(arch));

    /// <summary>The `cimc arch show` lines: peak throughput, power, efficiency and area.</summary>
    public string Describe()
    {
        string F(double v, string format) => v.ToString(format, System.Globalization.CultureInfo.InvariantCulture);
        return $"peak       {F(PeakTops, "0.##")} TOPS (2 ops per MAC, every crossbar busy, one {F(MvmNs, "0.#")} ns mvm after another), {F(PeakPowerW, "0.##")} W, {F(AreaMm2, "0.##")} mm^2\n"
            + $"           {F(PeakTopsPerW, "0.###")} TOPS/W, {F(PeakTopsPerMm2, "0.###")} TOPS/mm^2 (docs/cost-model.md section 4)\n";
    }

    /// <summary>The architecture's JSON (<see cref="ArchitectureJson.Write"/>) with these figures under `peak` (read back, `peak` is ignored).</summary>
    public static string ArchitectureJsonWithPeak(Architecture arch)
    {
        JsonObject root = JsonNode.Parse(ArchitectureJson.Write(arch))!.AsObject();
        if (arch.Costs is not null)
        {
            PeakMetrics m = Of(arch);
            root["peak"] = new JsonObject
            {
                ["peak_tops"] = m.PeakTops,
                ["peak_tops_per_w"] = m.PeakTopsPerW,
                ["peak_tops_per_mm2"] = m.PeakTopsPerMm2,
                ["peak_power_w"] = m.PeakPowerW,
                ["area_mm2"] = m.AreaMm2,
            };
        }

        return root.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";
    }
}
