using System.Collections.Immutable;
using System.Diagnostics;
using Cimc.Architectures;
using Cimc.Ir;
using Cimc.Isa;
using Cimc.Placement;
using Cimc.Quantization;
using Cimc.Simulation;
using Cimc.Tests.Golden;
using Xunit.Abstractions;

namespace Cimc.Tests.Compile;

/// <summary>
/// The shipped fixtures' shapes (examples/make_fixtures.py: LeNet-5 and the small residual network on
/// 1 x 28 x 28) with random 8-bit integers, compiled for ISAAC's crossbars, tiles and core memories:
/// they fit, and the program equals the golden model of graphs bit for bit (with ISAAC's 8-bit ADC,
/// saturation included). Prints program size and batched simulation rate.
/// </summary>
public sealed class ConvShapesOnIsaacTests(ITestOutputHelper output)
{
    private static readonly ActivationQuant Codes8 = new(1.0 / 255, 0, 255);

    /// <summary>A layer with random 8-bit weights, small biases and multipliers that keep codes spread.</summary>
    private static QuantizedLayer Layer(Random rng, string name, int inF, int outF, bool last, ActivationQuant input)
    {
        double ws = 0.02;
        var layer = new QuantizedLayer(name, inF, outF, [.. Enumerable.Range(0, inF * outF).Select(_ => rng.Next(-127, 128))], 8,
            [.. Enumerable.Repeat(ws, outF)], [.. Enumerable.Range(0, outF).Select(_ => (long)rng.Next(-500, 500))], input,
            last ? ActivationKind.None : ActivationKind.Relu, 0, [], null, null, last);
        if (last)
        {
            return layer;
        }

        // Output scale so that a typical accumulator (~ sqrt(inF) * 127 * 128) lands mid-range.
        double outScale = input.Scale * ws * Math.Sqrt(inF) * 127;
        return layer with { Requant = [.. Enumerable.Repeat(FixedPoint.FromReal(input.Scale * ws / outScale), outF)], Output = Codes8 with { Scale = outScale } };
    }

    private sealed class Net(int seed)
    {
        private readonly Random rng = new(seed);
        private readonly List<QuantizedLayer> layers = [];

        public List<QuantizedNode> Nodes { get; } = [];

        public MapShape ShapeOf(int i) => i < 0 ? new MapShape(1, 28, 28) : Nodes[i].Shape;

        public ActivationQuant QuantOf(int i) => i < 0 ? Codes8 : Nodes[i].Output;

        public int Conv(int x, int k, int stride, int pad, int cout)
        {
            var g = new ConvGeometry(ShapeOf(x), new Window2d(k, k, stride, stride, pad, pad, pad, pad));
            QuantizedLayer l = Layer(rng, $"conv{layers.Count}", g.PatchSize, cout, last: false, QuantOf(x));
            return Add(l, new LayerNode(l.Name, [x], new MapShape(cout, g.OutHeight, g.OutWidth), l.Output!, layers.Count, g));
        }

        public int Dense(int x, int outF, bool last)
        {
            QuantizedLayer l = Layer(rng, $"fc{layers.Count}", ShapeOf(x).Size, outF, last, QuantOf(x));
            return Add(l, new LayerNode(l.Name, [x], MapShape.Vector(outF), l.Output ?? Codes8, layers.Count, null));
        }

        public int Pool(int x, int k, bool max, bool global = false)
        {
            MapShape s = ShapeOf(x);
            var w = global ? new Window2d(s.Height, s.Width) : new Window2d(k, k, k, k);
            var shape = new MapShape(s.Channels, w.OutputHeight(s.Height), w.OutputWidth(s.Width));
            ActivationQuant q = QuantOf(x);
            Nodes.Add(max ? new MaxPoolNode($"pool{Nodes.Count}", [x], shape, q, w)
                : new AvgPoolNode($"pool{Nodes.Count}", [x], shape, q with { Scale = q.Scale * 0.8 }, w, false));
            return Nodes.Count - 1;
        }

        public int Residual(int a, int b)
        {
            ActivationQuant qa = QuantOf(a), qb = QuantOf(b), y = qa with { Scale = (qa.Scale + qb.Scale) * 0.75 };
            Nodes.Add(new AddNode($"add{Nodes.Count}", [a, b], ShapeOf(a), y, FixedPoint.FromReal(qa.Scale / y.Scale), FixedPoint.FromReal(qb.Scale / y.Scale), Relu: true));
            return Nodes.Count - 1;
        }

        public QuantizedModel Finish(string name) =>
            new(name, new QuantizationOptions(8, 8, Granularity.PerChannel, SignedWeightEncoding.Differential), [.. layers], false)
            {
                Graph = new QuantizedGraph(new MapShape(1, 28, 28), [.. Nodes]),
            };

        private int Add(QuantizedLayer l, LayerNode node)
        {
            layers.Add(l);
            Nodes.Add(node);
            return Nodes.Count - 1;
        }
    }

    /// <summary>LeNet-5 as make_fixtures.py trains it: conv 5x5 pad 2 (6), avg pool 2, conv 5x5 (16), avg pool 2, 400-120-84-10.</summary>
    internal static QuantizedModel LeNet()
    {
        var n = new Net(5);
        int x = n.Pool(n.Conv(-1, 5, 1, 2, 6), 2, max: false);
        x = n.Pool(n.Conv(x, 5, 1, 0, 16), 2, max: false);
        x = n.Dense(n.Dense(n.Dense(x, 120, false), 84, false), 10, true);
        return n.Finish("lenet");
    }

    /// <summary>The small residual network: stem conv 3x3 (8), max pool 2, an identity block at 8, a strided block to 16 with a 1x1 shortcut, global average pool, 16-10.</summary>
    internal static QuantizedModel SmallResNet()
    {
        var n = new Net(7);
        int x = n.Pool(n.Conv(-1, 3, 1, 1, 8), 2, max: true);
        x = n.Residual(n.Conv(n.Conv(x, 3, 1, 1, 8), 3, 1, 1, 8), x);
        x = n.Residual(n.Conv(n.Conv(x, 3, 2, 1, 16), 3, 1, 1, 16), n.Conv(x, 1, 2, 0, 16));
        x = n.Dense(n.Pool(x, 0, max: false, global: true), 10, true);
        return n.Finish("resnet");
    }

    /// <summary>
    /// A residual stage too wide for whole maps in a quarter of ISAAC's tile buffer (16 KB: 8,192 words,
    /// and 128 x 8 x 8 = 8,192 words per map): strided 5x5 stem conv to 128 channels, two 3x3 convs, residual add (128 channels: more
    /// than an ISAAC core's memory holds at once, so the add runs in channel groups), global average
    /// pool, dense 10. On ISAAC cores with that buffer the maps are rings of rows where a tile's do not fit whole and the
    /// program equals the golden model; on buffers an eighth as large the refusal names the rings and the buffer that would do.
    /// </summary>
    [Fact]
    [Trait("tier", "slow")]
    public void AWideResidualStageRunsInRingBuffersOnIsaacCores()
    {
        var n = new Net(11);
        int x = n.Conv(-1, 5, 3, 0, 128);
        x = n.Residual(n.Conv(n.Conv(x, 3, 1, 1, 128), 3, 1, 1, 128), x);
        x = n.Dense(n.Pool(x, 0, max: false, global: true), 10, true);
        QuantizedModel model = n.Finish("wide");
        Architecture stock = ArchitectureCatalog.Preset("isaac");
        Architecture isaac = stock with { Tile = stock.Tile with { BufferBytes = stock.Tile.BufferBytes / 4 } };
        Architecture smaller = isaac with { Tile = isaac.Tile with { BufferBytes = isaac.Tile.BufferBytes / 8 } };
        var e = Assert.Throws<Cimc.Diagnostics.CimcException>(() => GraphBitExactnessTests.Compile(model, smaller, new Lowering(false, true)));
        Assert.Contains(" of 8 rows)", e.Message, StringComparison.Ordinal);
        Assert.Contains("a chip whose tile buffers hold", e.Message, StringComparison.Ordinal);
        (ProgramImage program, WeightImage weights) = GraphBitExactnessTests.Compile(model, isaac, new Lowering(false, true));
        var xbar = new CrossbarParams(isaac.Core.Crossbar.Rows, isaac.Core.Crossbar.Cols, isaac.Core.Crossbar.CellBits, isaac.Core.Dac.Bits, isaac.Core.Adc.Bits);
        var sim = new FunctionalSimulator(program, weights);
        var rng = new Random(4);
        const int samples = 1;
        long[] codes = [.. Enumerable.Range(0, samples * 784).Select(_ => (long)rng.Next(256))];
        long[] batched = sim.RunBatchCodes(codes, samples);
        for (int s = 0; s < samples; s++)
        {
            long[] golden = GoldenGraph.RunCodes(model, xbar, codes.AsSpan(s * 784, 784));
            Assert.Equal(golden, sim.RunCodes(codes.AsSpan(s * 784, 784)));
            Assert.Equal(golden, batched.AsSpan(s * 10, 10).ToArray());
        }
    }

    [Theory]
    [Trait("tier", "slow")]
    [InlineData("lenet")]
    [InlineData("resnet")]
    public void FixtureShapesFitIsaacAndMatchTheGoldenModel(string which)
    {
        QuantizedModel model = which == "lenet" ? LeNet() : SmallResNet();
        GoldenGraph.Check(model);
        Architecture isaac = ArchitectureCatalog.Preset("isaac");
        var sw = Stopwatch.StartNew();
        (ProgramImage program, WeightImage weights) = GraphBitExactnessTests.Compile(model, isaac, new Lowering(false, true));
        double compileS = sw.Elapsed.TotalSeconds;
        var xbar = new CrossbarParams(isaac.Core.Crossbar.Rows, isaac.Core.Crossbar.Cols, isaac.Core.Crossbar.CellBits, isaac.Core.Dac.Bits, isaac.Core.Adc.Bits);
        var sim = new FunctionalSimulator(program, weights);
        var rng = new Random(3);
        const int n = 200;
        long[] codes = [.. Enumerable.Range(0, n * 784).Select(_ => (long)rng.Next(256))];
        sw.Restart();
        long[] batched = sim.RunBatchCodes(codes, n);
        double simS = sw.Elapsed.TotalSeconds;
        int outLen = program.Output.Len;
        for (int s = 0; s < 4; s++)
        {
            long[] golden = GoldenGraph.RunCodes(model, xbar, codes.AsSpan(s * 784, 784));
            Assert.Equal(golden, sim.RunCodes(codes.AsSpan(s * 784, 784)));
            Assert.Equal(golden, batched.AsSpan(s * outLen, outLen).ToArray());
        }

        long instructions = program.Cores.Sum(c => (long)c.Code.Length);
        output.WriteLine($"{which}: program.bin {program.ToBytes().Length:N0} bytes, {instructions:N0} instructions on {program.Cores.Length} cores; compile {compileS:F2} s; batched simulation {n / simS:F0} images/s");
    }
}
