using Cimc.Architectures;
using Cimc.Performance;

namespace Cimc.Tests.Performance;

/// <summary>
/// cimc's cost model against published figures it was not fitted to exactly (docs/cost-model.md
/// section 8): ISAAC's Table 2 (per-IMA and per-tile power and area, chip totals), PUMA's node
/// area and peak throughput (its peak power is out of reach of its own MVM energy, section 8a),
/// the Saberi-scaled ADC table and puma-simulator's data-memory table.
/// </summary>
public sealed class CostValidationTests
{
    // The presets as they are: their core memories are the chips' (ISAAC's IMA input and output
    // registers, 1,152 16-bit entries; PUMA's register file and MVMU registers, 2,560).
    private static Architecture Isaac() => ArchitectureCatalog.Preset("isaac");

    private static void Within(double published, double modelled, double tolerance, string what) =>
        Assert.True(Math.Abs(modelled / published - 1) <= tolerance, $"{what}: cimc {modelled:G4}, published {published:G4} ({(modelled / published - 1) * 100:+0.0;-0.0} %)");

    [Fact]
    public void Isaac_chip_area_and_peak_power_are_within_15_percent_of_the_paper()
    {
        PeakMetrics m = PeakMetrics.Of(Isaac());
        Within(85.4, m.AreaMm2, 0.15, "ISAAC chip area (mm^2, with HyperTransport)");
        Within(65.8, m.PeakPowerW, 0.15, "ISAAC chip power (W, with HyperTransport)");
        Within(62.5, m.AreaMm2 - m.AreaBreakdownMm2["offchip"], 0.15, "ISAAC 168 tiles (mm^2)");
        Within(55.4, m.PeakPowerW - (m.PowerBreakdownMw["offchip"] / 1000), 0.15, "ISAAC 168 tiles (W)");
    }

    /// <summary>ISAAC Table 2: power (mW) and area (mm^2) of each component, per IMA and per tile.</summary>
    public static TheoryData<string, double, double, bool> IsaacComponents => new()
    {
        { "adc", 16, 0.0096, true },            // 8 ADCs per IMA
        { "dac", 4, 0.00017, true },            // 8 x 128
        { "sample_hold", 0.01, 0.00004, true }, // 8 x 128
        { "crossbar", 2.4, 0.0002, true },      // 8 arrays
        { "shift_add", 0.2, 0.00024, true },    // 4 units
        { "local_memory", 1.24 + 0.23, 0.0021 + 0.00077, true }, // input + output registers
        { "tile_buffer", 20.7, 0.083, false },  // 64 KB eDRAM per tile
        { "tile_bus", 7, 0.090, false },
        { "router", 42.0 / 4, 0.151 / 4, false }, // one router per 4 tiles
    };

    [Theory]
    [MemberData(nameof(IsaacComponents))]
    public void Each_isaac_component_is_within_25_percent_of_its_published_power_and_area(string component, double mw, double mm2, bool perIma)
    {
        Architecture arch = Isaac();
        PeakMetrics m = PeakMetrics.Of(arch);
        double units = perIma ? arch.TotalCores : arch.Chip.Tiles;
        Within(mw, m.PowerBreakdownMw[component] / units, 0.25, $"{component} power per {(perIma ? "IMA" : "tile")}");
        Within(mm2, m.AreaBreakdownMm2[component] / units, 0.25, $"{component} area per {(perIma ? "IMA" : "tile")}");
    }

    [Fact]
    public void Isaac_peak_throughput_per_area_matches_its_computational_efficiency()
    {
        // ISAAC-CE: 16-bit MVMs on 128x128 arrays, one input bit per 100 ns: 479 GOPS/s/mm^2
        // (41.3 TOPS over 85.4 mm^2).
        PeakMetrics m = PeakMetrics.Of(Isaac());
        Within(0.479, m.PeakTopsPerMm2, 0.15, "ISAAC TOPS/mm^2");
    }

    [Fact]
    public void Puma_node_area_and_peak_throughput_are_within_15_percent_of_the_paper()
    {
        // PUMA's node: 138 tiles plus HyperTransport, 90.6 mm^2, 577 GOPS/s/mm^2 at 1 GHz
        // (so 52.3 TOPS). The preset carries puma-simulator's 168 tiles; compare at the paper's 138.
        Architecture a = ArchitectureCatalog.Preset("puma");
        a = a with { Chip = a.Chip with { Tiles = 138 } };
        PeakMetrics m = PeakMetrics.Of(a);
        Within(90.6, m.AreaMm2, 0.15, "PUMA node area (mm^2)");
        Within(0.577 * 90.6, m.PeakTops, 0.15, "PUMA peak TOPS");
    }

    [Fact]
    public void Puma_published_efficiency_is_above_what_its_own_mvm_energy_allows()
    {
        // Why PUMA's 62.5 W is not asserted (docs/cost-model.md section 8a): puma-simulator's
        // hw_stats.py charges one 16-bit MVM on a 128x128 MVMU 8 arrays x 16 slices reads and
        // 16,384 conversions, which the preset reproduces (MLP-L4's energy rests on it). That caps
        // PUMA at 639 GOPS per joule against the 837 GOPS/s/W it reports, so at cimc's peak
        // throughput the crossbars, ADCs and HyperTransport alone exceed 62.5 W by more than 15 %.
        Architecture a = ArchitectureCatalog.Preset("puma");
        a = a with { Chip = a.Chip with { Tiles = 138 } };
        int planes = PeakMetrics.WeightPlanes(a.DefaultPrecision, a.Core.Crossbar.CellBits);
        int slices = a.Core.InputSlices(a.DefaultPrecision.ActivationBits);
        int rows = a.Core.Crossbar.Rows, cols = a.Core.Crossbar.Cols;
        double mvmPj = planes * slices * (ComponentCosts.ReadEnergyPj(a) + (cols * ComponentCosts.Adc(a).EnergyPj));
        Assert.Equal(8 * 16 * (170 + (128 * 1.8)), mvmPj, 6);
        double topsPerW = 2.0 * rows * cols / mvmPj;
        Assert.True(topsPerW < 0.837, $"crossbar + ADC energy allows {topsPerW:G4} TOPS/W");

        PeakMetrics m = PeakMetrics.Of(a);
        double floorW = (m.PeakTops / topsPerW) + (m.PowerBreakdownMw["offchip"] / 1000);
        Assert.True(floorW > 1.15 * 62.5, $"crossbars, ADCs and links need {floorW:G4} W at {m.PeakTops:G4} TOPS");
        Assert.True(m.PeakPowerW >= floorW, $"peak power {m.PeakPowerW:G4} W does not pay for its own mvms ({floorW:G4} W)");
    }

    [Fact]
    public void The_adc_curve_follows_the_saberi_scaled_table_it_was_fitted_to()
    {
        // Accelergy hwcomponents-library isaac.py: 32 nm SAR ADC, per conversion and per converter.
        (int Bits, double Pj, double Um2)[] table =
            [(4, 0.79, 361.04), (5, 0.99, 476.91), (6, 1.20, 626.91), (7, 1.42, 845.18), (8, 1.67, 1200), (9, 1.969078145, 1827.911647), (10, 2.379022742, 3002.008032)];
        AdcCurve curve = ArchitectureCatalog.Preset("isaac").Costs!.Adc;
        foreach ((int bits, double pj, double um2) in table)
        {
            AdcCost c = ComponentCosts.Adc(curve, bits);
            Within(pj, c.EnergyPj, 0.05, $"{bits}-bit ADC energy");
            Within(um2 * 1e-6, c.AreaMm2, 0.05, $"{bits}-bit ADC area");
        }
    }

    [Fact]
    public void The_memory_model_follows_puma_simulators_data_memory_table()
    {
        // puma-simulator constants.py dataMem by entries (16-bit): dynamic mW (= pJ per access), leakage mW, mm^2.
        (int Entries, double Pj, double LeakMw, double Mm2)[] table =
            [(256, 0.16, 0.044, 0.00056), (512, 0.24, 0.078, 0.00108), (1024, 0.33, 0.147, 0.00192), (2048, 0.57, 0.33, 0.00392)];
        Architecture puma = ArchitectureCatalog.Preset("puma");
        foreach ((int entries, double pj, double leak, double mm2) in table)
        {
            Architecture a = puma with { Core = puma.Core with { LocalMemoryWords = entries } };
            // sqrt(capacity) is CACTI's first-order form; the table falls a little faster (0.16 pJ at
            // 256 entries against the model's 0.20, +26 %, the largest miss), so 30 % here.
            Within(pj, ComponentCosts.LocalMemoryAccessPj(a), entries == 256 ? 0.30 : 0.25, $"{entries}-entry access energy");
            Within(leak, ComponentCosts.LocalMemoryLeakageMw(a), 0.25, $"{entries}-entry leakage");
            Within(mm2, ComponentCosts.LocalMemoryAreaMm2(a), 0.25, $"{entries}-entry area");
        }
    }
}
