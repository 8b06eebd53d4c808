using Cimc.Architectures;
using Cimc.Ir;
using Cimc.Mapping;
using Cimc.Performance;

namespace Cimc.Tests.Performance;

public sealed class EventCountTests
{
    public static TheoryData<string, int, int, int> Shapes() => new()
    {
        { "isaac", 784, 256, 10 },
        { "puma", 300, 130, 7 },
        { "edge", 784, 256, 128 },
        { "edge", 100, 10, 10 },
        { "puma", 129, 257, 3 },
    };

    /// <summary>
    /// docs/quantization.md sections 6-7: a layer runs one mvm per crossbar, i.e.
    /// row_blocks x col_blocks x S x P mvms, each over K = ceil(ibits / dac_bits) input slices; every
    /// mvm converts each of its columns once per slice.
    /// </summary>
    [Theory]
    [MemberData(nameof(Shapes))]
    public void Crossbar_reads_and_adc_conversions_follow_the_closed_form_for_every_layer(string preset, int a, int b, int c)
    {
        Architecture arch = ArchitectureCatalog.Preset(preset);
        Compilation comp = PerformanceFixtures.Compile(arch, a + b + c, () => new Relu(), a, b, c);
        PerformanceReport report = PerformanceFixtures.Evaluate(comp);
        int rows = arch.Core.Crossbar.Rows, cols = arch.Core.Crossbar.Cols, d = arch.Core.Dac.Bits;
        long reads = 0, conversions = 0, drives = 0;
        foreach (MappedLayer layer in comp.Mapped!.Layers)
        {
            int inF = layer.Layer.InFeatures, outF = layer.Layer.OutFeatures;
            int rb = (inF + rows - 1) / rows, cb = (outF + cols - 1) / cols, k = (layer.InputBits + d - 1) / d;
            long crossbars = (long)rb * cb * layer.Slices * layer.Polarities;
            Assert.Equal(crossbars, layer.Crossbars);
            reads += crossbars * k;
            conversions += (long)outF * rb * layer.Slices * layer.Polarities * k;   // each column block's columns, per row block
            drives += (long)inF * cb * layer.Slices * layer.Polarities * k;         // each row block's rows, per column block
        }

        Assert.Equal(reads, report.Counts["crossbar_reads"]);
        Assert.Equal(conversions, report.Counts["adc_conversions"]);
        Assert.Equal(conversions, report.Counts["shift_adds"]);
        Assert.Equal(drives, report.Counts["dac_drives"]);
        Assert.Equal(comp.Mapped.Crossbars, report.Counts["mvms"]);
        Assert.Equal(comp.Mapped.Crossbars, report.CrossbarsUsed);
    }

    /// <summary>With g rows per read, each input slice of a crossbar is read and converted once per row group.</summary>
    [Theory]
    [InlineData("isaac", 32)]
    [InlineData("edge", 50)]
    public void Rows_per_read_multiply_reads_and_conversions_by_the_row_groups(string preset, int rowsPerRead)
    {
        Architecture arch = ArchitectureCatalog.Preset(preset);
        var options = Compiler.OptionsFor(arch) with { RowsPerRead = rowsPerRead };
        Compilation comp = PerformanceFixtures.Compile(arch, options, 3, () => new Relu(), 300, 130, 10);
        PerformanceReport report = PerformanceFixtures.Evaluate(comp);
        int cols = arch.Core.Crossbar.Cols, d = arch.Core.Dac.Bits;
        long reads = 0, conversions = 0;
        foreach (Cimc.Placement.PlacedLayer placed in comp.Placed!.Layers)
        {
            MappedLayer layer = placed.Mapped;
            int k = (layer.InputBits + d - 1) / d;
            foreach (CrossbarBlock block in layer.Blocks)
            {
                int groups = (block.RowCount + rowsPerRead - 1) / rowsPerRead;
                reads += (long)k * groups;
                conversions += (long)k * groups * block.ColCount;
            }
        }

        Assert.Equal(reads, report.Counts["crossbar_reads"]);
        Assert.Equal(conversions, report.Counts["adc_conversions"]);
        Assert.True(reads > comp.Mapped!.Crossbars * 8, "row groups must add reads");
    }

    [Theory]
    [InlineData("isaac")]
    [InlineData("puma")]
    [InlineData("edge")]
    public void Dynamic_energy_is_exactly_the_sum_of_counts_times_per_event_costs(string preset)
    {
        Architecture arch = ArchitectureCatalog.Preset(preset);
        PerformanceReport r = PerformanceFixtures.Evaluate(PerformanceFixtures.Compile(arch, 7, () => new Sigmoid(), 200, 64, 10));
        CostSpec k = arch.Costs!;
        double adc = ComponentCosts.Adc(arch).EnergyPj;
        double expected = (r.Counts["crossbar_reads"] * ComponentCosts.ReadEnergyPj(arch)) + (r.Counts["adc_conversions"] * adc)
            + (r.Counts["dac_drives"] * ComponentCosts.DacEnergyPj(arch)) + (r.Counts["sample_holds"] * ComponentCosts.SampleHoldEnergyPj(arch))
            + (r.Counts["shift_adds"] * ComponentCosts.ShiftAddEnergyPj(arch)) + (r.Counts["local_memory_accesses"] * ComponentCosts.LocalMemoryAccessPj(arch))
            + (r.Counts["tile_buffer_accesses"] * ComponentCosts.TileBufferAccessPj(arch)) + (r.Counts["tile_bus_bits"] * k.TileBus.EnergyPj)
            + (r.Counts["router_bits"] * k.Noc.RouterEnergyPjPerBit) + (r.Counts["link_bits"] * k.Noc.LinkEnergyPjPerBit)
            + (r.Counts["alu_adds"] * k.Alu.AddEnergyPj) + (r.Counts["alu_muls"] * k.Alu.MulEnergyPj) + (r.Counts["alu_lookups"] * k.Alu.LookupEnergyPj);
        double dynamicNj = r.EnergyBreakdownNj.Where(kv => kv.Key != "leakage").Sum(kv => kv.Value);
        Assert.Equal(expected / 1000, dynamicNj, 9);
        Assert.All(r.EnergyLines, l => Assert.Equal(l.Count * l.CostPj, l.EnergyPj));
        Assert.Equal(r.LeakagePowerMw * r.MakespanNs / r.Batch / 1000, r.EnergyBreakdownNj["leakage"], 9);
        Assert.Equal(r.EnergyBreakdownNj.Values.Sum(), r.EnergyNj, 9);
        Assert.True(r.Counts["alu_lookups"] > 0, "a sigmoid network runs its activations on the special-function unit");
    }

    [Theory]
    [InlineData("isaac")]
    [InlineData("edge")]
    public void Alu_lookups_count_one_special_function_op_per_activated_output(string preset)
    {
        // 200-64-10 with a sigmoid after the first layer only: 64 vact elements per inference, and
        // each vact reads its code, writes its result and reads the 7-word block once.
        Architecture arch = ArchitectureCatalog.Preset(preset);
        Compilation c = PerformanceFixtures.Compile(arch, 7, () => new Sigmoid(), 200, 64, 10);
        PerformanceReport r = PerformanceFixtures.Evaluate(c);
        Assert.Equal(64, r.Counts["alu_lookups"]);
        var vacts = c.Program!.Cores.SelectMany(p => p.Code).Where(i => i.Opcode == Cimc.Isa.Opcode.VAct).ToList();
        Assert.Equal(64, vacts.Sum(i => i["len"]));
        Assert.Equal(r.EnergyLines.Single(l => l.Event == "alu_lookups").Count * arch.Costs!.Alu.LookupEnergyPj, r.EnergyLines.Single(l => l.Event == "alu_lookups").EnergyPj);
    }

    [Fact]
    public void Area_breakdown_sums_to_the_chip_area_and_counts_every_core()
    {
        Architecture arch = ArchitectureCatalog.Preset("isaac");
        PerformanceReport r = PerformanceFixtures.Evaluate(PerformanceFixtures.Compile(arch, 3, () => new Relu(), 64, 32, 10));
        Assert.Equal(r.AreaBreakdownMm2.Values.Sum(), r.AreaMm2, 9);
        Assert.Equal(arch.TotalCrossbars * arch.Costs!.Crossbar.AreaMm2, r.AreaBreakdownMm2["crossbar"], 9);
        Assert.Equal(arch.TotalCrossbars * 0.0012, r.AreaBreakdownMm2["adc"], 6);
    }
}
