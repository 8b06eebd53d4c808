using Cimc.Architectures;
using Cimc.Codegen;
using Cimc.Ir;
using Cimc.Isa;
using Cimc.Placement;
using Cimc.Quantization;
using Cimc.Scheduling;
using Cimc.Tests.Performance;

namespace Cimc.Tests.Compile;

/// <summary>
/// The schedule's data movement (docs/cost-model.md section 7): layer inputs are broadcast once per
/// tile through the tile buffers, partial sums are reduced per column block in log depth.
/// </summary>
public sealed class ScheduleTests
{
    /// <summary>At -O1: the ring broadcast and reduction trees over linear placement, whose tiles hold consecutive rows.</summary>
    private static Compilation PumaDifferential(params int[] widths)
    {
        Architecture puma = ArchitectureCatalog.Preset("puma");
        var options = Compiler.OptionsFor(puma) with { SignedWeights = SignedWeightEncoding.Differential };
        return PerformanceFixtures.Compile(new Passes.CompileSettings { Level = Passes.OptLevel.O1 }, puma, options, 5, () => new Sigmoid(), widths);
    }

    private static IEnumerable<ScheduledMessage> Messages(Compilation c, MessageKind kind, int layer) =>
        c.Schedule!.Messages.Where(m => m.Kind == kind && m.Layer == layer);

    [Fact]
    public void A_layer_input_enters_each_tile_that_reads_it_once_per_chunk_not_once_per_core()
    {
        Compilation c = PumaDifferential(512, 1024, 256, 10);
        int rows = c.Program!.Arch.Rows, perTile = c.Program.Arch.CoresPerTile;
        for (int l = 1; l < c.Placed!.Layers.Length; l++)
        {
            PlacedLayer layer = c.Placed.Layers[l];
            int inF = layer.Mapped.Layer.InFeatures;
            var tileRows = layer.Blocks.GroupBy(pb => pb.Core / perTile)
                .Select(g => (Lo: g.Min(pb => pb.Block.RowStart), Hi: g.Max(pb => pb.Block.RowStart + pb.Block.RowCount))).ToList();
            long expected = Enumerable.Range(0, (inF + rows - 1) / rows)
                .Sum(k => tileRows.Count(t => t.Lo < Math.Min(inF, (k + 1) * rows) && t.Hi > k * rows));
            long messages = Messages(c, MessageKind.LayerInput, l).Count();
            Assert.Equal(expected, messages);
            Assert.True(messages < (long)layer.Cores.Length * ((inF + rows - 1) / rows), $"layer {l}: {messages} messages for {layer.Cores.Length} cores");

            // Every other core of a tile gets one signal and loads its rows from the tile buffer.
            long signals = Messages(c, MessageKind.Signal, l).Count();
            Assert.Equal(layer.Cores.Length - tileRows.Count, signals);
        }
    }

    [Theory]
    [InlineData(128, 0)]
    [InlineData(256, 1)]
    [InlineData(384, 2)]
    [InlineData(640, 3)]
    [InlineData(1024, 3)]
    [InlineData(1152, 4)]
    public void Partial_sums_of_a_column_block_on_n_cores_are_added_in_ceil_log2_n_levels(int inputs, int depth)
    {
        // puma, differential 16-bit: one (row block, column block) of 16 crossbars per core, so a
        // column block spans inputs / 128 cores.
        Compilation c = PumaDifferential(inputs, 256, 10);
        PlacedLayer first = c.Placed!.Layers[0];
        foreach (var block in first.Blocks.GroupBy(pb => pb.Block.ColBlock))
        {
            int[] cores = [.. block.Select(pb => pb.Core).Distinct().Order()];
            Assert.Equal(inputs / 128, cores.Length);
            Assert.Equal(depth, Reduction.Depth(cores.Length));
            int[] adds = [.. cores.Select(core => Messages(c, MessageKind.PartialSum, 0).Count(m => m.To == core))];
            Assert.Equal(depth, adds[0]);          // the root adds one vector per level
            Assert.Equal(depth, adds.Max());       // and no core adds more
            Assert.Equal(cores.Length - 1, adds.Sum()); // each other core's sum is sent once
        }
    }

    [Fact]
    public void The_timing_model_sees_the_shorter_schedule_on_mlp_l4()
    {
        Architecture puma = ArchitectureCatalog.Preset("puma");
        var options = Compiler.OptionsFor(puma) with { SignedWeights = SignedWeightEncoding.Offset };
        Compilation c = PerformanceFixtures.Compile(puma, options, 4, () => new Sigmoid(), 1024, 1024, 2048, 1024, 10);
        Cimc.Performance.PerformanceReport r = PerformanceFixtures.Evaluate(c);

        // The old schedule (every core receives its own copy, 127 serial adds at one lead) took 128 us.
        Assert.InRange(r.LatencyNs, r.LowerBoundLatencyNs, 4 * r.LowerBoundLatencyNs);
    }

    [Fact]
    public void Tile_buffer_regions_that_do_not_fit_are_a_diagnostic_naming_the_tile()
    {
        Architecture edge = ArchitectureCatalog.Preset("edge");
        Architecture small = edge with { Tile = edge.Tile with { BufferBytes = TileSpec.BytesPerWord * 300 } };
        var e = Assert.Throws<Diagnostics.CimcException>(() => PerformanceFixtures.Compile(small, 3, () => new Relu(), 200, 300, 10));
        Assert.Equal("does-not-fit", e.Diagnostic.Code);
        Assert.Contains("tile", e.Message);
        Assert.Contains("but a tile buffer has 300", e.Message);
    }
}
