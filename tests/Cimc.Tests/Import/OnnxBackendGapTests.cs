using Cimc.Data;
using Cimc.Diagnostics;
using Cimc.Import.Onnx;
using Cimc.Import.Onnx.Proto;
using Cimc.Ir;
using Cimc.Reference;
using Google.Protobuf;
using static Cimc.Tests.Import.OnnxModels;
using DataType = Cimc.Import.Onnx.Proto.TensorProto.Types.DataType;

namespace Cimc.Tests.Import;

/// <summary>
/// The constructs the official ONNX backend node tests showed cimc refusing although they are MLPs
/// with constant weights (issue 12): each is imported, run by the float reference and compared with
/// ONNX Runtime on the same file.
/// </summary>
public sealed class OnnxBackendGapTests
{
    private static Graph ImportAndCompare(ModelProto model, int[] inputShape, int seed = 1, float scale = 2f)
    {
        string path = Save(model);
        try
        {
            Graph graph = OnnxImporter.Import(path);
            var input = new NdArray([.. inputShape], Random(inputShape.Aggregate(1, (a, b) => a * b), seed, scale));
            float[] ours = FloatExecutor.Run(graph, input).Data;
            float[] theirs = OnnxRuntimeOracle.Run(path, input);
            Close.Assert(theirs, ours);
            return graph;
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static ModelProto Mlp(NodeProto activation, long opset, TensorProto[]? extra = null, string last = "Gemm") => Model(
        [
            Node("Gemm", ["x", "w1", "b1"], ["h"], "fc1", Int("transB", 1)),
            activation,
            Node(last, last == "Gemm" ? ["a", "w2", "b2"] : ["a"], ["y"], "out", last == "Gemm" ? [Int("transB", 1)] : [Int("axis", -1)]),
        ],
        [
            Floats("w1", [6, 4], Random(24, 1), raw: true), Floats("b1", [6], Random(6, 2), raw: true),
            Floats("w2", [3, 6], Random(18, 3), raw: true), Floats("b2", [3], Random(3, 4), raw: true),
            .. extra ?? [],
        ],
        [-1, 4], opset: opset);

    [Theory]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(22)]
    [InlineData(23)]
    [InlineData(24)]
    [InlineData(25)]
    public void Opsets_7_8_and_22_to_25_are_read_for_the_ops_cimc_reads(long opset)
    {
        ModelProto model = Mlp(Node("Relu", ["h"], ["a"], "act"), opset);
        model.Graph.Node.Insert(1, Node("Identity", ["h"], ["h2"], "id"));
        model.Graph.Node[2].Input[0] = "h2";
        Graph graph = ImportAndCompare(model, [5, 4]);
        Assert.Equal(["dense", "identity", "relu", "dense"], graph.Nodes.Select(n => n.Op.Mnemonic));
    }

    [Theory]
    [InlineData(23)]
    [InlineData(25)]
    public void A_qdq_model_reexported_at_opsets_23_and_25_still_matches_onnx_runtime(long opset)
    {
        ModelProto model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(TestPaths.Fixture("qdq/qdq_per_tensor.onnx")));
        model.OpsetImport.Single(o => o.Domain is "" or "ai.onnx").Version = opset;
        string path = Save(model);
        try
        {
            NdArray x = Npy.Read(TestPaths.Fixture("qdq/qdq_input.npy"));
            float[] ours = FloatExecutor.Run(OnnxImporter.Import(path), x).Data;
            Close.Assert(OnnxRuntimeOracle.Run(path, x, Microsoft.ML.OnnxRuntime.GraphOptimizationLevel.ORT_DISABLE_ALL), ours);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_dequantize_to_another_float_type_is_refused()
    {
        ModelProto model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(TestPaths.Fixture("qdq/qdq_per_tensor.onnx")));
        model.OpsetImport.Single(o => o.Domain is "" or "ai.onnx").Version = 23;
        model.Graph.Node.First(n => n.OpType == "DequantizeLinear").Attribute.Add(Int("output_dtype", (long)DataType.Float16));
        var e = Assert.Throws<CimcException>(() => OnnxImporter.Import(model.ToByteArray(), "dq.onnx"));
        Assert.Contains("output_dtype FLOAT16 is not supported", e.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Dropout_with_a_constant_false_bool_training_mode_passes_its_input_through(bool raw)
    {
        var training = new TensorProto { Name = "training", DataType = (int)DataType.Bool };
        if (raw)
        {
            training.RawData = ByteString.CopyFrom([0]);
        }
        else
        {
            training.Int32Data.Add(0);
        }

        ModelProto model = Mlp(Node("Dropout", ["h", "ratio", "training"], ["a"], "drop"), 13,
            [Floats("ratio", [], [0.5f], raw: true), training]);
        Graph graph = ImportAndCompare(model, [5, 4]);
        Assert.Equal(["dense", "dense"], graph.Nodes.Select(n => n.Op.Mnemonic));
    }

    [Fact]
    public void Dropout_with_a_constant_true_training_mode_is_still_refused()
    {
        var training = new TensorProto { Name = "training", DataType = (int)DataType.Bool, RawData = ByteString.CopyFrom([1]) };
        ModelProto model = Mlp(Node("Dropout", ["h", "ratio", "training"], ["a"], "drop"), 13, [Floats("ratio", [], [0.5f]), training]);
        var e = Assert.Throws<CimcException>(() => OnnxImporter.Import(model.ToByteArray(), "drop.onnx"));
        Assert.Contains("training_mode must be a constant false", e.Message);
    }

    [Theory]
    [InlineData(13, -1)]
    [InlineData(11, 1)]
    [InlineData(9, 1)]
    public void LogSoftmax_the_usual_pytorch_classifier_head_matches_onnx_runtime(long opset, long axis)
    {
        ModelProto model = Model(
            [
                Node("Gemm", ["x", "w1", "b1"], ["h"], "fc1", Int("transB", 1)),
                Node("LogSoftmax", ["h"], ["y"], "log_softmax", Int("axis", axis)),
            ],
            [Floats("w1", [6, 4], Random(24, 1)), Floats("b1", [6], Random(6, 2))],
            [-1, 4], opset: opset);
        Graph graph = ImportAndCompare(model, [5, 4], scale: 8f);
        Assert.Equal("log_softmax", graph.Nodes[^1].Op.Mnemonic);
    }

    [Theory]
    [InlineData(13, 0f, 6f)]
    [InlineData(13, -1f, 1f)]
    [InlineData(11, 0f, float.NaN)]
    [InlineData(6, 0f, 6f)]
    [InlineData(7, -1f, 1f)]
    public void Float_clip_relu6_and_hardtanh_match_onnx_runtime(long opset, float min, float max)
    {
        NodeProto clip;
        TensorProto[] bounds = [];
        if (opset < 11)
        {
            clip = Node("Clip", ["h"], ["a"], "clip", Float("min", min), Float("max", max));
        }
        else
        {
            bool noMax = float.IsNaN(max);
            clip = Node("Clip", noMax ? ["h", "lo"] : ["h", "lo", "hi"], ["a"], "clip");
            bounds = noMax ? [Floats("lo", [], [min])] : [Floats("lo", [], [min]), Floats("hi", [], [max])];
        }

        // Opset 6 is below what cimc reads: its Clip attributes are also the form of opsets 7 to 10.
        if (opset < 7)
        {
            var e = Assert.Throws<CimcException>(() => OnnxImporter.Import(Mlp(clip, opset, bounds).ToByteArray(), "clip.onnx"));
            Assert.Contains("opset 6 is not supported", e.Message);
            return;
        }

        Graph graph = ImportAndCompare(Mlp(clip, opset, bounds), [7, 4], scale: 6f);
        Assert.Equal("clip", graph.Nodes[1].Op.Mnemonic);
    }

    [Fact]
    public void Transpose_of_a_constant_weight_feeding_matmul_is_folded()
    {
        // Older PyTorch exports of Linear without bias: MatMul(x, Transpose(W)) with W [out, in].
        ModelProto model = Model(
            [
                Node("Transpose", ["w"], ["wt"], "t", Ints("perm", 1, 0)),
                Node("MatMul", ["x", "wt"], ["y"], "fc"),
            ],
            [Floats("w", [3, 4], Random(12, 5), raw: true)],
            [-1, 4]);
        Graph graph = ImportAndCompare(model, [5, 4]);
        Assert.Equal(["dense"], graph.Nodes.Select(n => n.Op.Mnemonic));

        // The default permutation reverses the axes.
        model.Graph.Node[0].Attribute.Clear();
        ImportAndCompare(model, [5, 4]);
    }

    [Fact]
    public void A_transpose_of_the_computed_value_is_refused()
    {
        ModelProto model = Model([Node("Transpose", ["x"], ["y"], "t")], [], [-1, 4]);
        var e = Assert.Throws<CimcException>(() => OnnxImporter.Import(model.ToByteArray(), "t.onnx"));
        Assert.Contains("Transpose of the computed value", e.Message);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void MatMul_with_a_1d_constant_right_operand_drops_the_last_dimension(int rank)
    {
        long[] dims = rank == 2 ? [-1, 4] : [-1, 2, 4];
        ModelProto model = Model([Node("MatMul", ["x", "v"], ["y"], "dot")], [Floats("v", [4], Random(4, 6))], dims, outputRank: rank - 1);
        Graph graph = ImportAndCompare(model, rank == 2 ? [5, 4] : [5, 2, 4]);
        Assert.Equal(["dense", "reshape"], graph.Nodes.Select(n => n.Op.Mnemonic));
    }

    [Theory]
    [InlineData(17, "FLOAT8E4M3FN")]
    [InlineData(21, "UINT4")]
    [InlineData(22, "INT4")]
    [InlineData(23, "FLOAT4E2M1")]
    [InlineData(24, "FLOAT8E8M0")]
    [InlineData(26, "INT2")]
    public void Element_types_17_to_26_are_named(int type, string name)
    {
        var w = new TensorProto { Name = "w", DataType = type, RawData = ByteString.CopyFrom(new byte[12]) };
        w.Dims.AddRange([3, 4]);
        ModelProto model = Model([Node("MatMul", ["x", "w"], ["y"], "fc")], [w], [-1, 3]);
        var e = Assert.Throws<CimcException>(() => OnnxImporter.Import(model.ToByteArray(), "types.onnx"));
        Assert.Contains($"element type {name} is not supported", e.Message);
    }

    [Fact]
    public void A_graph_whose_output_batch_differs_from_its_fixed_input_batch_is_refused()
    {
        ModelProto model = Model([Node("Gemm", ["x", "w", "b"], ["y"], "fc", Int("transB", 1))],
            [Floats("w", [3, 4], Random(12, 1)), Floats("b", [3], Random(3, 2))], [2, 4]);
        model.Graph.Output[0] = Value("y", [5, 3]);
        var e = Assert.Throws<CimcException>(() => OnnxImporter.Import(model.ToByteArray(), "batch.onnx"));
        Assert.Contains("the batch sizes differ", e.Message);

        model.Graph.Output[0] = Value("y", [2, 3]);
        Assert.Equal(2, OnnxImporter.Import(model.ToByteArray(), "batch.onnx").Outputs[0].Type.Dims[0]);
    }

    private static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }
}
