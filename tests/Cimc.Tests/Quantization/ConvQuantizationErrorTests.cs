using System.Collections.Immutable;
using Cimc.Data;
using Cimc.Diagnostics;
using Cimc.Import;
using Cimc.Ir;
using Cimc.Quantization;
using Cimc.Tests.Golden;

namespace Cimc.Tests.Quantization;

/// <summary>
/// The quantized graph's ideal integers (no crossbars, no ADC) against the float reference, node by
/// node, within a worst-case bound propagated from the quantized model itself; the flatten
/// permutation; and the one-line refusals.
/// </summary>
public sealed class ConvQuantizationErrorTests
{
    private static string Example(string name) => Path.Combine(TestPaths.Examples, "fashion-mnist", name);

    /// <summary>
    /// On calibration samples (so no value leaves its calibrated range and no clamp adds error) every
    /// node's dequantized codes differ from the float tensor by at most a worst-case bound from the
    /// error E_in its inputs actually have (measured, so worst cases do not compound over the network):
    /// a layer A * E_in + B * max|x| + max bias error + requantization
    /// rounding s_y / 2 (A = max_o sum_i |w_q s_w|, B = max_o sum_i |w - w_q s_w| on the im2col
    /// matrix), ReLU being 1-Lipschitz; a max pool E_in; an average pool E_in + s_y / 2; an add
    /// E_a + E_b + s_y (each requantized term rounds); a concat the largest of its inputs'. Fixed-point
    /// multipliers add a relative 2^-30. At 16/16 bits the bound is tight enough that a wrong window
    /// order, permutation or zero point would break it by orders of magnitude.
    /// </summary>
    [Theory]
    [InlineData("lenet.onnx")]
    [InlineData("resnet.onnx")]
    public void The_ideal_integers_of_every_node_are_within_the_propagated_quantization_error_of_the_float_tensors(string file)
    {
        Graph graph = ModelLoader.Load(Example(file));
        NdArray calibration = Npy.Read(Example("calibration.npy")).Take(64);
        var options = new QuantizationOptions(16, 16, Granularity.PerChannel, SignedWeightEncoding.Differential);
        QuantizedModel model = GraphQuantizer.Quantize(graph, new SampleCalibration(calibration, "samples"), options).Model;
        double finalBound = CheckNodes(graph, model, calibration.Take(4));

        // Not vacuous: the logits span several units, the bound a small fraction of one.
        Assert.True(finalBound < 0.02, $"the bound {finalBound} is too loose to test anything");
    }

    [Fact]
    public void A_dense_layer_after_a_multi_channel_map_reads_it_in_hwc_order_with_its_columns_permuted()
    {
        var rng = new Random(5);
        float[] Random(int n, double gain) => [.. Enumerable.Range(0, n).Select(_ => (float)(gain * ((2 * rng.NextDouble()) - 1)))];
        var b = new GraphBuilder("flat", TensorType.Float(-1, 2, 4, 3));
        b.Add("conv", new Conv2d(new FloatTensor([3, 2, 3, 3], Random(54, 0.5)), FloatTensor.Vector(Random(3, 0.1)), new Window2d(3, 3, 1, 1, 1, 1, 1, 1)));
        b.Add("relu", new Relu());
        b.Add("flatten", new Flatten(1));
        var dense = new Dense(FloatTensor.Matrix(5, 36, Random(180, 0.4)), FloatTensor.Vector(Random(5, 0.1)));
        b.Add("fc", dense);
        Graph graph = b.Build();
        NdArray samples = new([16, 24], Random(16 * 24, 1.0));
        QuantizedModel model = GraphQuantizer.Quantize(graph, new SampleCalibration(samples, "samples"), new QuantizationOptions(16, 16)).Model;

        // Map 3 x 4 x 3 (C x H x W): the file's column c * 12 + p is the chip's p * 3 + c.
        QuantizedLayer fc = model.Layers[1];
        for (int o = 0; o < 5; o++)
        {
            for (int c = 0; c < 3; c++)
            {
                for (int p = 0; p < 12; p++)
                {
                    long expected = (long)Math.Round(dense.Weight[(o * 36) + (c * 12) + p] / fc.WeightScales[o], MidpointRounding.AwayFromZero);
                    Assert.Equal(expected, fc.Weights[(o * 36) + (p * 3) + c]);
                }
            }
        }

        CheckNodes(graph, model, samples.Take(4));
    }

    public static TheoryData<string, string> Refusals() => new()
    {
        { "relu6-concat", "its clip at 6 must share one quantization with" },
        { "sigmoid-after-pool", "sigmoid after the maxpool 'pool' cannot be compiled" },
        { "ends-in-pool", "ends in a dense layer" },
        { "concat-height", "concat on axis 2" },
        { "shared-pre-activation", "that is also read elsewhere" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Graphs_the_quantizer_cannot_hold_are_refused_in_one_line(string which, string message)
    {
        var rng = new Random(9);
        float[] Random(int n, double gain) => [.. Enumerable.Range(0, n).Select(_ => (float)(gain * ((2 * rng.NextDouble()) - 1)))];
        Conv2d Conv(int cin, int cout, double gain) => new(new FloatTensor([cout, cin, 1, 1], Random(cout * cin, gain)), null, new Window2d(1, 1));
        Node N(string name, Op op, params string[] inputs) => new(name, op, [.. inputs], [name]);
        Node[] nodes = which switch
        {
            "relu6-concat" =>
            [
                N("a", Conv(2, 2, 1.0), "x"), N("clip", new Clip(0, 6), "a"),
                N("b", Conv(2, 2, 40.0), "x"), N("cat", new Concat(1), "clip", "b"),
                N("gap", new GlobalAvgPool(), "cat"), N("flat", new Flatten(1), "gap"), N("fc", new Dense(FloatTensor.Matrix(2, 4, Random(8, 1)), null), "flat"),
            ],
            "sigmoid-after-pool" =>
            [
                N("a", Conv(2, 2, 1.0), "x"), N("pool", new MaxPool2d(new Window2d(2, 2, 2, 2)), "a"), N("sig", new Sigmoid(), "pool"),
                N("flat", new Flatten(1), "sig"), N("fc", new Dense(FloatTensor.Matrix(2, 8, Random(16, 1)), null), "flat"),
            ],
            "ends-in-pool" => [N("a", Conv(2, 2, 1.0), "x"), N("gap", new GlobalAvgPool(), "a")],
            "concat-height" =>
            [
                N("a", Conv(2, 2, 1.0), "x"), N("cat", new Concat(2), "a", "x"),
                N("flat", new Flatten(1), "cat"), N("fc", new Dense(FloatTensor.Matrix(2, 64, Random(128, 1)), null), "flat"),
            ],
            _ =>
            [
                N("a", Conv(2, 2, 1.0), "x"), N("relu", new Relu(), "a"), N("sum", new Add(), "relu", "a"),
                N("flat", new Flatten(1), "sum"), N("fc", new Dense(FloatTensor.Matrix(2, 32, Random(64, 1)), null), "flat"),
            ],
        };
        Graph graph = new("refused", [new ValueInfo("x", TensorType.Float(-1, 2, 4, 4))], [.. nodes], [new ValueInfo(nodes[^1].Output, TensorType.Float(-1, 2))]);
        graph = graph with { Outputs = [new ValueInfo(nodes[^1].Output, ShapeInference.Infer(graph)[nodes[^1].Output])] };
        NdArray samples = new([8, 32], Random(8 * 32, 1.0));
        CimcException e = Assert.Throws<CimcException>(() => GraphQuantizer.Quantize(graph, new SampleCalibration(samples, "samples"), new QuantizationOptions()));
        string text = e.Diagnostic.ToString();
        Assert.Contains(message, text);
        Assert.DoesNotContain('\n', text);
    }

    [Fact]
    public void A_convolutional_network_without_calibration_samples_is_refused_in_one_line()
    {
        Graph graph = ModelLoader.Load(Example("lenet.onnx"));
        CimcException e = Assert.Throws<CimcException>(() => GraphQuantizer.Quantize(graph, InputRangeCalibration.Default, new QuantizationOptions()));
        Assert.Equal("no-calibration", e.Diagnostic.Code);
    }

    [Fact]
    public void A_chain_of_dense_layers_keeps_its_graph_free_quantized_form()
    {
        Graph graph = ModelLoader.Load(Example("mlp.onnx"));
        Assert.False(LayerGraph.IsConvolutional(graph));
        Compilation c = Compiler.Compile(graph, global::Cimc.Architectures.ArchitectureCatalog.Preset("isaac"), new QuantizationOptions(), Npy.Read(Example("calibration.npy")).Take(32), CompileStage.Quantized);
        Assert.Null(c.Quantized!.Graph);
    }

    /// <summary>Runs the golden model's ideal integers and the float reference on each sample and checks every node against its bound; returns the last node's bound.</summary>
    private static double CheckNodes(Graph graph, QuantizedModel model, NdArray samples)
    {
        MapShape shape = model.Graph!.InputShape;
        Graph concrete = WithShape(graph, shape);
        LayerGraph lg = LayerGraph.FromGraph(concrete);
        ImmutableArray<QuantizedNode> nodes = model.Graph.Nodes;
        var wanted = new HashSet<string>(lg.Steps.Select(st => st.Value).Append(lg.InputValue), StringComparer.Ordinal);
        double last = 0;
        for (int r = 0; r < samples.Rows; r++)
        {
            NdArray one = new([1, shape.Channels, shape.Height, shape.Width], samples.Row(r).ToArray());
            IReadOnlyDictionary<string, CapturedValue> floats = GraphCalibration.Capture(concrete, one, wanted);
            long[] inputCodes = GoldenGraph.QuantizeInput(model, one.Row(0));
            long[][] trace = GoldenGraph.TraceIdeal(model, inputCodes);
            ActivationQuant inputQuant = GoldenGraph.InputQuant(model);
            var bound = new double[nodes.Length];
            var measured = new double[nodes.Length];
            double inputError = Enumerable.Range(0, one.Data.Length).Max(k =>
                Math.Abs(inputQuant.Dequantize(inputCodes[((k % shape.Pixels) * shape.Channels) + (k / shape.Pixels)]) - one.Data[k]));
            double MaxAbs(string value) => floats[value].Values.Max(v => Math.Abs((double)v));
            double BoundOf(int i) => i == QuantizedGraph.NetworkInput ? inputError : measured[i];
            string ValueOf(int i) => i == QuantizedGraph.NetworkInput ? lg.InputValue : lg.Steps[i].Value;
            for (int n = 0; n < nodes.Length; n++)
            {
                QuantizedNode node = nodes[n];
                double e = BoundOf(node.Inputs[0]);
                bound[n] = node switch
                {
                    LayerNode l => LayerBound(model.Layers[l.Layer], ((LayerStep)lg.Steps[n]).Layer.Dense, e, MaxAbs(ValueOf(node.Inputs[0]))),
                    MaxPoolNode => e,
                    AvgPoolNode => e + (node.Output.Scale / 2) + (MaxAbs(ValueOf(node.Inputs[0])) * Math.ScaleB(1, -29)),
                    AddNode => e + BoundOf(node.Inputs[1]) + node.Output.Scale + ((MaxAbs(ValueOf(node.Inputs[0])) + MaxAbs(ValueOf(node.Inputs[1]))) * Math.ScaleB(1, -29)),
                    _ => node.Inputs.Max(BoundOf),
                };

                float[] expected = floats[lg.Steps[n].Value].Values;
                float[] actual = n == nodes.Length - 1 ? GoldenGraph.Dequantize(model, trace[n]) : Dequantize(node, trace[n]);
                for (int k = 0; k < expected.Length; k++)
                {
                    measured[n] = Math.Max(measured[n], Math.Abs(actual[k] - expected[k]));
                    double slack = 1e-6 * (1 + Math.Abs(expected[k]));
                    Assert.True(Math.Abs(actual[k] - expected[k]) <= bound[n] + slack,
                        $"node '{node.Name}' element {k}: quantized {actual[k]}, float {expected[k]}, bound {bound[n]}");
                }
            }

            last = Math.Max(last, bound[^1]);
        }

        return last;
    }

    private static Graph WithShape(Graph graph, MapShape input) =>
        graph with { Inputs = [graph.Inputs[0] with { Type = TensorType.Float(-1, input.Channels, input.Height, input.Width) }] };

    /// <summary>A node's codes (HWC) as floats in the float reference's CHW order.</summary>
    private static float[] Dequantize(QuantizedNode node, long[] codes)
    {
        MapShape s = node.Shape;
        var result = new float[s.Size];
        for (int c = 0; c < s.Channels; c++)
        {
            for (int p = 0; p < s.Pixels; p++)
            {
                result[(c * s.Pixels) + p] = (float)node.Output.Dequantize(codes[(p * s.Channels) + c]);
            }
        }

        return result;
    }

    /// <summary>A * E_in + B * max|x| + bias error + output rounding (none for accumulators) + multiplier error.</summary>
    private static double LayerBound(QuantizedLayer layer, Dense floatMatrix, double inputBound, double inputMax)
    {
        double a = 0, b = 0, biasError = 0;
        for (int o = 0; o < layer.OutFeatures; o++)
        {
            double rowA = 0, rowB = 0;
            double sw = layer.WeightScales[o];
            for (int i = 0; i < layer.InFeatures; i++)
            {
                int w = layer.Weights[(o * layer.InFeatures) + i];
                rowA += Math.Abs(w * sw);
                rowB += Math.Abs(floatMatrix.Weight[(o * layer.InFeatures) + i] - (w * sw));
            }

            a = Math.Max(a, rowA);
            b = Math.Max(b, rowB);
            biasError = Math.Max(biasError, layer.Input.Scale * sw / 2);
        }

        double pre = (a * (inputMax + inputBound)) + (floatMatrix.Bias is { } bias ? bias.Span.ToArray().Max(v => Math.Abs((double)v)) : 0);
        double rounding = layer.OutputsAccumulator ? 0 : (layer.Output!.Scale / 2) + (pre * Math.ScaleB(1, -29));
        return (a * inputBound) + (b * inputMax) + biasError + rounding;
    }
}
