using Cimc.Data;
using Cimc.Diagnostics;
using Cimc.Import.Onnx;
using Cimc.Import.Onnx.Proto;
using Cimc.Ir;
using Cimc.Reference;
using static Cimc.Tests.Import.OnnxModels;

namespace Cimc.Tests.Import;

/// <summary>ONNX convolutional ops that cimc folds, and the ones it refuses in one line naming the node.</summary>
public sealed class ConvImportTests
{
    private static string Refused(ModelProto model)
    {
        var e = Assert.Throws<CimcException>(() => OnnxImporter.Import(model, "m"));
        Assert.DoesNotContain('\n', e.Message);
        return e.Message;
    }

    private static TensorProto[] BatchNormInputs(int channels) =>
    [
        Floats("scale", [channels], Random(channels, 1, 0.5f).Select(v => v + 1f).ToArray()),
        Floats("shift", [channels], Random(channels, 2, 0.5f)),
        Floats("mean", [channels], Random(channels, 3, 0.5f)),
        Floats("var", [channels], Random(channels, 4, 0.5f).Select(v => v + 1f).ToArray()),
    ];

    [Fact]
    public void A_batch_norm_after_a_gemm_folds_into_the_dense_layer_as_onnx_runtime_computes_it()
    {
        ModelProto model = Model(
            [
                Node("Gemm", ["x", "w", "b"], ["h"], "fc", Int("transB", 1)),
                Node("BatchNormalization", ["h", "scale", "shift", "mean", "var"], ["y"], "bn"),
            ],
            [Floats("w", [5, 4], Random(20, 5)), Floats("b", [5], Random(5, 6)), .. BatchNormInputs(5)], [-1, 4]);
        Graph graph = OnnxImporter.Import(model, "m");
        Assert.IsType<Dense>(Assert.Single(graph.Nodes).Op);
        string path = Save(model);
        try
        {
            var input = new NdArray([3, 4], Random(12, 7));
            Close.Assert(OnnxRuntimeOracle.Run(path, input), FloatExecutor.Run(graph, input).Data);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_batch_norm_that_no_conv_or_gemm_computed_is_refused()
    {
        ModelProto model = Model(
            [Node("Relu", ["x"], ["r"], "act"), Node("BatchNormalization", ["r", "scale", "shift", "mean", "var"], ["y"], "bn")],
            BatchNormInputs(2), [-1, 2, 4, 4], outputRank: 4);
        Assert.Equal("node 'bn' (BatchNormalization, opset 13): BatchNormalization is supported only right after a Conv or Gemm whose output nothing else uses (it is folded into its weights)", Refused(model));
    }

    [Fact]
    public void A_batch_norm_in_training_mode_is_refused()
    {
        ModelProto model = Model(
            [Node("Conv", ["x", "w"], ["c"], "conv", Ints("kernel_shape", 1, 1)), Node("BatchNormalization", ["c", "scale", "shift", "mean", "var"], ["y"], "bn", Int("training_mode", 1))],
            [Floats("w", [2, 2, 1, 1], Random(4, 8)), .. BatchNormInputs(2)], [-1, 2, 4, 4], outputRank: 4, opset: 15);
        Assert.Contains("training_mode=1", Refused(model));
    }

    [Fact]
    public void A_zero_pad_before_a_max_pool_is_refused_and_a_pad_nothing_absorbs_is_named()
    {
        ModelProto maxPool = Model(
            [Node("Pad", ["x", "pads"], ["p"], "pad"), Node("MaxPool", ["p"], ["y"], "pool", Ints("kernel_shape", 2, 2))],
            [Longs("pads", 0, 0, 1, 1, 0, 0, 1, 1)], [-1, 1, 4, 4], outputRank: 4);
        Assert.Contains("node 'pool' (MaxPool, opset 13): a Pad before MaxPool pads with zeros", Refused(maxPool));

        ModelProto relu = Model(
            [Node("Pad", ["x", "pads"], ["p"], "pad"), Node("Relu", ["p"], ["y"], "act")],
            [Longs("pads", 0, 0, 1, 1, 0, 0, 1, 1)], [-1, 1, 4, 4], outputRank: 4);
        Assert.Contains("node 'act' (Relu, opset 13): input 'p' comes from a Pad", Refused(relu));
    }

    [Fact]
    public void A_ceil_mode_window_that_starts_past_the_input_is_refused()
    {
        // 6 rows, kernel 1, stride 2: ceil mode would add a fourth window starting at row 6.
        ModelProto model = Model(
            [Node("MaxPool", ["x"], ["y"], "pool", Ints("kernel_shape", 1, 1), Ints("strides", 2, 2), Int("ceil_mode", 1))],
            [], [-1, 1, 6, 6], outputRank: 4);
        Assert.Contains("node 'pool' (MaxPool, opset 13): ceil_mode=1 gives a last window that starts past", Refused(model));
    }

    [Fact]
    public void Same_padding_needs_the_image_size_and_a_three_d_convolution_is_refused()
    {
        ModelProto same = Model(
            [Node("Conv", ["x", "w"], ["y"], "conv", Ints("kernel_shape", 3, 3), Text("auto_pad", "SAME_UPPER"))],
            [Floats("w", [1, 1, 3, 3], Random(9, 9))], [-1, 1, -1, -1], outputRank: 4);
        Assert.Contains("auto_pad SAME_UPPER needs the input's height and width", Refused(same));

        ModelProto conv3d = Model(
            [Node("Conv", ["x", "w"], ["y"], "conv")],
            [Floats("w", [1, 1, 3, 3, 3], Random(27, 10))], [-1, 1, 4, 4, 4], outputRank: 5);
        Assert.Contains("needs an NCHW input (rank 4), got f32[?,1,4,4,4]; cimc imports 2-D convolution", Refused(conv3d));
    }

    [Fact]
    public void A_constant_added_to_a_convolution_joins_its_bias()
    {
        ModelProto model = Model(
            [Node("Conv", ["x", "w"], ["c"], "conv", Ints("kernel_shape", 1, 1)), Node("Add", ["c", "b"], ["y"], "bias")],
            [Floats("w", [2, 1, 1, 1], [2f, 3f]), Floats("b", [1, 2, 1, 1], [10f, 20f])], [-1, 1, 2, 2], outputRank: 4);
        Graph graph = OnnxImporter.Import(model, "m");
        Conv2d conv = Assert.IsType<Conv2d>(Assert.Single(graph.Nodes).Op);
        Assert.Equal([10f, 20f], conv.Bias!.Span.ToArray());
        Assert.Equal([12f, 14f, 16f, 18f, 23f, 26f, 29f, 32f], FloatExecutor.Run(graph, new NdArray([1, 1, 2, 2], [1, 2, 3, 4])).Data);
    }
}
