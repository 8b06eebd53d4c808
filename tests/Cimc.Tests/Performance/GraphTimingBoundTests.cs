using System.Collections.Immutable;
using Cimc.Architectures;
using Cimc.Codegen;
using Cimc.Data;
using Cimc.Import;
using Cimc.Ir;
using Cimc.Isa;
using Cimc.Mapping;
using Cimc.Performance;
using Cimc.Placement;
using Cimc.Quantization;
using Cimc.Tests.Compile;
using Cimc.Tests.Golden;
using CsCheck;

namespace Cimc.Tests.Performance;

/// <summary>The bounds of report.json stay true bounds on convolutional graphs, and count a convolution's crossbars once per window.</summary>
public sealed class GraphTimingBoundTests
{
    private const double Rounding = 1e-9;

    [Fact]
    public void Random_conv_graphs_never_beat_their_latency_throughput_or_crossbar_bounds() => NeverBeatBounds(replicated: false);

    /// <summary>With random copies per convolution (each copy's crossbars run its share of the windows), with and without the input written per tile and pools and adds split, the bounds stay true.</summary>
    [Fact]
    public void Random_conv_graphs_with_replicated_convolutions_never_beat_their_bounds() => NeverBeatBounds(replicated: true);

    private static void NeverBeatBounds(bool replicated)
    {
        int manyWindows = 0;
        Gen.Select(RandomGraphs.Cases(), Gen.Int[0, int.MaxValue]).Sample(t =>
        {
            (GraphCase c, int seed) = t;
            var rng = new Random(seed);
            Func<MappedModel, MappedModel> copies = replicated ? GraphReplicationTests.RandomCopies(seed) : m => m;
            Architecture arch = GraphBitExactnessTests.ChipFor(c, 1 << rng.Next(3), replicate: copies);
            arch = arch with
            {
                Chip = arch.Chip with { Noc = new NocSpec(16 << rng.Next(4), rng.Next(1, 4), new[] { 1, 2, 4 }[rng.Next(3)]) },
                Tile = arch.Tile with { BusBits = 32 << rng.Next(3) },
            };
            QuantizedModel model = c.Model;
            MappedModel mapped = copies(CrossbarMapper.Map(model, Compiler.Geometry(arch)));
            // Replicated draws write the input per tile (input-tiles) half the time, and split pools and adds two times in three.
            PlacedModel placed = Placer.Place(mapped, Compiler.Shape(arch)) with { Lowering = new Lowering(false, rng.Next(2) == 0) { InputPerTile = replicated && seed % 2 == 0, VectorCopies = replicated && seed % 3 != 0 } };
            (ProgramImage program, _) = CodeGenerator.Generate(placed, Compiler.Header(arch));
            int batch = rng.Next(1, 9);
            PerformanceReport r = PerformanceReport.Evaluate(PerformanceInputs.For(program, arch, placed, batch), "graph");
            string at = $"{c}, seed {seed}, batch {batch} on {TimingBoundTests.Describe(arch)}";

            Assert.True(r.LatencyNs >= r.LowerBoundLatencyNs * (1 - Rounding), $"{at}: latency {r.LatencyNs} < bound {r.LowerBoundLatencyNs} ({r.LowerBoundLimit})");
            Assert.True(r.LatencyNs >= r.MvmSequenceBoundNs * (1 - Rounding), $"{at}: latency {r.LatencyNs} < the crossbars' chain {r.MvmSequenceBoundNs}");
            Assert.True(r.LowerBoundLatencyNs >= r.MvmSequenceBoundNs * (1 - Rounding));
            Assert.True(r.ThroughputPerS <= r.UpperBoundThroughputPerS * (1 + Rounding), $"{at}: throughput {r.ThroughputPerS} > bound {r.UpperBoundThroughputPerS} ({r.UpperBoundThroughputLimit})");

            // The chain counts every window: the widest convolution's crossbars each run one mvm per
            // window, a copy's its share (ceil(W / k) of each row's W columns).
            int windows = model.Graph!.Nodes.OfType<LayerNode>().Select(n => n.Conv is { } g ? g.OutHeight * ((g.OutWidth + mapped.Layers[n.Layer].Replicas - 1) / mapped.Layers[n.Layer].Replicas) : 1).Max();
            double shortest = program.Cores.SelectMany(p => p.Code).Where(i => i.Opcode == Opcode.Mvm)
                .Min(i => CostModel.MvmNs(arch, i) - (CostModel.FillSlices * CostModel.SliceNs(arch, i["cols"])));
            Assert.True(r.MvmSequenceBoundNs >= windows * shortest * (1 - Rounding), $"{at}: {r.MvmSequenceBoundNs} misses {windows} windows of {shortest} ns");
            if (windows > model.Layers.Length + 2)
            {
                Interlocked.Increment(ref manyWindows);
            }
        }, iter: 30, threads: 1);

        Assert.InRange(manyWindows, replicated ? 5 : 10, 30); // most draws have a convolution with more windows than layers, so the window count matters
    }

    [Fact]
    public void A_producer_read_whole_chains_its_reader_and_a_stride_that_skips_rows_does_not()
    {
        var q = new ActivationQuant(1.0, 0, 255);
        MapShape input = new(1, 5, 5);
        var skip = new ConvGeometry(input, new Window2d(2, 2, 2, 2)); // rows and columns 0-3 of 5: row 4 is never read
        var whole = new ConvGeometry(new MapShape(2, 2, 2), new Window2d(1, 1));
        QuantizedGraph graph = new(input,
        [
            new LayerNode("a", [QuantizedGraph.NetworkInput], new MapShape(2, 5, 5), q, 0, new ConvGeometry(input, new Window2d(3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1))),
            new LayerNode("b", [0], new MapShape(2, 2, 2), q, 1, skip with { Input = new MapShape(2, 5, 5) }),
            new MaxPoolNode("pool", [0], new MapShape(2, 2, 2), q, new Window2d(2, 2, 2, 2)),
            new AddNode("add", [1, 2], new MapShape(2, 2, 2), q, default, default, false),
            new LayerNode("c", [3], new MapShape(3, 2, 2), q, 2, whole),
        ]);
        ImmutableArray<(int Windows, ImmutableArray<LayerInput> Inputs)> links = LayerInputs.Of(graph, 3);
        Assert.Equal([25, 4, 4], links.Select(l => l.Windows));
        Assert.Empty(links[0].Inputs);
        Assert.Equal([new LayerInput(0, false)], links[1].Inputs.ToArray());
        // c reads b through the add (every element), and a through the pool too, which skips a's last row and column.
        Assert.Equal([new LayerInput(0, false), new LayerInput(1, true)], links[2].Inputs.ToArray());
    }

    [Fact]
    public void LeNet_on_isaac_chains_the_first_convolutions_784_windows_then_one_mvm_per_later_layer()
    {
        Architecture isaac = ArchitectureCatalog.Preset("isaac");
        string dir = Path.Combine(TestPaths.Examples, "fashion-mnist");
        Compilation c = Compiler.Compile(ModelLoader.Load(Path.Combine(dir, "lenet.onnx")), isaac,
            Compiler.OptionsFor(isaac, 8, 8), Npy.Read(Path.Combine(dir, "calibration.npy")).Take(64));
        PerformanceReport r = PerformanceFixtures.Evaluate(c);
        // 8-bit inputs through a 1-bit DAC: 8 slices of 100 ns. conv1 (28 x 28 windows, padding 2)
        // runs its crossbar 784 times after a 2-slice fill; then conv2 (100 windows: no fill in its
        // shortest mvm) and three dense layers (one mvm per crossbar, each with its fill).
        Assert.Equal(((784 * 8) + 2 + 8 + (3 * 10)) * 100.0, r.MvmSequenceBoundNs, 6);
        Assert.Equal(416_520, r.Macs); // every window's multiply-adds
        Assert.True(r.LatencyNs >= r.LowerBoundLatencyNs && r.LowerBoundLatencyNs >= r.MvmSequenceBoundNs);
    }
}
