using System.Collections.Immutable;
using Cimc.Diagnostics;
using Cimc.Ir;

namespace Cimc.Tests.Ir;

public sealed class GraphTests
{
    private static Dense Layer(int outF, int inF, bool bias = true) =>
        new(FloatTensor.Matrix(outF, inF, new float[outF * inF]), bias ? FloatTensor.Vector(new float[outF]) : null);

    [Fact]
    public void Shape_inference_follows_a_chain_with_a_dynamic_batch()
    {
        var b = new GraphBuilder("g", TensorType.Float(TensorType.Dynamic, 1, 8, 8));
        b.Add("flat", new Flatten(1));
        b.Add("fc1", Layer(16, 64));
        b.Add("act", new Relu());
        b.Add("fc2", Layer(3, 16, bias: false));
        b.Add("sm", new Softmax(-1));
        Graph g = b.Build();
        IReadOnlyDictionary<string, TensorType> types = ShapeInference.Infer(g);
        Assert.Equal("f32[?,3]", types[g.Outputs[0].Name].ToString());
        Assert.Equal("f32[?,64]", types["flat"].ToString());
        Assert.Empty(GraphVerifier.Verify(g));
        Assert.Equal((16 * 64) + 16 + (3 * 16), g.ParameterCount);
    }

    [Fact]
    public void A_dense_layer_fed_the_wrong_width_is_a_diagnostic_naming_the_node()
    {
        var b = new GraphBuilder("g", TensorType.Float(TensorType.Dynamic, 10));
        b.Add("fc1", Layer(4, 10));
        b.Add("fc2", Layer(2, 5));
        var e = Assert.Throws<CimcException>(() => b.Build());
        Assert.Contains("fc2", e.Message);
        Assert.Contains("4 features", e.Message);
    }

    [Fact]
    public void The_verifier_reports_an_input_used_before_it_is_defined_and_a_missing_output()
    {
        var g = new Graph(
            "g",
            [new ValueInfo("x", TensorType.Float(-1, 4))],
            [new Node("a", new Relu(), "y", "z"), new Node("b", new Relu(), "z", "y")],
            [new ValueInfo("w", TensorType.Float(-1, 4))]);
        ImmutableArray<Diagnostic> problems = GraphVerifier.Verify(g);
        Assert.Contains(problems, p => p.Code == "undefined-value" && p.Location.Contains("'a'"));
        Assert.Contains(problems, p => p.Code == "undefined-value" && p.Location.Contains("'w'"));
    }

    [Fact]
    public void Reshape_infers_the_minus_one_dimension_and_refuses_an_impossible_shape()
    {
        var ok = new GraphBuilder("g", TensorType.Float(2, 8, 8));
        ok.Add("r", new Reshape([-1, 64]));
        Assert.Equal("f32[2,64]", ShapeInference.Infer(ok.Build())["output"].ToString());

        var dynamic = new GraphBuilder("g", TensorType.Float(-1, 8, 8));
        dynamic.Add("r", new Reshape([-1, 64]));
        Assert.Equal("f32[?,64]", ShapeInference.Infer(dynamic.Build())["output"].ToString());

        var bad = new GraphBuilder("g", TensorType.Float(2, 8, 8));
        bad.Add("r", new Reshape([-1, 7]));
        Assert.Throws<CimcException>(() => bad.Build());
    }

    [Fact]
    public void The_text_form_names_every_node_with_its_types()
    {
        var b = new GraphBuilder("mlp", TensorType.Float(-1, 4));
        b.Add("fc1", Layer(3, 4));
        b.Add("act", new LeakyRelu(0.1f));
        string text = GraphPrinter.Print(b.Build());
        Assert.Equal(
            """
            graph mlp(%input: f32[?,4]) {
              %fc1: f32[?,3] = dense[out=3, in=4, bias=yes](%input)  # fc1
              %output: f32[?,3] = leaky_relu[alpha=0.1](%fc1)  # act
              return %output
            }

            """.ReplaceLineEndings("\n"),
            text);
    }

    public static TheoryData<Op> EveryOp() =>
    [
        Layer(2, 2), new Relu(), new LeakyRelu(0.2f), new Sigmoid(), new Tanh(), new Softmax(1), new LogSoftmax(1), new Clip(0f, 6f), new Flatten(1), new Reshape([-1, 2]), new Identity(),
        new FakeQuant(0.05f, 3, 0, 255),
        new Conv2d(new FloatTensor([2, 2, 1, 1], [1, 2, 3, 4]), FloatTensor.Vector([0.5f, -0.5f]), new Window2d(1, 1)),
        new MaxPool2d(new Window2d(1, 2, PadRight: 1)), new AvgPool2d(new Window2d(1, 2), CountIncludePad: true), new GlobalAvgPool(),
        new Add(), new Concat(1),
    ];

    [Fact]
    public void Every_op_record_is_covered_by_the_coverage_theory()
    {
        var covered = ((IEnumerable<object[]>)EveryOp()).Select(row => row[0].GetType()).ToHashSet();
        var all = typeof(Op).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(Op)) && !t.IsAbstract).ToHashSet();
        Assert.Equal(all.OrderBy(t => t.Name), covered.OrderBy(t => t.Name));
    }

    [Theory]
    [MemberData(nameof(EveryOp))]
    public void Every_op_has_shape_inference_a_printer_and_a_float_executor(Op op)
    {
        // NCHW ops read one [1,2,1,3] image; the others a [3,2] matrix; Add and Concat read it twice.
        bool image = op is Conv2d or MaxPool2d or AvgPool2d or GlobalAvgPool;
        int[] shape = image ? [1, 2, 1, 3] : [3, 2];
        var input = new ValueInfo("x", TensorType.Float([TensorType.Dynamic, .. shape[1..]]));
        string[] inputs = [.. Enumerable.Repeat("x", op.InputCount ?? 2)];
        var node = new Node("n", op, [.. inputs], ["y"]);
        TensorType output = ShapeInference.InferNode(node, [.. inputs.Select(_ => input.Type)]);
        var g = new Graph("g", [input], [node], [new ValueInfo("y", output)]);
        Assert.Empty(GraphVerifier.Verify(g));
        Assert.Contains(op.Mnemonic, GraphPrinter.Print(g));
        var y = Cimc.Reference.FloatExecutor.Run(g, new Cimc.Data.NdArray([.. shape], [1, -2, 3, -4, 5, -6]));
        Assert.Equal(output.ElementsFrom(1) * shape[0], y.Data.Length);
    }
}
