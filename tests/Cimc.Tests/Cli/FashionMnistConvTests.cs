using System.Text.Json;
using Cimc.Data;
using Cimc.Evaluation;
using Cimc.Import;
using Cimc.Import.Onnx.Proto;
using Cimc.Ir;
using Cimc.Reference;
using Cimc.Tests.Import;

namespace Cimc.Tests.Cli;

/// <summary>
/// The shipped convolutional Fashion-MNIST examples (LeNet-5, and a small residual network with
/// batch norm), as ONNX at opset 13, traced and scripted TorchScript and (LeNet) a whole module:
/// the float reference gives PyTorch's outputs.
/// </summary>
public sealed class FashionMnistConvTests
{
    private static string Example(string name) => Path.Combine(TestPaths.Examples, "fashion-mnist", name);

    private static string Stem(string file) => file[..file.IndexOf('.', StringComparison.Ordinal)];

    private static readonly Lazy<(NdArray Images, Labels Labels)> TestSet = new(() =>
        (Idx.Read(Example("t10k-images-idx3-ubyte.gz")).DivideBy(255f), Idx.ReadLabels(Example("t10k-labels-idx1-ubyte.gz"))));

    public static TheoryData<string> Files() =>
        ["lenet.onnx", "lenet.torchscript.pt", "lenet.scripted.pt", "lenet.module.pt", "resnet.onnx", "resnet.torchscript.pt", "resnet.scripted.pt"];

    [Theory]
    [MemberData(nameof(Files))]
    public void The_float_reference_gives_pytorch_s_logits_within_1e_4(string file)
    {
        Graph graph = ModelLoader.Load(Example(file));
        NdArray logits = FloatExecutor.Run(graph, Npy.Read(Example("sample_images.npy")));
        NdArray expected = Npy.Read(Example($"{Stem(file)}_sample_logits.npy"));
        Assert.Equal(expected.Shape.ToArray(), logits.Shape.ToArray());
        Close.Assert(expected.Data, logits.Data, abs: 1e-4, rel: 0);
    }

    [Theory]
    [InlineData("lenet.onnx")]
    [InlineData("resnet.onnx")]
    public void The_float_reference_gives_onnx_runtime_s_logits_within_1e_4_on_a_thousand_test_images(string file)
    {
        // IDX images are N x 28 x 28; the model reads them as N x 1 x 28 x 28.
        NdArray images = TestSet.Value.Images.Take(1000);
        float[] ours = FloatExecutor.Run(ModelLoader.Load(Example(file)), images).Data;
        Close.Assert(OnnxRuntimeOracle.Run(Example(file), images), ours, abs: 1e-4, rel: 0);
    }

    [Fact]
    public void The_resnet_file_keeps_its_batch_norms_and_the_import_folds_them_into_the_convolutions()
    {
        ModelProto model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Example("resnet.onnx")));
        Assert.Equal(6, model.Graph.Node.Count(n => n.OpType == "BatchNormalization"));
        Assert.Equal(13, model.OpsetImport.Single().Version);
        foreach (string file in new[] { "resnet.onnx", "resnet.torchscript.pt", "resnet.scripted.pt" })
        {
            Graph graph = ModelLoader.Load(Example(file));
            Assert.Equal(6, graph.ConvLayers.Count());
            Assert.All(graph.ConvLayers, c => Assert.NotNull(c.Conv.Bias));
            Assert.Equal(2, graph.Nodes.Count(n => n.Op is Add));
            Assert.Single(graph.Nodes, n => n.Op is GlobalAvgPool);
            Assert.Single(graph.Nodes, n => n.Op is MaxPool2d);
        }
    }

    [Trait("tier", "slow")]
    [Theory]
    [MemberData(nameof(Files))]
    public void The_float_model_predicts_pytorch_s_class_on_every_test_image(string file)
    {
        Graph graph = ModelLoader.Load(Example(file));
        (NdArray images, Labels labels) = TestSet.Value;
        AccuracyResult result = Accuracy.Evaluate(x => FloatExecutor.Run(graph, x), images, labels);
        int[] pytorch = [.. Npy.ReadLabels(Example($"{Stem(file)}_predictions.npy")).Values];
        Assert.Equal(0, result.Predictions.Zip(pytorch).Count(p => p.First != p.Second));
    }

    [Fact]
    public void Cimc_accuracy_without_a_chip_counts_the_classes_pytorch_predicts()
    {
        (int exit, string output, string error) = CliRunner.Run("accuracy", Example("lenet.onnx"),
            "--images", Example("t10k-images-idx3-ubyte.gz"), "--labels", Example("t10k-labels-idx1-ubyte.gz"), "--divide-by", "255", "--limit", "1000", "--json");
        Assert.True(exit == 0, error);
        using JsonDocument doc = JsonDocument.Parse(output);
        int[] pytorch = [.. Npy.ReadLabels(Example("lenet_predictions.npy")).Values.Take(1000)];
        int pytorchCorrect = pytorch.Zip(TestSet.Value.Labels.Values).Count(p => p.First == p.Second);
        Assert.Equal(pytorchCorrect, doc.RootElement.GetProperty("correct").GetInt32());
        Assert.Equal(1000, doc.RootElement.GetProperty("total").GetInt32());
    }

    [Trait("tier", "slow")]
    [Fact]
    public void Cimc_accuracy_of_the_float_resnet_equals_pytorch_s_on_the_full_test_set()
    {
        (int exit, string output, string error) = CliRunner.Run("accuracy", Example("resnet.onnx"),
            "--images", Example("t10k-images-idx3-ubyte.gz"), "--labels", Example("t10k-labels-idx1-ubyte.gz"), "--divide-by", "255", "--json");
        Assert.True(exit == 0, error);
        using JsonDocument doc = JsonDocument.Parse(output);
        using JsonDocument expected = JsonDocument.Parse(File.ReadAllText(Example("conv_accuracy.json")));
        Assert.Equal(expected.RootElement.GetProperty("resnet").GetProperty("correct").GetInt32(), doc.RootElement.GetProperty("correct").GetInt32());
    }

    [Fact]
    public void Cimc_infer_reads_idx_images_as_one_channel_nchw()
    {
        // The 16 sample images back as an IDX file of bytes (N x 28 x 28, as MNIST ships them).
        using var dir = new TempDir();
        NdArray sample = Npy.Read(Example("sample_images.npy"));
        byte[] header = [0, 0, 0x08, 3, 0, 0, 0, 16, 0, 0, 0, 28, 0, 0, 0, 28];
        File.WriteAllBytes(dir.File("images.idx"), [.. header, .. sample.Data.Select(v => (byte)Math.Round(v * 255f))]);
        string output = dir.File("y.npy");
        (int exit, _, string error) = CliRunner.Run("infer", Example("resnet.scripted.pt"), "--input", dir.File("images.idx"), "--divide-by", "255", "--output", output);
        Assert.True(exit == 0, error);
        NdArray y = Npy.Read(output);
        Assert.Equal([16, 10], y.Shape.ToArray());
        Close.Assert(Npy.Read(Example("resnet_sample_logits.npy")).Data, y.Data, abs: 1e-4, rel: 0);
    }

    [Theory]
    [Trait("tier", "slow")]
    [InlineData("compile", "lenet.onnx", "--arch", "isaac", "-o", "{dir}")]
    [InlineData("compile", "resnet.onnx", "--arch", "isaac", "--verify", "-o", "{dir}")]
    [InlineData("simulate", "resnet.onnx", "--arch", "isaac")]
    [InlineData("accuracy", "lenet.onnx", "--arch", "isaac", "--images", "{images}", "--labels", "{labels}", "--divide-by", "255", "--limit", "200")]
    public void Convolutional_networks_compile_simulate_and_run_on_isaac(params string[] args)
    {
        using var dir = new TempDir();
        string[] resolved = [.. args.Select(a => a switch
        {
            "{dir}" => dir.File("out"),
            "{images}" => Example("t10k-images-idx3-ubyte.gz"),
            "{labels}" => Example("t10k-labels-idx1-ubyte.gz"),
            _ when a.EndsWith(".onnx", StringComparison.Ordinal) || a.EndsWith(".pt", StringComparison.Ordinal) => Example(a),
            _ => a,
        })];
        (int exit, string output, string error) = CliRunner.Run(resolved);
        Assert.True(exit == 0, error);
        Assert.Contains(args[0] switch { "compile" => $"compiled {args[1][..args[1].IndexOf('.')]} for isaac", "simulate" => "latency", _ => "compiled for isaac" }, output + error);
    }

    [Fact]
    public void A_convolutional_state_dict_says_in_one_line_that_it_cannot_carry_the_structure()
    {
        (int exit, _, string error) = CliRunner.Run("inspect", Example("lenet.state_dict.pt"));
        Assert.Equal(1, exit);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("cannot carry", error);
        Assert.Contains("'0.weight'", error);
    }
}
