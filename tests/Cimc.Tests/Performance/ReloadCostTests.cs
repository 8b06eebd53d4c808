using Cimc.Architectures;
using Cimc.Data;
using Cimc.Ir;
using Cimc.Isa;
using Cimc.Passes;
using Cimc.Performance;
using Cimc.Tests.Compile;

namespace Cimc.Tests.Performance;

/// <summary>
/// What weight reloading costs (docs/cost-model.md section 3b): every batch rewrites every segment's
/// crossbars at PUMA's per-cell energy and per-row latency, activations make a round trip over the
/// node's link between segments, and a larger batch amortizes the writes.
/// </summary>
public sealed class ReloadCostTests
{
    [Fact]
    public void Cell_write_figures_are_pumas_whole_crossbar_write_spread_over_its_cells_and_rows()
    {
        // puma-simulator include/constants.py: xbar_wr_lat = 351 * 1000 / 32 ns; xbar_wr_pow = 676 * 1000 / 32 / xbar_rd_lat mW, xbar_rd_lat = 328 * 1000 / 32.
        Assert.Equal(10_968.75, CellWrites.PumaCrossbarWriteNs);
        Assert.Equal(2.0610, CellWrites.PumaCrossbarWriteMw, 4);
        Assert.Equal(1.3798, CellWrites.EnergyPjPerCell, 4);
        Assert.Equal(85.693, CellWrites.NsPerRow, 3);
    }

    private static (Compilation C, PerformanceReport One, PerformanceReport Sixteen) Example()
    {
        Graph graph = Cimc.Import.ModelLoader.Load(Path.Combine(TestPaths.Examples, "fashion-mnist", "mlp.onnx"));
        Architecture arch = ReloadTests.Small(ArchitectureCatalog.Preset("puma"), 2, 4, 16);
        var calibration = new NdArray([8, 784], [.. Enumerable.Range(0, 8 * 784).Select(i => (float)((i * 37 % 101) / 100.0))]);
        Compilation c = Compiler.Compile(graph, arch, Compiler.OptionsFor(arch), calibration, settings: new CompileSettings { WhenTooLarge = WhenTooLarge.Reload });
        PerformanceReport At(int batch) => ReloadReport.Evaluate(PerformanceInputs.Segments(c, batch), "mlp");
        return (c, At(1), At(16));
    }

    [Fact]
    public void Writes_activation_traffic_and_endurance_are_charged_per_batch_and_amortized_over_it()
    {
        (Compilation c, PerformanceReport one, PerformanceReport sixteen) = Example();
        Assert.Equal(2, c.Segments.Length);
        Assert.Equal(2, one.Segments);
        int rows = 128, cols = 128;

        // Cells: every crossbar each segment's weight image programs, whole (the image's own count).
        List<WeightImage> images = [.. c.Segments.Select(s => s.Weights!)];
        long cells = images.Sum(w => (long)w.Crossbars.Count * rows * cols);
        Assert.Equal(c.Mapped!.Crossbars * (long)rows * cols, cells);
        Assert.Equal(cells, one.ReloadCellWrites);
        Assert.Equal(cells, sixteen.ReloadCellWrites);
        Assert.Equal(cells * CellWrites.EnergyPjPerCell / 1000, one.ReloadWriteEnergyNj, 6);

        // Time: each segment's busiest core writes its crossbars one after another, row by row.
        double writeNs = images.Sum(w => w.Crossbars.Keys.GroupBy(k => k.Core).Max(g => g.Count()) * rows * CellWrites.NsPerRow);
        Assert.Equal(writeNs, one.ReloadWriteNs, 6);

        // Endurance: the most-written cell is written once per segment that programs its crossbar, per batch.
        int most = images.SelectMany(w => w.Crossbars.Keys).GroupBy(k => k).Max(g => g.Count());
        Assert.Equal(most, one.ReloadWritesPerCellPerInference);
        Assert.Equal(most / 16.0, sixteen.ReloadWritesPerCellPerInference);

        // Activations: layer 2's input codes (the cut is before it) out to memory and back, at their bits.
        Assert.Equal(2, c.SegmentCuts[1].FirstLayer);
        Cimc.Quantization.QuantizedLayer second = c.Quantized!.Layers[2];
        long bits = 2L * second.InFeatures * Golden.Contract.BitLen(second.Input.Max);
        Assert.Equal((bits + 7) / 8, one.ReloadActivationBytes);

        // energy_nj is one inference on an idle node: all writes included, whatever the batch.
        Assert.Equal(one.EnergyNj, sixteen.EnergyNj, 6);
        Assert.Equal(one.EnergyNj, one.EnergyBreakdownNj.Values.Sum(), 6);
        Assert.Equal(one.ReloadWriteEnergyNj, one.EnergyBreakdownNj[ReloadReport.WritesKey], 6);
        Assert.Equal(sixteen.ReloadWriteEnergyNj / 16, sixteen.ReloadWriteEnergyPerInferenceNj, 6);

        // A batch amortizes the writes: less energy and more throughput per inference.
        Assert.True(sixteen.EnergyPerInferenceSteadyNj < one.EnergyPerInferenceSteadyNj - (one.ReloadWriteEnergyNj * 0.9));
        Assert.True(sixteen.ThroughputPerS > 8 * one.ThroughputPerS);
        Assert.True(one.LatencyNs > one.ReloadWriteNs);
        Assert.True(one.ThroughputPerS <= one.UpperBoundThroughputPerS * (1 + 1e-9));
        Assert.True(one.LatencyNs >= one.LowerBoundLatencyNs * (1 - 1e-9));
        Assert.Equal(1e9 / one.MakespanNs, one.ThroughputPerS, 6);
    }

    [Fact]
    public void A_program_of_one_segment_is_priced_as_before()
    {
        (Compilation c, _, _) = Example();
        PerformanceInput single = PerformanceInputs.For(c.Segments[0], 4);
        PerformanceReport direct = PerformanceReport.Evaluate(single, "mlp"), viaReload = ReloadReport.Evaluate([single], "mlp");
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(direct, JsonFormat.Options), System.Text.Json.JsonSerializer.Serialize(viaReload, JsonFormat.Options));
        Assert.Equal(1, viaReload.Segments);
        Assert.Equal(0, viaReload.ReloadCellWrites);
    }
}
