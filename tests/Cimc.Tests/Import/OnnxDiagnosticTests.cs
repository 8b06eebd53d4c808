using Cimc.Diagnostics;
using Cimc.Import.Onnx;
using Cimc.Import.Onnx.Proto;
using CsCheck;
using Google.Protobuf;
using static Cimc.Tests.Import.OnnxModels;

namespace Cimc.Tests.Import;

/// <summary>
/// Every problem with an ONNX file is a one-line <see cref="CimcException"/> that says where the
/// problem is; no other exception escapes the importer, whatever the bytes.
/// </summary>
public sealed class OnnxDiagnosticTests
{
    private static ModelProto Mlp(long opset = 13) => Model(
        [
            Node("Gemm", ["x", "w1", "b1"], ["h"], "fc1", Int("transB", 1)),
            Node("Relu", ["h"], ["r"], "act"),
            Node("Gemm", ["r", "w2"], ["y"], "fc2", Int("transB", 1)),
        ],
        [Floats("w1", [6, 4], Random(24, 1), raw: true), Floats("b1", [6], Random(6, 2)), Floats("w2", [3, 6], Random(18, 3))],
        [-1, 4], opset: opset);

    private static string Refused(ModelProto model) => Assert.Throws<CimcException>(() => OnnxImporter.Import(model, "m")).Message;

    [Fact]
    public void An_unsupported_operator_names_the_node_the_op_and_the_opset()
    {
        ModelProto model = Mlp();
        model.Graph.Node[1] = Node("ConvTranspose", ["h"], ["r"], "conv_1");
        Assert.Equal("node 'conv_1' (ConvTranspose, opset 13): unsupported operator", Refused(model));
    }

    [Fact]
    public void A_cycle_is_refused_naming_a_node_on_the_cycle()
    {
        ModelProto model = Model(
            [
                Node("Relu", ["b_out"], ["y"], "downstream"),
                Node("Relu", ["b_out"], ["a_out"], "a"),
                Node("Tanh", ["a_out"], ["b_out"], "b"),
            ],
            [], [-1, 4]);
        string message = Refused(model);
        Assert.Contains("cycle", message);
        Assert.Matches("^node '(a|b)'", message);
    }

    [Fact]
    public void A_node_reading_its_own_output_is_a_cycle()
    {
        ModelProto model = Model([Node("Relu", ["y"], ["y"], "self")], [], [-1, 4]);
        Assert.StartsWith("node 'self' (Relu, opset 13): the node is part of a cycle", Refused(model));
    }

    [Fact]
    public void A_dangling_input_names_the_value_and_the_node()
    {
        ModelProto model = Mlp();
        model.Graph.Node[1].Input[0] = "ghost";
        Assert.Equal("node 'act' (Relu, opset 13): dangling input 'ghost': it is not a graph input, an initializer or the output of any node", Refused(model));
    }

    [Theory]
    [InlineData(6)]
    [InlineData(26)]
    public void An_opset_outside_7_to_25_is_refused(long opset) =>
        Assert.Contains($"opset {opset} is not supported", Refused(Mlp(opset)));

    [Fact]
    public void A_model_without_a_default_domain_opset_is_refused()
    {
        ModelProto model = Mlp();
        model.OpsetImport[0].Domain = "com.example";
        Assert.Contains("no default-domain opset", Refused(model));
    }

    [Fact]
    public void A_node_of_another_domain_is_refused()
    {
        ModelProto model = Mlp();
        model.Graph.Node[1].Domain = "com.microsoft";
        Assert.Contains("node 'act' (Relu, opset 13): operator domain 'com.microsoft'", Refused(model));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Weights_in_external_data_are_refused_clearly(bool byLocation)
    {
        ModelProto model = Mlp();
        TensorProto w = model.Graph.Initializer[0];
        w.RawData = ByteString.Empty;
        if (byLocation)
        {
            w.DataLocation = TensorProto.Types.DataLocation.External;
        }
        else
        {
            w.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "weights.bin" });
        }

        Assert.StartsWith("initializer 'w1': the tensor's data is stored in an external file", Refused(model));
    }

    [Fact]
    public void A_huge_declared_shape_is_refused_before_anything_is_allocated()
    {
        ModelProto model = Mlp();
        model.Graph.Initializer[0].Dims[0] = 1L << 40;
        Assert.Contains("exceeds the limit", Refused(model));
    }

    [Fact]
    public void Raw_data_of_the_wrong_length_is_refused()
    {
        ModelProto model = Mlp();
        model.Graph.Initializer[0].RawData = ByteString.CopyFrom(new byte[10]);
        Assert.Contains("raw_data holds 10 bytes but shape [6,4] of FLOAT needs 96", Refused(model));
    }

    [Fact]
    public void Typed_data_of_the_wrong_length_is_refused()
    {
        ModelProto model = Mlp();
        model.Graph.Initializer[1].FloatData.RemoveAt(0);
        Assert.Contains("initializer 'b1': holds 5 values but shape [6] needs 6", Refused(model));
    }

    [Fact]
    public void A_transposed_gemm_input_is_refused()
    {
        ModelProto model = Mlp();
        model.Graph.Node[0].Attribute.Add(Int("transA", 1));
        Assert.Contains("node 'fc1' (Gemm, opset 13): transA=1", Refused(model));
    }

    [Fact]
    public void A_graph_with_two_inputs_is_refused()
    {
        ModelProto model = Mlp();
        model.Graph.Input.Add(Value("z", [-1, 4]));
        Assert.Contains("the graph has 2 inputs ('x', 'z')", Refused(model));
    }

    [Fact]
    public void A_graph_with_two_outputs_is_refused()
    {
        ModelProto model = Mlp();
        model.Graph.Output.Add(Value("h", [-1, 6]));
        Assert.Contains("the graph has 2 outputs", Refused(model));
    }

    [Fact]
    public void A_model_without_a_graph_or_without_nodes_is_refused()
    {
        Assert.Contains("has no graph", Refused(new ModelProto { IrVersion = 8 }));
        ModelProto empty = Mlp();
        empty.Graph.Node.Clear();
        Assert.Contains("has no nodes", Refused(empty));
    }

    [Fact]
    public void An_add_that_is_not_a_bias_is_refused()
    {
        ModelProto model = Model([Node("Add", ["x", "c"], ["y"], "add")], [Floats("c", [4], Random(4, 1))], [-1, 4]);
        Assert.Contains("node 'add' (Add, opset 13): adding a constant is supported only as the bias", Refused(model));
    }

    [Fact]
    public void A_used_dropout_mask_is_refused()
    {
        ModelProto model = Model(
            [Node("Dropout", ["x"], ["d", "mask"], "drop"), Node("Relu", ["d"], ["r"], "act"), Node("Cast", ["mask"], ["m"], "use_mask", Int("to", 1))],
            [], [-1, 4]);
        model.Graph.Output[0].Name = "m";
        Assert.Contains("node 'drop' (Dropout, opset 13): output 1 'mask' is used", Refused(model));
    }

    [Fact]
    public void Softmax_before_opset_13_on_a_non_last_axis_is_refused()
    {
        ModelProto model = Model([Node("Softmax", ["x"], ["y"], "sm")], [], [-1, 3, 4], outputRank: 3, opset: 11);
        Assert.Contains("node 'sm' (Softmax, opset 11): before opset 13 Softmax flattens", Refused(model));
    }

    [Fact]
    public void A_layer_fed_the_wrong_number_of_features_is_refused_at_its_onnx_node()
    {
        ModelProto model = Mlp();
        model.Graph.Initializer[2] = Floats("w2", [3, 5], Random(15, 3));
        Assert.Equal("node 'fc2' (Gemm, opset 13): input f32[?,6] has 6 features but the weight expects 5", Refused(model));
    }

    [Fact]
    public void A_truncated_file_is_not_a_valid_onnx_model()
    {
        byte[] bytes = Mlp().ToByteArray();
        var e = Assert.Throws<CimcException>(() => OnnxImporter.Import(bytes[..(bytes.Length / 2)], "cut.onnx"));
        Assert.StartsWith("cut.onnx: not a valid ONNX model:", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Random_bytes_give_a_diagnostic_or_a_graph_but_never_another_exception() =>
        Gen.Byte.Array[0, 400].Sample(bytes => Survives(bytes), iter: 3000);

    [Fact]
    public void A_valid_model_with_corrupted_bytes_gives_a_diagnostic_or_a_graph_but_never_another_exception()
    {
        byte[] valid = Mlp().ToByteArray();
        Gen.Select(Gen.Int[0, valid.Length - 1].Array[1, 6], Gen.Byte.Array[6], Gen.Int[1, valid.Length])
            .Sample((positions, values, length) =>
            {
                byte[] bytes = (byte[])valid.Clone();
                for (int i = 0; i < positions.Length; i++)
                {
                    bytes[positions[i]] = values[i];
                }

                Survives(bytes[..length]);
            }, iter: 3000);
    }

    private static void Survives(byte[] bytes)
    {
        try
        {
            OnnxImporter.Import(bytes, "fuzz.onnx");
        }
        catch (CimcException)
        {
        }
    }
}
