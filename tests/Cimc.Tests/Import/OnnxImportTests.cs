using Cimc.Data;
using Cimc.Import.Onnx;
using Cimc.Import.Onnx.Proto;
using Cimc.Ir;
using Cimc.Reference;
using static Cimc.Tests.Import.OnnxModels;

namespace Cimc.Tests.Import;

/// <summary>
/// Each supported ONNX construct, built in memory, imported by cimc and run by the float reference,
/// must give what ONNX Runtime gives on the same file.
/// </summary>
public sealed class OnnxImportTests
{
    private const int Batch = 5;

    private static Graph ImportAndCompare(ModelProto model, int[] inputShape, int seed = 1)
    {
        string path = Save(model);
        try
        {
            Graph graph = OnnxImporter.Import(path);
            var input = new NdArray([.. inputShape], Random(inputShape.Aggregate(1, (a, b) => a * b), seed, 2f));
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

    /// <summary>Two Gemm layers as torch.onnx.export writes them: weights [out, in] with transB=1.</summary>
    private static ModelProto TorchStyleMlp(bool raw = false, long opset = 13) => Model(
        [
            Node("Gemm", ["x", "w1", "b1"], ["h"], "/fc1/Gemm", Int("transB", 1)),
            Node("Relu", ["h"], ["r"], "/act/Relu"),
            Node("Gemm", ["r", "w2", "b2"], ["z"], "/fc2/Gemm", Int("transB", 1)),
            Node("Softmax", ["z"], ["y"], "/softmax/Softmax", Int("axis", 1)),
        ],
        [
            Floats("w1", [6, 4], Random(24, 1), raw), Floats("b1", [6], Random(6, 2), raw),
            Floats("w2", [3, 6], Random(18, 3), raw), Floats("b2", [3], Random(3, 4), raw),
        ],
        [-1, 4], opset: opset);

    [Fact]
    public void A_torch_style_mlp_of_gemm_layers_matches_onnx_runtime()
    {
        Graph graph = ImportAndCompare(TorchStyleMlp(), [Batch, 4]);
        Assert.Equal(["dense", "relu", "dense", "softmax"], graph.Nodes.Select(n => n.Op.Mnemonic));
        Assert.Equal("/fc1/Gemm", graph.Nodes[0].Name);
        Assert.Equal(TensorType.Float(TensorType.Dynamic, 4), graph.Inputs[0].Type);
    }

    [Fact]
    public void Raw_data_and_typed_float_data_give_the_same_weights()
    {
        Graph typed = OnnxImporter.Import(TorchStyleMlp(raw: false), "typed");
        Graph raw = OnnxImporter.Import(TorchStyleMlp(raw: true), "raw");
        Assert.Equal(GraphPrinter.Print(typed), GraphPrinter.Print(raw));
        Assert.True(((Dense)typed.Nodes[2].Op).Weight.Span.SequenceEqual(((Dense)raw.Nodes[2].Op).Weight.Span));
    }

    [Fact]
    public void A_gemm_with_untransposed_weight_alpha_beta_and_a_row_bias_matches_onnx_runtime()
    {
        ModelProto model = Model(
            [Node("Gemm", ["x", "w", "c"], ["y"], "g", Int("transB", 0), Float("alpha", 0.5f), Float("beta", 2f))],
            [Floats("w", [4, 3], Random(12, 5)), Floats("c", [1, 3], Random(3, 6))],
            [-1, 4]);
        Graph graph = ImportAndCompare(model, [Batch, 4]);
        var dense = (Dense)graph.Nodes.Single().Op;
        Assert.Equal([3, 4], dense.Weight.Shape.ToArray());
    }

    [Fact]
    public void A_gemm_bias_given_as_one_value_is_broadcast_to_every_output()
    {
        ModelProto model = Model(
            [Node("Gemm", ["x", "w", "c"], ["y"], "g", Int("transB", 1))],
            [Floats("w", [3, 4], Random(12, 7)), Floats("c", [1], [0.75f])],
            [-1, 4]);
        Graph graph = ImportAndCompare(model, [Batch, 4]);
        Assert.Equal([0.75f, 0.75f, 0.75f], ((Dense)graph.Nodes[0].Op).Bias!.Span.ToArray());
    }

    [Fact]
    public void A_gemm_without_bias_becomes_a_dense_layer_without_bias()
    {
        ModelProto model = Model([Node("Gemm", ["x", "w"], ["y"], "g", Int("transB", 1))], [Floats("w", [3, 4], Random(12, 8))], [-1, 4]);
        Graph graph = ImportAndCompare(model, [Batch, 4]);
        Assert.Null(((Dense)graph.Nodes[0].Op).Bias);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_matmul_followed_by_an_add_of_a_constant_becomes_one_dense_layer(bool constantFirst)
    {
        ModelProto model = Model(
            [
                Node("MatMul", ["x", "w"], ["m"], "mm"),
                Node("Add", constantFirst ? ["b", "m"] : ["m", "b"], ["a"], "add"),
                Node("Tanh", ["a"], ["y"], "tanh"),
            ],
            [Floats("w", [4, 3], Random(12, 9)), Floats("b", [3], Random(3, 10))],
            [-1, 4]);
        Graph graph = ImportAndCompare(model, [Batch, 4]);
        Assert.Equal(["dense", "tanh"], graph.Nodes.Select(n => n.Op.Mnemonic));
        Assert.NotNull(((Dense)graph.Nodes[0].Op).Bias);
        Assert.Equal("mm", graph.Nodes[0].Name);
    }

    [Fact]
    public void A_matmul_alone_becomes_a_dense_layer_without_bias()
    {
        ModelProto model = Model([Node("MatMul", ["x", "w"], ["y"], "mm")], [Floats("w", [4, 2], Random(8, 11))], [-1, 4]);
        Graph graph = ImportAndCompare(model, [Batch, 4]);
        Assert.Null(((Dense)graph.Nodes.Single().Op).Bias);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Float16_weights_cast_to_float_are_folded_into_the_layer(bool raw)
    {
        ModelProto model = Model(
            [
                Node("Cast", ["w16"], ["w"], "cast_w", Int("to", 1)),
                Node("Cast", ["b16"], ["b"], "cast_b", Int("to", 1)),
                Node("Gemm", ["x", "w", "b"], ["y"], "g", Int("transB", 1)),
            ],
            [Halves("w16", [3, 4], Random(12, 12), raw), Halves("b16", [3], Random(3, 13), raw)],
            [-1, 4]);
        Graph graph = ImportAndCompare(model, [Batch, 4]);
        Assert.Equal("dense", graph.Nodes.Single().Op.Mnemonic);
        Assert.Equal((float)(Half)Random(12, 12)[0], ((Dense)graph.Nodes[0].Op).Weight[0]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Double_weights_are_read_from_double_data_and_raw_data(bool raw)
    {
        ModelProto model = Model(
            [
                Node("Cast", ["w64"], ["w"], "cast_w", Int("to", 1)),
                Node("Gemm", ["x", "w"], ["y"], "g", Int("transB", 1)),
            ],
            [Doubles("w64", [3, 4], Random(12, 14), raw)],
            [-1, 4]);
        ImportAndCompare(model, [Batch, 4]);
    }

    [Fact]
    public void Flatten_reshape_to_a_constant_node_shape_and_every_activation_match_onnx_runtime()
    {
        var shape = new TensorProto { Name = "s", DataType = (int)TensorProto.Types.DataType.Int64 };
        shape.Dims.Add(2);
        shape.Int64Data.AddRange([-1, 16]);
        ModelProto model = Model(
            [
                Node("Flatten", ["x"], ["f"], "flat"),
                Node("Constant", [], ["shape"], "shape_const", Tensor("value", shape)),
                Node("Reshape", ["f", "shape"], ["r"], "reshape"),
                Node("Gemm", ["r", "w"], ["h"], "g", Int("transB", 1)),
                Node("LeakyRelu", ["h"], ["l"], "leaky"),
                Node("Dropout", ["l"], ["d"], "drop"),
                Node("Sigmoid", ["d"], ["s1"], "sig"),
                Node("Identity", ["s1"], ["i"], "id"),
                Node("Tanh", ["i"], ["y"], "tanh"),
            ],
            [Floats("w", [8, 16], Random(128, 15))],
            [-1, 1, 4, 4]);
        Graph graph = ImportAndCompare(model, [Batch, 1, 4, 4]);
        Assert.Equal(["flatten", "reshape", "dense", "leaky_relu", "sigmoid", "identity", "tanh"], graph.Nodes.Select(n => n.Op.Mnemonic));
        Assert.Equal(0.01f, ((LeakyRelu)graph.Nodes[3].Op).Alpha);
    }

    [Theory]
    [InlineData(9)]
    [InlineData(11)]
    [InlineData(13)]
    [InlineData(17)]
    [InlineData(21)]
    public void A_two_dimensional_softmax_with_its_default_axis_matches_onnx_runtime_in_every_opset(long opset)
    {
        ModelProto model = Model(
            [Node("Gemm", ["x", "w", "b"], ["z"], "g", Int("transB", 1)), Node("Softmax", ["z"], ["y"], "sm")],
            [Floats("w", [5, 4], Random(20, 16, 3f)), Floats("b", [5], Random(5, 17))],
            [-1, 4], opset: opset);
        ImportAndCompare(model, [Batch, 4]);
    }

    [Fact]
    public void Nodes_written_out_of_order_are_sorted()
    {
        ModelProto sorted = TorchStyleMlp();
        ModelProto shuffled = sorted.Clone();
        shuffled.Graph.Node.Clear();
        shuffled.Graph.Node.AddRange(sorted.Graph.Node.Reverse());
        Assert.Equal(GraphPrinter.Print(OnnxImporter.Import(sorted, "m")), GraphPrinter.Print(OnnxImporter.Import(shuffled, "m")));
    }

    [Fact]
    public void Initializers_listed_as_graph_inputs_are_not_real_inputs()
    {
        ModelProto model = TorchStyleMlp();
        foreach (TensorProto t in model.Graph.Initializer)
        {
            model.Graph.Input.Add(Value(t.Name, [.. t.Dims]));
        }

        Graph graph = ImportAndCompare(model, [Batch, 4]);
        Assert.Equal("x", graph.Inputs.Single().Name);
    }

    [Fact]
    public void A_dimension_without_value_or_name_is_dynamic_and_a_double_input_is_accepted()
    {
        ModelProto model = TorchStyleMlp();
        ValueInfoProto input = model.Graph.Input[0];
        input.Type.TensorType.ElemType = (int)TensorProto.Types.DataType.Double;
        input.Type.TensorType.Shape.Dim[0] = new TensorShapeProto.Types.Dimension();
        model.Graph.Node.Insert(0, Node("Cast", ["x"], ["xf"], "cast", Int("to", 1)));
        model.Graph.Node[1].Input[0] = "xf";
        Graph graph = ImportAndCompare(model, [Batch, 4]);
        Assert.Equal(new TensorType(ElementType.Float64, [TensorType.Dynamic, 4]), graph.Inputs[0].Type);
    }

    [Fact]
    public void Unnamed_nodes_are_named_after_their_position_and_value_names_are_sanitized()
    {
        ModelProto model = Model(
            [Node("Relu", ["input::0"], ["/act/Relu_output_0"]), Node("Tanh", ["/act/Relu_output_0"], ["out"])],
            [], [-1, 4], input: "input::0", output: "out");
        Graph graph = OnnxImporter.Import(model, "m");
        Assert.Equal(["op_0", "op_1"], graph.Nodes.Select(n => n.Name));
        Assert.Equal("input_0", graph.Inputs[0].Name);
        Assert.Equal("act_Relu_output_0", graph.Nodes[0].Output);
    }

    [Fact]
    public void Nodes_the_output_does_not_depend_on_are_ignored_even_if_unsupported()
    {
        ModelProto model = TorchStyleMlp();
        model.Graph.Node.Add(Node("Shape", ["x"], ["unused_shape"], "leftover"));
        Graph graph = OnnxImporter.Import(model, "m");
        Assert.Equal(4, graph.Nodes.Length);
    }
}
