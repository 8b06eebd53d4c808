using Cimc.Architectures;
using Cimc.Performance;
using CsCheck;

namespace Cimc.Tests.Performance;

/// <summary>
/// The cost functions of docs/cost-model.md section 1: each preset reproduces its published
/// anchors exactly, and over random architectures every cost moves the way the hardware would.
/// </summary>
public sealed class CostFunctionTests
{
    /// <summary>The published figures each preset is anchored at (the sources are in the preset's `sources`).</summary>
    public static TheoryData<string, double, double, double, double, double, double, double> Anchors => new()
    {
        // preset, read pJ, read ns, ADC pJ, ADC mm^2, DAC pJ at the anchor pulse, memory pJ, buffer pJ
        { "isaac", 30, 100, 1.67, 0.0012, 0.390625, 0.765625, 20.45 },   // ISAAC Table 2, Accelergy isaac.py
        { "puma", 170, 100, 1.8, 0.0012, 0.00350625, 0.57, 8.6 },       // puma-simulator constants.py
        { "edge", 30, 100, 1.67, 0.0012, 0.390625, 0.57, 8.6 },
    };

    [Theory]
    [MemberData(nameof(Anchors))]
    public void Every_preset_reproduces_its_published_anchor_figures_exactly(string preset, double readPj, double readNs, double adcPj, double adcMm2, double dacPj, double memoryPj, double bufferPj)
    {
        Architecture arch = ArchitectureCatalog.Preset(preset);
        CostSpec k = arch.Costs!;
        Architecture atAnchor = arch with
        {
            Core = arch.Core with
            {
                Crossbar = new CrossbarSpec(k.Crossbar.AnchorRows, k.Crossbar.AnchorCols, k.Crossbar.AnchorCellBits),
                Dac = new DacSpec(k.Crossbar.AnchorDacBits),
                Adc = arch.Core.Adc with { Bits = k.Adc.Anchor.Bits },
                LocalMemoryWords = k.LocalMemory.AnchorWords,
            },
            Tile = arch.Tile with { BufferBytes = k.TileBuffer.AnchorBytes },
        };
        Assert.Equal(readNs, ComponentCosts.ReadNs(atAnchor));
        Assert.Equal(readPj, ComponentCosts.ReadEnergyPj(atAnchor));
        Assert.Equal(adcPj, ComponentCosts.Adc(atAnchor).EnergyPj);
        Assert.Equal(adcMm2, ComponentCosts.Adc(atAnchor).AreaMm2);
        Assert.Equal(k.Adc.Anchor, ComponentCosts.Adc(atAnchor));
        Assert.Equal(dacPj, ComponentCosts.DacEnergyPj(k.Dac, k.Dac.AnchorBits, k.Dac.AnchorPulseNs));
        Assert.Equal(memoryPj, ComponentCosts.LocalMemoryAccessPj(atAnchor));
        Assert.Equal(bufferPj * k.TileBuffer.AccessBits / k.TileBuffer.AnchorAccessBits, ComponentCosts.TileBufferAccessPj(atAnchor));
    }

    private static Gen<Architecture> Architectures =>
        Gen.Select(Gen.Int[0, 2].Select(i => ArchitectureCatalog.PresetNames[i]), Gen.Int[3, 9], Gen.Int[4, 9], Gen.Int[1, 4], Gen.Int[1, 4], Gen.Int[1, 15])
            .Select((p, r, c, cell, dac, adc) => ArchitectureCatalog.Preset(p).With(cellBits: cell, dacBits: dac, adcBits: adc, rows: 1 << r, cols: 1 << c));

    [Fact]
    public void More_adc_bits_cost_more_energy_and_area_and_faster_than_linearly_past_the_knee()
    {
        Architectures.Sample(arch =>
        {
            AdcCurve curve = arch.Costs!.Adc;
            int b = arch.Core.Adc.Bits;
            AdcCost lo = ComponentCosts.Adc(curve, b), hi = ComponentCosts.Adc(curve, b + 1), hi2 = ComponentCosts.Adc(curve, b + 2);
            Assert.True(hi.EnergyPj > lo.EnergyPj && hi.AreaMm2 > lo.AreaMm2 && hi.LatencyNs > lo.LatencyNs, $"{arch.Name} {b} bits");
            // convex: each extra bit costs more than the one before
            Assert.True(hi2.EnergyPj - hi.EnergyPj > hi.EnergyPj - lo.EnergyPj, $"energy not convex at {b} bits");
            Assert.True(hi2.AreaMm2 - hi.AreaMm2 > hi.AreaMm2 - lo.AreaMm2, $"area not convex at {b} bits");
            if (b >= curve.EnergyKneeBits)
            {
                Assert.True(hi.EnergyPj >= 2 * lo.EnergyPj, $"past the knee an extra bit at least doubles the energy ({b} bits)");
            }

            if (b >= curve.AreaKneeBits)
            {
                Assert.True(hi.AreaMm2 / lo.AreaMm2 > (b + 1.0) / b, $"past the knee area grows faster than linearly ({b} bits)");
            }

            // the architecture's own ADC is the curve at its bits
            Assert.Equal(lo, CostModel.Adc(arch));
        });
    }

    [Fact]
    public void Larger_crossbars_cost_more_per_read_and_never_read_faster()
    {
        Gen.Select(Architectures, Gen.Int[0, 2], Gen.Int[0, 2]).Where((_, dr, dc) => dr + dc > 0).Sample((arch, dr, dc) =>
        {
            CrossbarSpec x = arch.Core.Crossbar;
            Architecture big = arch.With(rows: x.Rows << dr, cols: x.Cols << dc);
            Assert.True(ComponentCosts.ReadEnergyPj(big) > ComponentCosts.ReadEnergyPj(arch), $"{x} -> {big.Core.Crossbar}");
            Assert.True(ComponentCosts.ReadNs(big) >= ComponentCosts.ReadNs(arch));
            Assert.True(ComponentCosts.CrossbarAreaMm2(big) > ComponentCosts.CrossbarAreaMm2(arch));
            if (dr > 0)
            {
                Assert.True(ComponentCosts.ReadNs(big) > ComponentCosts.ReadNs(arch), "more rows on a bit line settle slower");
            }
        });
    }

    [Fact]
    public void More_cell_bits_or_dac_bits_are_never_free()
    {
        Architectures.Where(a => a.Core.Crossbar.CellBits < 4 && a.Core.Dac.Bits < 4).Sample(arch =>
        {
            Architecture cell = arch.With(cellBits: arch.Core.Crossbar.CellBits + 1);
            Assert.True(ComponentCosts.ReadNs(cell) > ComponentCosts.ReadNs(arch), "a cell of more levels settles to a finer step");
            Assert.True(ComponentCosts.ReadEnergyPj(cell) > ComponentCosts.ReadEnergyPj(arch));
            Architecture dac = arch.With(dacBits: arch.Core.Dac.Bits + 1);
            Assert.True(ComponentCosts.DacEnergyPj(dac) > ComponentCosts.DacEnergyPj(arch), "a wider DAC drives its row at more power");
            Assert.True(ComponentCosts.DacAreaMm2(dac) > ComponentCosts.DacAreaMm2(arch));
            Assert.True(ComponentCosts.ReadNs(dac) > ComponentCosts.ReadNs(arch));
            Assert.True(ComponentCosts.ReadEnergyPj(dac) > ComponentCosts.ReadEnergyPj(arch));
        });
    }

    [Fact]
    public void Bigger_memories_cost_more_per_access_but_less_per_bit_and_area_follows_capacity()
    {
        Architecture puma = ArchitectureCatalog.Preset("puma");
        Architecture small = puma with { Core = puma.Core with { LocalMemoryWords = 2048 } };
        Architecture big = puma with { Core = puma.Core with { LocalMemoryWords = 8192 } };
        Assert.True(ComponentCosts.LocalMemoryAccessPj(big) > ComponentCosts.LocalMemoryAccessPj(small));
        Assert.True(ComponentCosts.LocalMemoryAccessPj(big) < 4 * ComponentCosts.LocalMemoryAccessPj(small));
        Assert.Equal(4 * ComponentCosts.LocalMemoryAreaMm2(small), ComponentCosts.LocalMemoryAreaMm2(big), 12);
    }

    [Fact]
    public void An_old_form_costs_object_is_refused_in_one_line_naming_what_changed()
    {
        string json = ArchitectureJson.Write(ArchitectureCatalog.Preset("edge"));
        string old = json.Replace("\"anchor\": {\n        \"rows\": 128,\n        \"cols\": 128,\n        \"cell_bits\": 2,\n        \"dac_bits\": 1\n      },\n", "", StringComparison.Ordinal);
        Assert.NotEqual(json, old);
        var e = Assert.Throws<Diagnostics.CimcException>(() => ArchitectureJson.Parse(old, "old.json"));
        Assert.Contains("old constant-cost form", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Architecture_json_round_trips_with_its_cost_model_and_ignores_the_derived_peak()
    {
        foreach (string name in ArchitectureCatalog.PresetNames)
        {
            Architecture arch = ArchitectureCatalog.Preset(name);
            Architecture back = ArchitectureJson.Parse(PeakMetrics.ArchitectureJsonWithPeak(arch), $"{name}.json");
            Assert.Equal(ArchitectureJson.Write(arch), ArchitectureJson.Write(back));
        }
    }
}
