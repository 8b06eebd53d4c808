using Cimc.Architectures;
using Cimc.Data;
using Cimc.Diagnostics;
using Cimc.Import.Onnx;
using Cimc.Import.Onnx.Proto;
using Cimc.Ir;
using Cimc.Quantization;
using Cimc.Reference;
using Cimc.Simulation;
using Google.Protobuf;
using static Cimc.Tests.Import.OnnxModels;

namespace Cimc.Tests.Compile;

/// <summary>
/// ReLU6 (Clip(0, 6)) compiles as the ReLU clamp with the output range held within [0, 6], so the
/// top code is the clip; other clips and a final LogSoftmax are refused at compile in one line.
/// </summary>
public sealed class ClipCompileTests
{
    private static Graph Mlp(string activation, params float[] bounds)
    {
        NodeProto act = activation == "Clip"
            ? Node("Clip", ["h", "lo", "hi"], ["a"], "act")
            : Node(activation, ["h"], ["a"], "act");
        ModelProto model = Model(
            [
                Node("Gemm", ["x", "w1", "b1"], ["h"], "fc1", Int("transB", 1)),
                act,
                Node("Gemm", ["a", "w2", "b2"], ["y"], "fc2", Int("transB", 1)),
            ],
            [
                Floats("w1", [16, 8], Random(128, 1)), Floats("b1", [16], Random(16, 2)),
                Floats("w2", [4, 16], Random(64, 3)), Floats("b2", [4], Random(4, 4)),
                .. bounds.Length == 2 ? new[] { Floats("lo", [], [bounds[0]]), Floats("hi", [], [bounds[1]]) } : [],
            ],
            [-1, 8]);
        return OnnxImporter.Import(model.ToByteArray(), activation + ".onnx");
    }

    private static NdArray Inputs(int rows, int seed) => new([rows, 8], Random(rows * 8, seed, 6f));

    private static NdArray Simulate(Compilation c, NdArray x) =>
        new FunctionalSimulator(c.Program!, c.Weights!).Run(x);

    private static double MaxError(NdArray expected, NdArray actual) =>
        expected.Data.Zip(actual.Data).Max(p => Math.Abs(p.First - p.Second));

    [Fact]
    public void Relu6_compiles_as_the_relu_clamp_with_its_top_code_at_six()
    {
        Graph relu6 = Mlp("Clip", 0f, 6f);
        NdArray calibration = Inputs(64, 7), x = Inputs(32, 8);
        Architecture isaac = ArchitectureCatalog.Preset("isaac");
        var options = new QuantizationOptions(WeightBits: 8, ActivationBits: 8);
        Compilation c = Compiler.Compile(relu6, isaac, options, calibration);

        QuantizedLayer hidden = c.Quantized!.Layers[0];
        Assert.Equal(ActivationKind.Relu, hidden.Activation);
        double top = hidden.Output!.Dequantize(hidden.Output.Max);
        Assert.InRange(top, 5.999, 6.0 + 1e-9);

        // The hidden layer does exceed 6 on these inputs, so the clip matters.
        NdArray pre = FloatExecutor.Apply(relu6.Nodes[0], calibration);
        Assert.Contains(pre.Data, v => v > 7f);

        // The program computes ReLU6 within 8-bit quantization error (as large as a plain ReLU
        // network's own, about 1 % of the output range); the same weights with a plain ReLU give a
        // float answer further off than that by an order of magnitude.
        NdArray expected = FloatExecutor.Run(relu6, x);
        double error = MaxError(expected, Simulate(c, x));
        double reluDifference = MaxError(expected, FloatExecutor.Run(Mlp("Relu"), x));
        Graph relu = Mlp("Relu");
        double reluError = MaxError(FloatExecutor.Run(relu, x), Simulate(Compiler.Compile(relu, isaac, options, calibration), x));
        double scale = expected.Data.Max(Math.Abs);
        Assert.True(error < 0.02 * scale && error < 1.5 * reluError, $"error {error}, ReLU's own error {reluError}, outputs up to {scale}");
        Assert.True(reluDifference > 20 * error, $"ReLU differs by {reluDifference}, the program errs by {error}");
    }

    [Fact]
    public void A_clip_that_is_not_from_zero_is_refused_at_compile_in_one_line()
    {
        var e = Assert.Throws<CimcException>(() => Compiler.Compile(Mlp("Clip", -1f, 1f), ArchitectureCatalog.Preset("isaac"), new QuantizationOptions(), Inputs(8, 1)));
        Assert.Contains("clip to [-1, 1] cannot be compiled", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_final_log_softmax_is_refused_at_compile_in_one_line()
    {
        ModelProto model = Model(
            [Node("Gemm", ["x", "w", "b"], ["h"], "fc", Int("transB", 1)), Node("LogSoftmax", ["h"], ["y"], "head", Int("axis", 1))],
            [Floats("w", [4, 8], Random(32, 1)), Floats("b", [4], Random(4, 2))],
            [-1, 8]);
        Graph graph = OnnxImporter.Import(model.ToByteArray(), "head.onnx");
        var e = Assert.Throws<CimcException>(() => Compiler.Compile(graph, ArchitectureCatalog.Preset("isaac"), new QuantizationOptions(), Inputs(8, 1)));
        Assert.Contains("log_softmax", e.Message);
        Assert.Contains("not compiled", e.Message);
    }
}
