using Cimc.Ir;
using Cimc.Quantization;
using CsCheck;

namespace Cimc.Tests.Golden;

/// <summary>The golden model of quantized graphs: hand-worked nodes, and random graphs from <see cref="RandomGraphs"/>.</summary>
public sealed class GoldenGraphTests
{
    [Fact]
    public void Random_graphs_are_valid_and_without_adc_saturation_every_node_equals_the_ideal_integers()
    {
        RandomGraphs.Cases().Sample(c =>
        {
            QuantizedModel model = c.Model;
            GoldenGraph.Check(model);
            for (int s = 0; s < 2; s++)
            {
                long[] u = c.Input(model, s);
                long[][] crossbars = GoldenGraph.Trace(model, c.NonSaturating, u), ideal = GoldenGraph.TraceIdeal(model, u);
                Assert.Equal(ideal.Length, crossbars.Length);
                for (int n = 0; n < ideal.Length; n++)
                {
                    Assert.Equal(ideal[n], crossbars[n]);
                }
            }
        }, iter: 60);
    }

    [Fact]
    public void Packed_crossbars_compute_the_golden_crossbar_accumulators_saturation_adc_steps_row_groups_and_per_position_cuts_included()
    {
        RandomGraphs.Cases(1, 8).Sample(c =>
        {
            var rng = new Random(c.Seed);
            QuantizedModel model = c.Model;
            model = model with
            {
                Layers = [.. model.Layers.Select(l => l with { AdcShift = rng.Next(3) == 0 ? rng.Next(1, 3) : 0, RowsPerRead = rng.Next(3) == 0 ? rng.Next(1, c.Rows + 1) : 0 })],
                Options = model.Options with { ConvMapping = rng.Next(2) == 0 ? ConvMapping.PerPosition : ConvMapping.Im2col },
            };
            CrossbarParams xbar = c.NonSaturating with { AdcBits = rng.Next(1, c.NonSaturating.AdcBits + 1) };
            PackedCrossbars[] packed = [.. model.Layers.Select((l, i) => new PackedCrossbars(l, model.Options.SignedWeights, xbar, GoldenGraph.PositionRows(model, i)))];
            long[] u = c.Input(model, 0);
            long[][] reference = GoldenGraph.Trace(model, xbar, u), fast = GoldenGraph.TracePacked(model, packed, u);
            for (int n = 0; n < reference.Length; n++)
            {
                Assert.Equal(reference[n], fast[n]);
            }
        }, iter: 60);
    }

    [Fact]
    public void Random_graphs_use_every_kind_of_node_and_their_codes_are_not_stuck_at_one_value()
    {
        var kinds = new HashSet<string>();
        int varied = 0, total = 0;
        RandomGraphs.Cases(6, 8).Sample(c =>
        {
            QuantizedModel model = c.Model;
            foreach (QuantizedNode node in model.Graph!.Nodes)
            {
                kinds.Add(node switch
                {
                    LayerNode { Conv: null } => "dense",
                    LayerNode { Conv.Window.DilationH: > 1 } or LayerNode { Conv.Window.DilationW: > 1 } => "dilated conv",
                    LayerNode => "conv",
                    AvgPoolNode p when p.Shape.Pixels == 1 && p.Window.KernelH == InputShape(model.Graph, p).Height && p.Window.KernelW == InputShape(model.Graph, p).Width => "global avg pool",
                    _ => node.GetType().Name,
                });
            }

            long[][] trace = GoldenGraph.TraceIdeal(model, c.Input(model, 0));
            long[] first = trace[0];
            total++;
            varied += first.Distinct().Count() > 1 ? 1 : 0;
        }, iter: 200, threads: 1);

        Assert.Superset(new HashSet<string> { "dense", "conv", "dilated conv", "global avg pool", nameof(MaxPoolNode), nameof(AvgPoolNode), nameof(AddNode), nameof(ConcatNode) }, kinds);
        Assert.True(varied > total / 2, $"only {varied} of {total} graphs gave their first node more than one distinct code");
    }

    /// <summary>Input 1x2x2 codes [[1,2],[3,4]] (z = 1), a 2x2 kernel with padding 1 on the left and top, two output channels.</summary>
    [Fact]
    public void A_convolution_reads_its_window_in_kh_kw_c_order_and_padding_reads_the_zero_point()
    {
        var input = new ActivationQuant(1.0, 1, 15);
        var output = new ActivationQuant(1.0, 0, 1000);
        var window = new Window2d(2, 2, 1, 1, 1, 1, 0, 0);

        // Rows r = kh * 2 + kw: channel 0 weighs the window [a b; c d] as 1, 2, 3, 4; channel 1 as 1, 0, 0, -1.
        var layer = new QuantizedLayer("conv", 4, 2, [1, 2, 3, 4, 1, 0, 0, -1], 4, [1.0, 1.0], [0, 100], input,
            ActivationKind.None, 0f, [new FixedPoint(1, 0), new FixedPoint(1, 0)], null, output, IsLast: false);
        var fc = new QuantizedLayer("fc", 8, 1, [.. Enumerable.Repeat(1, 8)], 4, [1.0], [0], output, ActivationKind.None, 0f, [], null, null, IsLast: true);
        QuantizedModel model = Model([layer, fc], new MapShape(1, 2, 2), input,
            new LayerNode("conv", [QuantizedGraph.NetworkInput], new MapShape(2, 2, 2), output, 0, new ConvGeometry(new MapShape(1, 2, 2), window)),
            new LayerNode("fc", [0], MapShape.Vector(1), input, 1, null));

        // u - z = [[0, 1], [2, 3]]; padding reads z (0 after subtracting it).
        // (0,0): window [p p; p 0] -> ch0 0, ch1 0 - 0 = 0 (+100). (0,1): [p p; 0 1] -> 3*0 + 4*1 = 4; ch1 -1.
        // (1,0): [p 0; p 2] -> 2*0 + 4*2 = 8; ch1 -2. (1,1): [0 1; 2 3] -> 0 + 2 + 6 + 12 = 20; ch1 0 - 3 = -3.
        long[] u = [1, 2, 3, 4];
        long[][] trace = GoldenGraph.TraceIdeal(model, u);
        Assert.Equal([0, 100, 4, 99, 8, 98, 20, 97], trace[0]);
        Assert.Equal([426], trace[1]);
    }

    [Fact]
    public void Pools_adds_and_concat_follow_the_documented_integer_formulas()
    {
        // One channel, 2x3 codes with zero point 2: u - z = [[-2, 0, 4], [6, 1, 3]].
        var x = new ActivationQuant(0.5, 2, 15);
        var y = new ActivationQuant(0.25, 3, 31);
        long[] u = [0, 2, 6, 8, 3, 5];
        var shape = new MapShape(1, 2, 3);
        var identity = new QuantizedLayer("id", 6, 6, [.. Enumerable.Range(0, 36).Select(i => i % 7 == 0 ? 1 : 0)], 2, [.. Enumerable.Repeat(1.0, 6)], [.. new long[6]], x,
            ActivationKind.None, 0f, [], null, null, IsLast: true);

        // Max pool 2x2 stride 1 with padding 1 on the right: windows cover columns {0,1}, {1,2}, {2}: padding never wins.
        // Codes [[0, 2, 6], [8, 3, 5]]: maxima 8, 6, 6.
        var maxWindow = new Window2d(2, 2, 1, 1, 0, 0, 0, 1);
        // Average pool 2x2 stride 2, padding 1 right, counting the padding: windows {0,1} (n = 4) and {2} + 2 padding cells (n = 4).
        var avgWindow = new Window2d(2, 2, 2, 2, 0, 0, 0, 1);
        var avgOut = new ActivationQuant(0.5, 0, 15);
        var addOut = new ActivationQuant(1.0, 4, 15);
        FixedPoint half = Fixed(0.5 / 1.0);
        QuantizedModel model = Model([identity with { InFeatures = 6, Input = addOut }], shape, x,
            new MaxPoolNode("max", [QuantizedGraph.NetworkInput], new MapShape(1, 1, 3), x, maxWindow),
            new AvgPoolNode("avg", [QuantizedGraph.NetworkInput], new MapShape(1, 1, 2), avgOut, avgWindow, CountIncludePad: true),
            new AvgPoolNode("gap", [QuantizedGraph.NetworkInput], new MapShape(1, 1, 1), y, new Window2d(2, 3), CountIncludePad: false),
            new AddNode("add", [QuantizedGraph.NetworkInput, QuantizedGraph.NetworkInput], shape, addOut, half, half, Relu: true),
            new ConcatNode("cat", [0, 0], new MapShape(2, 1, 3), x),
            new LayerNode("id", [3], MapShape.Vector(6), addOut, 0, null));
        long[][] t = GoldenGraph.TraceIdeal(model, u);

        Assert.Equal([8, 6, 6], t[0]);

        // S = -2 + 0 + 6 + 1 = 5 over n = 4: 0.5 * 5 / 4 / 0.5 = 1.25 -> 1; S = 4 + 3 = 7, n = 4: 1.75 -> 2.
        Assert.Equal([1, 2], t[1]);

        // Global: S = 12 over 6 cells, 0.5 * 12 / 6 / 0.25 = 4 -> 4 + 3 = 7.
        Assert.Equal([7], t[2]);

        // Add: 0.5 a' + 0.5 b' = u - z, rounded half up per term, + 4, clamped below at 4 (ReLU):
        // a' = -2 -> -1 - 1 + 4 = 2 -> 4; 0 -> 4; 4 -> 8; 6 -> 10; 1 -> rq(1) = 1 twice -> 6; 3 -> rq(3) = 2 twice -> 8.
        Assert.Equal([4, 4, 8, 10, 6, 8], t[3]);
        Assert.Equal([8, 8, 6, 6, 6, 6], t[4]);
    }

    [Fact]
    public void The_golden_model_refuses_a_concat_whose_inputs_do_not_share_its_quantization()
    {
        var x = new ActivationQuant(0.5, 0, 255);
        var fc = new QuantizedLayer("fc", 8, 1, [.. new int[8]], 2, [1.0], [0], x, ActivationKind.None, 0f, [], null, null, IsLast: true);
        QuantizedModel bad = Model([fc], new MapShape(4, 1, 1), x,
            new AvgPoolNode("avg", [QuantizedGraph.NetworkInput], new MapShape(4, 1, 1), x with { Scale = 0.25 }, new Window2d(1, 1), false),
            new ConcatNode("cat", [QuantizedGraph.NetworkInput, 0], new MapShape(8, 1, 1), x),
            new LayerNode(fc.Name, [1], MapShape.Vector(fc.OutFeatures), x, 0, null));
        InvalidOperationException e = Assert.Throws<InvalidOperationException>(() => GoldenGraph.Check(bad));
        Assert.Contains("node 'cat' has an input whose quantization is not the concat's", e.Message);
    }

    private static MapShape InputShape(QuantizedGraph graph, QuantizedNode node) =>
        node.Inputs[0] == QuantizedGraph.NetworkInput ? graph.InputShape : graph.Nodes[node.Inputs[0]].Shape;

    private static QuantizedModel Model(QuantizedLayer[] layers, MapShape input, ActivationQuant inputQuant, params QuantizedNode[] nodes) =>
        new("hand", new QuantizationOptions(layers[0].WeightBits, 4), [.. layers], false) { Graph = new QuantizedGraph(input, [.. nodes]) { InputQuant = inputQuant } };

    private static FixedPoint Fixed(double mu)
    {
        (long m, int r) = Contract.FixedPoint(mu);
        return new FixedPoint(m, r);
    }
}
