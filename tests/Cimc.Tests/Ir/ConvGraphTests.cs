using Cimc.Data;
using Cimc.Diagnostics;
using Cimc.Ir;
using Cimc.Reference;

namespace Cimc.Tests.Ir;

/// <summary>The DAG form of the graph: NCHW shapes, residual adds, the text form and one-line shape errors.</summary>
public sealed class ConvGraphTests
{
    private static Conv2d Conv(int outC, int inC, int k, int stride = 1, int pad = 0, float[]? weights = null) =>
        new(new FloatTensor([outC, inC, k, k], weights ?? new float[outC * inC * k * k]), FloatTensor.Vector(new float[outC]), new Window2d(k, k, stride, stride, pad, pad, pad, pad));

    /// <summary>x -> conv3x3 -> relu -> (+ x) -> max pool -> global average -> flatten -> dense.</summary>
    private static Graph Residual(int channels = 2, int size = 6)
    {
        var dense = new Dense(FloatTensor.Matrix(3, channels, [.. Enumerable.Range(0, 3 * channels).Select(i => (float)i)]), null);
        return new Graph("res", [new ValueInfo("x", TensorType.Float(TensorType.Dynamic, channels, size, size))],
        [
            new Node("c", Conv(channels, channels, 3, pad: 1, weights: [.. Enumerable.Range(0, channels * channels * 9).Select(i => (i % 5) - 2f)]), "x", "c"),
            new Node("r", new Relu(), "c", "r"),
            new Node("sum", new Add(), ["r", "x"], ["s"]),
            new Node("p", new MaxPool2d(new Window2d(2, 2, 2, 2)), "s", "p"),
            new Node("g", new GlobalAvgPool(), "p", "g"),
            new Node("f", new Flatten(1), "g", "f"),
            new Node("fc", dense, "f", "y"),
        ], [new ValueInfo("y", TensorType.Float(TensorType.Dynamic, 3))]);
    }

    [Fact]
    public void Shape_inference_follows_a_residual_dag_in_nchw()
    {
        IReadOnlyDictionary<string, TensorType> types = ShapeInference.Infer(Residual());
        Assert.Equal("f32[?,2,6,6]", types["s"].ToString());
        Assert.Equal("f32[?,2,3,3]", types["p"].ToString());
        Assert.Equal("f32[?,2,1,1]", types["g"].ToString());
        Assert.Equal("f32[?,3]", types["y"].ToString());
        Assert.Empty(GraphVerifier.Verify(Residual()));
    }

    [Fact]
    public void The_text_form_lists_both_inputs_of_an_add_and_the_window_of_a_convolution()
    {
        Assert.Equal(
            """
            graph res(%x: f32[?,2,6,6]) {
              %c: f32[?,2,6,6] = conv2d[out=2, in=2, k=3x3, s=1x1, p=1,1,1,1, d=1x1, bias=yes](%x)  # c
              %r: f32[?,2,6,6] = relu(%c)  # r
              %s: f32[?,2,6,6] = add(%r, %x)  # sum
              %p: f32[?,2,3,3] = max_pool2d[k=2x2, s=2x2, p=0,0,0,0, d=1x1](%s)  # p
              %g: f32[?,2,1,1] = global_avg_pool(%p)  # g
              %f: f32[?,2] = flatten[axis=1](%g)  # f
              %y: f32[?,3] = dense[out=3, in=2, bias=no](%f)  # fc
              return %y
            }

            """.ReplaceLineEndings("\n"),
            GraphPrinter.Print(Residual()));
    }

    [Fact]
    public void The_float_reference_computes_the_residual_dag_by_hand()
    {
        // One channel, 3x3 input, a 3x3 convolution with padding 1 whose kernel is the identity
        // (centre weight 2): relu(2x) + x = 3x for x >= 0, x for x < 0.
        float[] kernel = [0, 0, 0, 0, 2, 0, 0, 0, 0];
        var g = new Graph("g", [new ValueInfo("x", TensorType.Float(TensorType.Dynamic, 1, 3, 3))],
        [
            new Node("c", Conv(1, 1, 3, pad: 1, weights: kernel), "x", "c"),
            new Node("r", new Relu(), "c", "r"),
            new Node("a", new Add(), ["r", "x"], ["a"]),
            new Node("p", new AvgPool2d(new Window2d(2, 2, 1, 1), CountIncludePad: false), "a", "y"),
        ], [new ValueInfo("y", TensorType.Float(TensorType.Dynamic, 1, 2, 2))]);
        float[] x = [1, -2, 3, -4, 5, -6, 7, -8, 9];
        NdArray y = FloatExecutor.Run(g, new NdArray([1, 1, 3, 3], x));
        float[] a = [.. x.Select(v => v >= 0 ? 3 * v : v)];
        float[] expected = [(a[0] + a[1] + a[3] + a[4]) / 4, (a[1] + a[2] + a[4] + a[5]) / 4, (a[3] + a[4] + a[6] + a[7]) / 4, (a[4] + a[5] + a[7] + a[8]) / 4];
        Assert.Equal(expected, y.Data);
    }

    [Fact]
    public void A_convolution_on_a_flat_input_is_one_line_naming_the_node()
    {
        var b = new GraphBuilder("g", TensorType.Float(TensorType.Dynamic, 784));
        b.Add("conv1", Conv(6, 1, 5));
        var e = Assert.Throws<CimcException>(() => b.Build());
        Assert.Equal("node 'conv1' (conv2d): conv2d needs an NCHW input (rank 4), got f32[?,784]", e.Message);
    }

    [Fact]
    public void A_convolution_given_the_wrong_channels_or_too_small_an_image_is_one_line()
    {
        var channels = new GraphBuilder("g", TensorType.Float(TensorType.Dynamic, 3, 8, 8));
        channels.Add("conv1", Conv(6, 1, 5));
        Assert.Equal("node 'conv1' (conv2d): input f32[?,3,8,8] has 3 channels but the weight expects 1", Assert.Throws<CimcException>(() => channels.Build()).Message);

        var small = new GraphBuilder("g", TensorType.Float(TensorType.Dynamic, 1, 4, 4));
        small.Add("conv1", Conv(6, 1, 5));
        string message = Assert.Throws<CimcException>(() => small.Build()).Message;
        Assert.StartsWith("node 'conv1' (conv2d): the 5x5 window", message);
        Assert.Contains("does not fit the 4x4 input", message);
        Assert.DoesNotContain('\n', message);
    }

    [Fact]
    public void Adding_tensors_of_different_shapes_and_an_add_with_one_input_are_diagnostics()
    {
        var g = new Graph("g", [new ValueInfo("x", TensorType.Float(TensorType.Dynamic, 2, 6, 6))],
            [new Node("p", new MaxPool2d(new Window2d(2, 2, 2, 2)), "x", "p"), new Node("sum", new Add(), ["p", "x"], ["y"])],
            [new ValueInfo("y", TensorType.Float(TensorType.Dynamic, 2, 6, 6))]);
        Diagnostic shape = Assert.Single(GraphVerifier.Verify(g));
        Assert.Equal("node 'sum' (add): adds f32[?,2,3,3] and f32[?,2,6,6], which differ in dimension 2; cimc adds tensors of one shape", shape.ToString());

        var arity = g with { Nodes = [new Node("sum", new Add(), "x", "y")] };
        Assert.Contains(GraphVerifier.Verify(arity), d => d.Code == "bad-arity" && d.Message.Contains("expected 2", StringComparison.Ordinal));
    }

    [Fact]
    public void A_model_of_unknown_image_size_learns_it_from_the_input_and_names_the_layer_that_does_not_fit()
    {
        // Flatten after a conv leaves the feature count open until the image size is known.
        var b = new GraphBuilder("g", TensorType.Float(TensorType.Dynamic, 1, TensorType.Dynamic, TensorType.Dynamic));
        b.Add("conv", Conv(2, 1, 3));
        b.Add("flat", new Flatten(1));
        b.Add("fc", new Dense(FloatTensor.Matrix(3, 2 * 4 * 4, new float[96]), null));
        Graph g = b.Build();
        Assert.Equal([2, 3], FloatExecutor.Run(g, new NdArray([2, 6, 6], new float[72])).Shape.ToArray());
        var e = Assert.Throws<CimcException>(() => FloatExecutor.Run(g, new NdArray([2, 1, 7, 7], new float[98])));
        Assert.Equal("node 'fc' (dense): input f32[?,50] has 50 features but the weight expects 32", e.Message);
    }
}
