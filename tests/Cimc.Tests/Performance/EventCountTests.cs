using Cimc.Architectures;
using Cimc.Ir;
using Cimc.Isa;
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

    /// <summary>
    /// One 16-bit matrix-vector product on one PUMA MVMU (a 128x128 matrix over 8 crossbars of 2-bit
    /// cells, 1-bit DACs): 8 crossbars x 16 input bits = 128 reads at 170 pJ (PUMA puma-simulator
    /// constants.py: 1.70 mW over 100 ns) and 128 columns x 128 reads = 16,384 conversions at 1.8 pJ
    /// (8-bit ADC, 0.225 mW per bit), about 52 nJ in all as PUMA's own model counts it. The counts and
    /// the figures are written out by hand here, not taken from the cost model.
    /// </summary>
    [Fact]
    public void One_16_bit_mvm_on_a_puma_mvmu_costs_the_crossbar_and_adc_energy_puma_publishes()
    {
        Architecture puma = ArchitectureCatalog.Preset("puma");
        ArchHeader h = Compiler.Header(puma);
        var core = new CoreProgram(0, [.. Enumerable.Range(0, 8).Select(xb => Instruction.Mvm(xb, 0, 128, 128, 128, 16, 2 * xb, false)), Instruction.Halt()]);
        var program = new ProgramImage(h, new InputSpec(0, 0, 128, 1, 0, 0, 65535), new OutputSpec(0, 128, 128, [.. Enumerable.Repeat(1.0, 128)], [.. new long[128]]), [core]);
        PerformanceReport r = PerformanceReport.Evaluate(new PerformanceInput(program, puma, [new LayerSpan("mvmu", 128, 128, [0])]), "one-mvmu");

        Assert.Equal(128, r.Counts["crossbar_reads"]);
        Assert.Equal(16_384, r.Counts["adc_conversions"]);
        Assert.Equal(16_384, r.Counts["dac_drives"]);      // 8 crossbars x 128 rows x 16 bits
        Assert.Equal(21.76, r.EnergyBreakdownNj["crossbar"], 9);   // 128 x 170 pJ
        Assert.Equal(29.4912, r.EnergyBreakdownNj["adc"], 9);      // 16,384 x 1.8 pJ
        double mvmu = r.EnergyBreakdownNj["crossbar"] + r.EnergyBreakdownNj["adc"];
        Assert.InRange(mvmu, 52 * 0.97, 52 * 1.03);
    }

    /// <summary>Dynamic energy adds up: two cores doing the same work spend exactly twice one core's.</summary>
    [Fact]
    public void Two_cores_doing_the_same_work_spend_twice_the_dynamic_energy_of_one()
    {
        Architecture isaac = ArchitectureCatalog.Preset("isaac");
        ArchHeader h = Compiler.Header(isaac);
        static CoreProgram Core(int id) => new(id, [Instruction.Mvm(0, 0, 256, 128, 100, 8, 0, false), Instruction.VAdd(512, 256, 256, 100), Instruction.Halt()]);
        ProgramImage Program(params CoreProgram[] cores) =>
            new(h, new InputSpec(0, 0, 128, 1, 0, 0, 255), new OutputSpec(0, 128, 1, [1.0], [0]), [.. cores]);
        double Dynamic(PerformanceReport r) => r.EnergyBreakdownNj.Where(kv => kv.Key != "leakage").Sum(kv => kv.Value);
        PerformanceReport one = PerformanceReport.Evaluate(new PerformanceInput(Program(Core(0)), isaac, []), "one");
        PerformanceReport two = PerformanceReport.Evaluate(new PerformanceInput(Program(Core(0), Core(1)), isaac, []), "two");
        Assert.Equal(8 * 30 / 1000.0, one.EnergyBreakdownNj["crossbar"], 9);   // 8 reads x 30 pJ (ISAAC: 0.3 mW x 100 ns)
        Assert.Equal(8 * 100 * 1.67 / 1000, one.EnergyBreakdownNj["adc"], 9);   // 800 conversions x 1.67 pJ (8-bit, Accelergy isaac.py)
        Assert.Equal(2 * Dynamic(one), Dynamic(two), 9);
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
