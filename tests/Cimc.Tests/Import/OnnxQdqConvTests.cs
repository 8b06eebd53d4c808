using System.Text.Json;
using Cimc.Architectures;
using Cimc.Data;
using Cimc.Diagnostics;
using Cimc.Evaluation;
using Cimc.Import;
using Cimc.Import.Onnx;
using Cimc.Ir;
using Cimc.Isa;
using Cimc.Placement;
using Cimc.Quantization;
using Cimc.Reference;
using Cimc.Simulation;
using Cimc.Tests.Cli;
using Cimc.Tests.Compile;
using Cimc.Tests.Golden;
using Microsoft.ML.OnnxRuntime;

namespace Cimc.Tests.Import;

/// <summary>
/// A QDQ convolutional network: the shipped LeNet-5 quantized after training and exported from
/// PyTorch with fake-quant ops (tests/fixtures/qdq/make_lenet.py: per-channel int8 weights for
/// conv1 and the linears, per tensor for conv2, uint8 activations after every conv+relu, pool and
/// linear). The import must compute what ONNX Runtime computes, the quantizer must keep the file's
/// integers and scales, the compiled program must equal the golden model, and the accuracy must be
/// PyTorch's own for the fake-quantized network.
/// </summary>
public sealed class OnnxQdqConvTests
{
    private static string File(string name) => Path.Combine(TestPaths.Fixtures, "qdq", name);

    private static string Example(string name) => Path.Combine(TestPaths.Examples, "fashion-mnist", name);

    private static readonly Lazy<(NdArray Images, Labels Labels)> TestSet = new(() =>
        (Idx.Read(Example("t10k-images-idx3-ubyte.gz")).DivideBy(255f), Idx.ReadLabels(Example("t10k-labels-idx1-ubyte.gz"))));

    private static Graph LeNet() => OnnxImporter.Import(File("qdq_lenet.onnx"));

    private static QuantizedModel Quantize(Graph graph, CalibrationSource? calibration = null) =>
        GraphQuantizer.Quantize(graph, calibration, new QuantizationOptions(8, 8)).Model;

    /// <summary>The fake_quant ops in file order.</summary>
    private static FakeQuant[] FakeQuants(Graph graph) => [.. graph.Nodes.Select(n => n.Op).OfType<FakeQuant>()];

    [Fact]
    public void The_import_keeps_the_files_per_channel_and_per_tensor_conv_integers()
    {
        Conv2d[] convs = [.. LeNet().ConvLayers.Select(l => l.Conv)];
        Assert.Equal(2, convs.Length);
        IntegerWeights c1 = convs[0].Quantized!, c2 = convs[1].Quantized!;
        Assert.Equal(6, c1.Scales.Length);
        Assert.Single(c2.Scales);
        foreach ((Conv2d conv, IntegerWeights q) in new[] { (convs[0], c1), (convs[1], c2) })
        {
            // The file's scale is max |w| / 127 per channel (or tensor): integers in [-127, 127] reaching 127,
            // and the float weight is exactly (q - 0) * s as ONNX Runtime dequantizes it.
            Assert.Equal(conv.Weight.Length, q.Values.Length);
            Assert.All(q.ZeroPoints, z => Assert.Equal(0, z));
            int per = conv.PatchSize;
            for (int o = 0; o < conv.OutChannels; o++)
            {
                int[] row = [.. q.Values.Skip(o * per).Take(per)];
                Assert.InRange(row.Min(), -127, 127);
                if (q.PerChannel || o == 0)
                {
                    Assert.Equal(127, q.PerChannel ? row.Max(Math.Abs) : q.Values.Max(Math.Abs));
                }

                for (int i = 0; i < per; i++)
                {
                    Assert.Equal((float)row[i] * q.ScaleOf(o), conv.Weight[(o * per) + i]);
                }
            }
        }

        Assert.Contains("weights=int[-128,127] per-channel", GraphPrinter.Print(LeNet()), StringComparison.Ordinal);
    }

    [Fact]
    public void The_quantized_model_takes_the_files_integers_scales_and_activation_quantization_without_calibration()
    {
        Graph graph = LeNet();
        QuantizedModel q = Quantize(graph);
        (Node, Conv2d Conv)[] convs = [.. graph.ConvLayers];
        IntegerWeights c2 = convs[1].Conv.Quantized!;

        // conv2's im2col row (kh * 5 + kw) * 6 + c holds the file's W[o, c, kh, kw].
        QuantizedLayer conv2 = q.Layers[1];
        Assert.Equal(8, conv2.WeightBits);
        Assert.All(conv2.WeightScales, s => Assert.Equal((double)c2.Scales[0], s));
        for (int o = 0; o < 16; o++)
        {
            for (int c = 0; c < 6; c++)
            {
                for (int k = 0; k < 25; k++)
                {
                    Assert.Equal(c2.Values[(((o * 6) + c) * 25) + k], conv2.Weights[(o * 150) + (k * 6) + c]);
                }
            }
        }

        // The dense after the flatten reads the 16 x 5 x 5 map in HWC order: its integers move with the columns.
        IntegerWeights fc1 = graph.DenseLayers.First().Dense.Quantized!;
        for (int o = 0; o < 120; o += 7)
        {
            for (int c = 0; c < 16; c++)
            {
                for (int p = 0; p < 25; p++)
                {
                    Assert.Equal(fc1.Values[(o * 400) + (c * 25) + p], q.Layers[2].Weights[(o * 400) + (p * 16) + c]);
                }
            }
        }

        Assert.Equal(fc1.Scales.Select(s => (double)s), q.Layers[2].WeightScales);

        // Activations: the input, conv1+relu, pool1, conv2+relu, pool2, fc1+relu, fc2+relu in file order.
        FakeQuant[] fqs = FakeQuants(graph);
        QuantizedGraph g = q.Graph!;
        Assert.Equal(ActivationQuant.FromFile(fqs[0]), g.InputQuant);
        ActivationQuant[] outputs = [.. g.Nodes.Take(g.Nodes.Length - 1).Select(n => n.Output)];
        Assert.Equal(fqs.Skip(1).Take(outputs.Length).Select(ActivationQuant.FromFile), outputs);
        Assert.Contains(q.Notes, n => n.Contains("the file quantizes the network output", StringComparison.Ordinal));

        // Calibration samples change nothing the file fixes.
        QuantizedModel calibrated = Quantize(graph, new SampleCalibration(Npy.Read(Example("calibration.npy")), "calibration.npy"));
        Assert.Equal(q.Layers.Select(l => l.Requant.ToArray()), calibrated.Layers.Select(l => l.Requant.ToArray()));
        Assert.Equal(q.Graph!.Nodes.Select(n => n.Output), calibrated.Graph!.Nodes.Select(n => n.Output));
        Assert.False(GraphQuantizer.NeedsCalibration(graph));
        Assert.True(GraphQuantizer.NeedsCalibration(ModelLoader.Load(Example("lenet.onnx"))));
    }

    [Fact]
    public void The_float_reference_computes_what_onnx_runtime_computes()
    {
        // Every fake_quant rounds: a sum in another order may cross a rounding boundary, and the
        // difference then is one step of that value's scale, carried on. ONNX Runtime without graph
        // optimizations runs the ops as the spec defines them (measured: all 2,000 logits equal).
        NdArray images = TestSet.Value.Images.Take(200);
        float[] ours = FloatExecutor.Run(LeNet(), images).Data;
        float[] theirs = OnnxRuntimeOracle.Run(File("qdq_lenet.onnx"), images, GraphOptimizationLevel.ORT_DISABLE_ALL);
        float step = FakeQuants(LeNet())[^1].Scale;
        int off = ours.Zip(theirs).Count(p => p.First != p.Second);
        Console.WriteLine($"qdq_lenet: {off} of {ours.Length} logits differ from ONNX Runtime's");
        Assert.True(off <= ours.Length / 100, $"{off} of {ours.Length} logits differ");
        Close.Assert(theirs, ours, abs: (2 * step) + 1e-6, rel: 0);
    }

    [Fact]
    [Trait("tier", "slow")]
    public void The_golden_model_on_isaac_crossbars_keeps_pytorch_s_accuracy_of_the_fake_quantized_network()
    {
        using JsonDocument summary = JsonDocument.Parse(System.IO.File.ReadAllText(File("qdq_lenet.json")));
        int count = summary.RootElement.GetProperty("images").GetInt32();
        double pytorch = summary.RootElement.GetProperty("qdq_accuracy").GetDouble();
        NdArray images = TestSet.Value.Images.Take(count);
        int[] labels = [.. TestSet.Value.Labels.Values.Take(count)];
        float[] logits = GoldenGraph.Run(Quantize(LeNet()), Quantization.ConvQuantizationTests.Isaac, images);
        int correct = Enumerable.Range(0, count).Count(r => Accuracy.ArgMax(logits.AsSpan(r * 10, 10)) == labels[r]);
        Console.WriteLine($"qdq_lenet: golden on isaac {correct}/{count}, PyTorch fake-quantized {pytorch:P2}");
        Assert.InRange((double)correct / count, pytorch - 0.02, pytorch + 0.02);
    }

    [Fact]
    public void A_max_pool_whose_output_the_file_quantizes_unlike_its_input_is_refused_in_one_line()
    {
        // The same file with max pools instead of average pools: each pool's input and output now
        // must share one quantization, and the file gives them two.
        Graph graph = LeNet();
        graph = graph with { Nodes = [.. graph.Nodes.Select(n => n.Op is AvgPool2d p ? n with { Op = new MaxPool2d(p.Window) } : n)] };
        var e = Assert.Throws<CimcException>(() => Quantize(graph));
        Assert.Equal("unsupported-for-compile", e.Diagnostic.Code);
        Assert.Contains("one quantization", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_clip_below_the_range_the_file_quantizes_its_output_to_is_refused_in_one_line()
    {
        // conv1's ReLU as Clip(0, 0.5): the file's quantization after it reaches further, and cimc's clip is the top code.
        Graph graph = LeNet();
        Node relu = graph.Nodes.First(n => n.Op is Relu);
        graph = graph with { Nodes = [.. graph.Nodes.Select(n => n == relu ? n with { Op = new Clip(0f, 0.5f) } : n)] };
        var e = Assert.Throws<CimcException>(() => Quantize(graph));
        Assert.Contains("the file quantizes the output of a clip at 0.5", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Conv_integers_cimc_cannot_hold_symmetric_are_requantized_from_their_floats_with_a_note()
    {
        // conv1 as if the file used an int8 zero point of 3 (ONNX Runtime's asymmetric weights): the
        // float weights stay what the file means, the integers are cimc's own, and a note says so.
        Graph graph = LeNet();
        Node conv = graph.Nodes.First(n => n.Op is Conv2d);
        var op = (Conv2d)conv.Op;
        IntegerWeights shifted = op.Quantized! with { ZeroPoints = [.. op.Quantized!.ZeroPoints.Select(_ => 3L)] };
        graph = graph with { Nodes = [.. graph.Nodes.Select(n => n == conv ? n with { Op = op with { Quantized = shifted } } : n)] };
        QuantizedModel q = Quantize(graph);
        Assert.Contains(q.Notes, n => n.Contains("layer /Conv: the file's integer weights have a nonzero zero point; requantized", StringComparison.Ordinal));
        Assert.Equal(Quantize(LeNet()).Layers[1].Weights.ToArray(), q.Layers[1].Weights.ToArray());
        Assert.InRange(q.Layers[0].Weights.Min(), -127, 127);
    }

    /// <summary>
    /// The CLI end to end without calibration data: `cimc compile` then `cimc run` equals the golden
    /// model of the same quantization (ISAAC's 8-bit ADC, saturation included) bit for bit; `cimc
    /// accuracy` measures every image (the file needs no calibration) within two points of PyTorch.
    /// </summary>
    [Fact]
    [Trait("tier", "slow")]
    public void Cimc_run_equals_the_golden_model_and_cimc_accuracy_matches_pytorch()
    {
        using var dir = new TempDir();
        string model = File("qdq_lenet.onnx"), images = Example("sample_images.npy");
        (int exit, _, string error) = CliRunner.Run("compile", model, "--arch", "isaac", "-o", dir.File("out"));
        Assert.True(exit == 0, error);
        Assert.Contains("quantizes every activation (QDQ)", error, StringComparison.Ordinal);
        (exit, _, error) = CliRunner.Run("run", dir.File("out"), "--input", images, "--output", dir.File("y.npy"));
        Assert.True(exit == 0, error);
        Architecture isaac = ArchitectureCatalog.Preset("isaac");
        Compilation c = Compiler.Compile(LeNet(), isaac, Compiler.OptionsFor(isaac, 8, 8), (CalibrationSource?)null);
        var xbar = new CrossbarParams(isaac.Core.Crossbar.Rows, isaac.Core.Crossbar.Cols, isaac.Core.Crossbar.CellBits, isaac.Core.Dac.Bits, isaac.Core.Adc.Bits);
        Assert.Equal(GoldenGraph.Run(c.Quantized!, xbar, Npy.Read(images)), Npy.Read(dir.File("y.npy")).Data);

        using JsonDocument summary = JsonDocument.Parse(System.IO.File.ReadAllText(File("qdq_lenet.json")));
        int count = summary.RootElement.GetProperty("images").GetInt32();
        string output;
        (exit, output, error) = CliRunner.Run("accuracy", model, "--arch", "isaac", "--images", Example("t10k-images-idx3-ubyte.gz"),
            "--labels", Example("t10k-labels-idx1-ubyte.gz"), "--divide-by", "255", "--limit", $"{count}", "--json");
        Assert.True(exit == 0, error);
        using JsonDocument report = JsonDocument.Parse(output);
        Assert.Equal(count, report.RootElement.GetProperty("total").GetInt32());
        Assert.InRange(report.RootElement.GetProperty("accuracy").GetDouble(), summary.RootElement.GetProperty("qdq_accuracy").GetDouble() - 0.02,
            summary.RootElement.GetProperty("qdq_accuracy").GetDouble() + 0.02);
    }

    /// <summary>
    /// The residual fixture (untrained, seeded): a max pool whose output the file quantizes like its
    /// input, a residual add + ReLU, a global average pool, each with the file's quantization; the
    /// float reference equals ONNX Runtime; the program compiled for ISAAC equals the golden model.
    /// </summary>
    [Fact]
    public void The_residual_files_max_pool_add_and_global_pool_take_its_quantization_and_compile_to_the_golden_model()
    {
        Graph graph = OnnxImporter.Import(File("qdq_residual.onnx"));
        NdArray images = TestSet.Value.Images.Take(64);
        Close.Assert(OnnxRuntimeOracle.Run(File("qdq_residual.onnx"), images, GraphOptimizationLevel.ORT_DISABLE_ALL), FloatExecutor.Run(graph, images).Data,
            abs: (2 * FakeQuants(graph)[^1].Scale) + 1e-6, rel: 0);

        // In file order: input, conv1+relu, the max pool (the same), conv2, add+relu, global pool, logits.
        FakeQuant[] fqs = FakeQuants(graph);
        Assert.Equal(7, fqs.Length);
        Assert.Equal(fqs[1], fqs[2]);
        QuantizedModel q = Quantize(graph);
        QuantizedGraph g = q.Graph!;
        MaxPoolNode pool = g.Nodes.OfType<MaxPoolNode>().Single();
        AddNode add = g.Nodes.OfType<AddNode>().Single();
        AvgPoolNode gap = g.Nodes.OfType<AvgPoolNode>().Single();
        Assert.Equal(ActivationQuant.FromFile(fqs[2]), pool.Output);
        Assert.Equal(ActivationQuant.FromFile(fqs[4]), add.Output);
        Assert.True(add.Relu);
        ActivationQuant c2 = ActivationQuant.FromFile(fqs[3]);
        Assert.Equal(c2, q.Layers[1].Output);
        Assert.Equal(FixedPoint.FromReal(c2.Scale / add.Output.Scale), add.ScaleA);
        Assert.Equal(FixedPoint.FromReal(pool.Output.Scale / add.Output.Scale), add.ScaleB);
        Assert.Equal(ActivationQuant.FromFile(fqs[5]), gap.Output);
        Assert.Equal(graph.ConvLayers.First().Conv.Quantized!.Values.Select(v => v), q.Layers[0].Weights.Select(v => v));

        Architecture isaac = ArchitectureCatalog.Preset("isaac");
        (ProgramImage program, WeightImage weights) = GraphBitExactnessTests.Compile(q, isaac, new Lowering(false, true));
        var sim = new FunctionalSimulator(program, weights);
        CrossbarParams xbar = GraphBitExactnessTests.CrossbarsOf(isaac);
        for (int s = 0; s < 4; s++)
        {
            long[] codes = GoldenGraph.QuantizeInput(q, images.Data.AsSpan(s * 784, 784));
            Assert.Equal(GoldenGraph.RunCodes(q, xbar, codes), sim.RunCodes(codes));
        }
    }
}
