using Cimc.Data;
using Cimc.Diagnostics;
using Cimc.Evaluation;
using Cimc.Import.Onnx;
using Cimc.Import.Onnx.Proto;
using Cimc.Ir;
using Cimc.Quantization;
using Cimc.Reference;
using Cimc.Tests.Golden;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using static Cimc.Tests.Import.OnnxModels;
using DataType = Cimc.Import.Onnx.Proto.TensorProto.Types.DataType;

namespace Cimc.Tests.Import;

/// <summary>
/// QDQ models (QuantizeLinear / DequantizeLinear): imported into the float graph they must compute
/// what ONNX Runtime computes with the ops as the spec defines them (no graph optimization), and
/// the quantizer must keep the scales, zero points and integer weights the file carries.
/// Fixtures: tests/fixtures/qdq/make.py.
/// </summary>
public sealed class OnnxQdqTests
{
    private const GraphOptimizationLevel AsSpecified = GraphOptimizationLevel.ORT_DISABLE_ALL;

    private static string Qdq(string name) => Path.Combine(TestPaths.Fixtures, "qdq", name);

    private static NdArray Digits => Npy.Read(Qdq("qdq_input.npy"));

    public static TheoryData<string> Fixtures() => ["qdq_per_channel.onnx", "qdq_per_tensor.onnx", "qdq_int8_act.onnx", "qdq_torch_qat.onnx"];

    private static TensorProto Ints(string name, DataType type, long[] dims, long[] data)
    {
        var t = new TensorProto { Name = name, DataType = (int)type };
        t.Dims.AddRange(dims);
        if (type == DataType.Int64)
        {
            t.Int64Data.AddRange(data);
        }
        else
        {
            t.Int32Data.AddRange(data.Select(v => (int)v));
        }

        return t;
    }

    private static TensorProto Scalar(string name, DataType type, long value) => Ints(name, type, [], [value]);

    private static (Graph Graph, float[] Ours, float[] Theirs) Run(ModelProto model, NdArray input)
    {
        string path = Save(model);
        try
        {
            Graph graph = OnnxImporter.Import(path);
            return (graph, FloatExecutor.Run(graph, input).Data, OnnxRuntimeOracle.Run(path, input, AsSpecified));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static CimcException Refused(ModelProto model) =>
        Assert.Throws<CimcException>(() => OnnxImporter.Import(model.ToByteArray(), "model.onnx"));

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void A_qdq_fixture_computes_what_onnx_runtime_computes(string file)
    {
        Graph graph = OnnxImporter.Import(Qdq(file));
        float[] ours = FloatExecutor.Run(graph, Digits).Data;
        float[] theirs = OnnxRuntimeOracle.Run(Qdq(file), Digits, AsSpecified);
        Close.Assert(theirs, ours, abs: 1e-5, rel: 0);

        // With its default optimizations ONNX Runtime fuses QDQ groups into integer kernels; on these
        // models (CPU) that gives the same outputs as well.
        Close.Assert(OnnxRuntimeOracle.Run(Qdq(file), Digits), ours, abs: 1e-5, rel: 0);
        Assert.Contains(graph.Nodes, n => n.Op is FakeQuant);
        Assert.All(graph.DenseLayers, l => Assert.NotNull(l.Dense.Quantized));
    }

    [Theory]
    [InlineData(DataType.Uint8, 0L, 10L)]
    [InlineData(DataType.Uint8, 128L, 13L)]
    [InlineData(DataType.Int8, 0L, 13L)]
    [InlineData(DataType.Int8, -128L, 19L)]
    [InlineData(DataType.Int8, 5L, 21L)]
    public void Quantize_dequantize_rounds_half_to_even_and_saturates_bit_for_bit_as_onnx_runtime(DataType type, long zeroPoint, long opset)
    {
        const float s = 0.1f;

        // Ties of x / s in float32, values either side, saturation at both ends, and a NaN.
        float[] x = [.. new[] { 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 12.5f, 13.5f }.Select(v => v * s),
            0.25f, 0.35f, 0.45f, -0.05f, 0.149999f, 0.150001f, 1e6f, -1e6f, 25.5f, 25.6f, -12.8f, -12.9f, float.NaN, 3.3333333f];
        ModelProto model = Model(
            [Node("QuantizeLinear", ["x", "s", "z"], ["q"], "q"), Node("DequantizeLinear", ["q", "s", "z"], ["y"], "dq")],
            [Floats("s", [], [s]), Scalar("z", type, zeroPoint)],
            [-1, x.Length], opset: opset);
        (Graph graph, float[] ours, float[] theirs) = Run(model, new NdArray([1, x.Length], x));
        Assert.Equal(["fake_quant"], graph.Nodes.Select(n => n.Op.Mnemonic));
        Assert.Equal(theirs.Select(BitConverter.SingleToInt32Bits), ours.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void Per_axis_int8_weights_dequantize_along_the_output_axis_for_gemm_and_matmul()
    {
        // Gemm with B [in, out] (transB=0) and MatMul: per-channel scales along axis 1 are per output.
        long[] q = [.. Random(24, 9, 127f).Select(v => (long)MathF.Round(v))];
        ModelProto model = Model(
            [
                Node("DequantizeLinear", ["w1q", "w1s", "w1z"], ["w1"], "dq_w1", Int("axis", 1)),
                Node("Gemm", ["x", "w1", "b1"], ["h"], "fc1"),
                Node("DequantizeLinear", ["w2q", "w2s"], ["w2"], "dq_w2", Int("axis", 1)),
                Node("MatMul", ["h", "w2"], ["y"], "fc2"),
            ],
            [
                Ints("w1q", DataType.Int8, [4, 6], q), Floats("w1s", [6], [0.01f, 0.02f, 0.03f, 0.04f, 0.05f, 0.06f]),
                Ints("w1z", DataType.Int8, [6], [0, 0, 0, 0, 0, 0]), Floats("b1", [6], Random(6, 2)),
                Ints("w2q", DataType.Int8, [6, 4], q), Floats("w2s", [4], [0.5f, 0.25f, 0.125f, 1f]),
            ],
            [-1, 4]);
        (Graph graph, float[] ours, float[] theirs) = Run(model, new NdArray([3, 4], Random(12, 4, 3f)));
        Close.Assert(theirs, ours, abs: 1e-6, rel: 1e-6);
        IntegerWeights fc1 = graph.DenseLayers.First().Dense.Quantized!;
        Assert.True(fc1.PerChannel);
        Assert.Equal(0.03f, fc1.ScaleOf(2));
        Assert.Equal((int)q[(1 * 6) + 2], fc1.Values[(2 * 4) + 1]);
    }

    [Fact]
    public void The_text_form_shows_fake_quant_and_integer_weights()
    {
        string text = GraphPrinter.Print(OnnxImporter.Import(Qdq("qdq_per_channel.onnx")));
        Assert.Contains("fake_quant[scale=", text);
        Assert.Contains("range=[0,255]]", text);
        Assert.Contains("weights=int[-128,127] per-channel", text);
    }

    /// <summary>The scale, zero point and integers of a DequantizeLinear in the file, read straight from the protobuf.</summary>
    private static (float[] Scales, long[] ZeroPoints, long[] Values) FileDequantize(ModelProto model, NodeProto dq)
    {
        Dictionary<string, TensorProto> inits = model.Graph.Initializer.ToDictionary(t => t.Name);
        TensorProto s = inits[dq.Input[1]], z = inits[dq.Input[2]];
        float[] scales = [.. Enumerable.Range(0, s.RawData.Length / 4).Select(i => BitConverter.ToSingle(s.RawData.Span[(i * 4)..]))];
        long[] Bytes(TensorProto t) => t.DataType == (int)DataType.Int8 ? [.. t.RawData.Select(b => (long)(sbyte)b)] : [.. t.RawData.Select(b => (long)b)];
        return (scales, Bytes(z), inits.TryGetValue(dq.Input[0], out TensorProto? v) ? Bytes(v) : []);
    }

    [Fact]
    public void The_quantized_model_keeps_the_files_activation_scales_zero_points_and_int8_weights()
    {
        ModelProto file = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Qdq("qdq_per_channel.onnx")));
        NodeProto[] dqs = [.. file.Graph.Node.Where(n => n.OpType == "DequantizeLinear")];
        var input = FileDequantize(file, dqs.First(n => file.Graph.Node.Any(q => q.OpType == "QuantizeLinear" && q.Input[0] == "input" && q.Output[0] == n.Input[0])));
        var weight = FileDequantize(file, dqs.First(n => n.Input[0].StartsWith("fc1_weight", StringComparison.Ordinal)));

        LayerChain chain = LayerChain.FromGraph(OnnxImporter.Import(Qdq("qdq_per_channel.onnx")));
        QuantizedModel q = Quantizer.Quantize(chain, null, new QuantizationOptions());
        Assert.Equal(new ActivationQuant(input.Scales[0], input.ZeroPoints[0], 255), q.Input);
        QuantizedLayer fc1 = q.Layers[0];
        Assert.Equal(weight.Values.Select(v => (int)v), fc1.Weights);
        Assert.Equal(weight.Scales.Select(v => (double)v), fc1.WeightScales);
        Assert.Equal(8, fc1.WeightBits);
        Assert.Equal(chain.Layers[0].OutputQuant!.Scale, fc1.Output!.Scale);
        Assert.Equal(q.Layers[1].Input, fc1.Output);

        // The int32 bias of the file comes back exactly: b / (s_x s_w) with the file's scales.
        NodeProto biasDq = dqs.First(n => n.Input[0].StartsWith("fc1_bias", StringComparison.Ordinal));
        TensorProto bias = file.Graph.Initializer.Single(t => t.Name == biasDq.Input[0]);
        Assert.Equal(Enumerable.Range(0, 32).Select(i => (long)BitConverter.ToInt32(bias.RawData.Span[(i * 4)..])), fc1.Bias);
    }

    [Fact]
    public void Int8_activations_become_unsigned_codes_with_the_zero_point_shifted_by_128()
    {
        LayerChain chain = LayerChain.FromGraph(OnnxImporter.Import(Qdq("qdq_int8_act.onnx")));
        FakeQuant input = chain.Layers[0].InputQuant!, hidden = chain.Layers[0].OutputQuant!;
        Assert.Equal((-128L, 127L), (input.QMin, input.QMax));
        Assert.NotNull(chain.Layers[0].PreActivationQuant);
        QuantizedModel q = Quantizer.Quantize(chain, null, new QuantizationOptions());
        Assert.Equal(new ActivationQuant(input.Scale, input.ZeroPoint + 128, 255), q.Input);
        Assert.Equal(new ActivationQuant(hidden.Scale, hidden.ZeroPoint + 128, 255), q.Layers[0].Output);
    }

    [Theory]
    [InlineData("qdq_per_channel.onnx")]
    [InlineData("qdq_per_tensor.onnx")]
    [InlineData("qdq_int8_act.onnx")]
    [InlineData("qdq_torch_qat.onnx")]
    public void The_quantized_network_with_the_files_quantization_agrees_with_onnx_runtime(string file)
    {
        QuantizedModel q = Quantizer.Quantize(LayerChain.FromGraph(OnnxImporter.Import(Qdq(file))), Digits, new QuantizationOptions());
        var xbar = new CrossbarParams(128, 128, 8, 8, CrossbarParams.NonSaturatingAdcBits(128, 8, 8));
        float[] ours = GoldenModel.Run(q, xbar, Digits);
        float[] theirs = OnnxRuntimeOracle.Run(Qdq(file), Digits, AsSpecified);

        // ONNX Runtime quantizes the logits too; cimc returns the accumulator: within one output step, mostly.
        int rows = Digits.Rows, same = 0;
        double meanError = ours.Zip(theirs, (a, b) => Math.Abs(a - b)).Average();
        for (int r = 0; r < rows; r++)
        {
            same += Accuracy.ArgMax(ours.AsSpan(r * 10, 10)) == Accuracy.ArgMax(theirs.AsSpan(r * 10, 10)) ? 1 : 0;
        }

        Assert.True(same >= rows - 2, $"{same}/{rows} predictions agree");
        Assert.True(meanError < 0.2, $"mean |difference| {meanError}");
    }

    [Fact]
    public void Every_activation_quantized_in_the_file_means_no_calibration_set_is_needed()
    {
        LayerChain qdq = LayerChain.FromGraph(OnnxImporter.Import(Qdq("qdq_per_tensor.onnx")));
        Assert.False(Quantizer.NeedsCalibration(qdq));
        Assert.Equal(q(qdq, Digits).Layers.Select(l => l.Requant), q(qdq, null).Layers.Select(l => l.Requant));

        LayerChain plain = qdq with { Layers = [.. qdq.Layers.Select(l => l with { OutputQuant = null })] };
        Assert.True(Quantizer.NeedsCalibration(plain));
        Assert.Equal("no-calibration", Assert.Throws<CimcException>(() => q(plain, null)).Diagnostic.Code);

        static QuantizedModel q(LayerChain chain, NdArray? calibration) => Quantizer.Quantize(chain, calibration, new QuantizationOptions());
    }

    [Fact]
    public void Weights_that_are_not_symmetric_int8_are_requantized_with_a_note()
    {
        // The fbgemm QAT qconfig quantizes weights to [-128, 127]; cimc's symmetric weights stop at -127.
        QuantizedModel q = Quantizer.Quantize(LayerChain.FromGraph(OnnxImporter.Import(Qdq("qdq_torch_qat.onnx"))), Digits, new QuantizationOptions());
        Assert.Contains(q.Notes, n => n.Contains("requantized", StringComparison.Ordinal));
        Assert.Contains("note: ", QuantizedPrinter.Print(q));
        Assert.All(q.Layers, l => Assert.True(l.Weights.Min() >= -127));

        // PyTorch narrows the uint8 activations to [0, 127] with a Clip between QuantizeLinear and DequantizeLinear.
        Assert.Equal(127, q.Input.Max);
    }

    [Fact]
    public void Integer_kernels_such_as_qlinear_matmul_are_refused_with_a_pointer_to_the_qdq_format()
    {
        ModelProto model = Model(
            [Node("QLinearMatMul", ["x", "s", "z", "w", "s", "z", "s", "z"], ["y"], "qmm")],
            [Floats("s", [], [0.1f]), Scalar("z", DataType.Uint8, 0), Ints("w", DataType.Uint8, [4, 2], [1, 2, 3, 4, 5, 6, 7, 8])],
            [-1, 4]);
        CimcException e = Refused(model);
        Assert.Equal("onnx-integer-op", e.Diagnostic.Code);
        Assert.Contains("QDQ", e.Message);
        Assert.Contains("'qmm'", e.Message);

        var qgemm = Node("QGemm", ["x"], ["y"], "qg");
        qgemm.Domain = "com.microsoft";
        Assert.Equal("onnx-integer-op", Refused(Model([qgemm], [], [-1, 4])).Diagnostic.Code);
    }

    [Fact]
    public void A_dequantize_with_another_scale_than_its_quantize_is_refused()
    {
        ModelProto model = Model(
            [Node("QuantizeLinear", ["x", "s", "z"], ["q"], "q"), Node("DequantizeLinear", ["q", "s2", "z"], ["y"], "dq")],
            [Floats("s", [], [0.1f]), Floats("s2", [], [0.2f]), Scalar("z", DataType.Uint8, 0)],
            [-1, 4]);
        CimcException e = Refused(model);
        Assert.Equal("onnx-dequantize-mismatch", e.Diagnostic.Code);
        Assert.Contains("'dq'", e.Message);
    }

    [Fact]
    public void Per_axis_quantization_of_an_activation_and_a_quantized_graph_output_are_refused()
    {
        ModelProto perAxis = Model(
            [Node("QuantizeLinear", ["x", "s", "z"], ["q"], "q", Int("axis", 1)), Node("DequantizeLinear", ["q", "s", "z"], ["y"], "dq", Int("axis", 1))],
            [Floats("s", [2], [0.1f, 0.2f]), Ints("z", DataType.Uint8, [2], [0, 0])],
            [-1, 2]);
        Assert.Equal("onnx-quantize-per-axis", Refused(perAxis).Diagnostic.Code);

        ModelProto integerOutput = Model([Node("QuantizeLinear", ["x", "s"], ["y"], "q")], [Floats("s", [], [0.1f])], [-1, 2]);
        Assert.Equal("onnx-quantized-output", Refused(integerOutput).Diagnostic.Code);
    }

    [Fact]
    public void Float8_quantization_is_refused_by_its_type()
    {
        ModelProto model = Model(
            [Node("QuantizeLinear", ["x", "s", "z"], ["q"], "q"), Node("DequantizeLinear", ["q", "s", "z"], ["y"], "dq")],
            [Floats("s", [], [0.1f]), new TensorProto { Name = "z", DataType = 17, RawData = ByteString.CopyFrom(0) }],
            [-1, 2], opset: 19);
        Assert.Equal("onnx-data-type", Refused(model).Diagnostic.Code);
    }
}
