using System.Text.Json;
using Cimc.Data;
using Cimc.Evaluation;
using Cimc.Import;
using Cimc.Ir;
using Cimc.Reference;

namespace Cimc.Tests.Cli;

/// <summary>The shipped Fashion-MNIST example, in each file format PyTorch users have.</summary>
public sealed class FashionMnistTests
{
    private static string Example(string name) => Path.Combine(TestPaths.Examples, "fashion-mnist", name);

    private static readonly Lazy<(NdArray Images, Labels Labels)> TestSet = new(() =>
        (Idx.Read(Example("t10k-images-idx3-ubyte.gz")).DivideBy(255f), Idx.ReadLabels(Example("t10k-labels-idx1-ubyte.gz"))));

    [Trait("tier", "slow")]
    [Theory]
    [InlineData("mlp.onnx", null)]
    [InlineData("mlp.torchscript.pt", null)]
    [InlineData("mlp.state_dict.pt", "relu")]
    [InlineData("mlp.module.pt", null)]
    public void The_float_model_predicts_the_same_class_as_pytorch_on_every_test_image(string file, string? activation)
    {
        Graph graph = ModelLoader.Load(Example(file), new ImportOptions(activation is null ? null : ImportOptions.ParseActivation(activation)));
        (NdArray images, Labels labels) = TestSet.Value;
        AccuracyResult result = Accuracy.Evaluate(x => FloatExecutor.Run(graph, x), images, labels);
        int[] pytorch = [.. Npy.ReadLabels(Example("pytorch_predictions.npy")).Values];
        Assert.Equal(10000, result.Total);
        int differing = result.Predictions.Zip(pytorch).Count(p => p.First != p.Second);
        Assert.Equal(0, differing);
    }

    [Trait("tier", "slow")]
    [Fact]
    public void Cimc_accuracy_json_equals_pytorch_accuracy_on_the_full_test_set()
    {
        (int exit, string output, string error) = CliRunner.Run("accuracy", Example("mlp.onnx"),
            "--images", Example("t10k-images-idx3-ubyte.gz"), "--labels", Example("t10k-labels-idx1-ubyte.gz"), "--divide-by", "255", "--json");
        Assert.True(exit == 0, error);
        using JsonDocument doc = JsonDocument.Parse(output);
        using JsonDocument expected = JsonDocument.Parse(File.ReadAllText(Example("pytorch_accuracy.json")));
        Assert.Equal(expected.RootElement.GetProperty("correct").GetInt32(), doc.RootElement.GetProperty("correct").GetInt32());
        Assert.Equal(10000, doc.RootElement.GetProperty("total").GetInt32());
        Assert.Equal(expected.RootElement.GetProperty("accuracy").GetDouble(), doc.RootElement.GetProperty("accuracy").GetDouble(), 1e-9);
    }

    [Fact]
    public void Cimc_infer_writes_pytorch_s_logits_within_1e_4()
    {
        string outPath = Path.Combine(Path.GetTempPath(), $"cimc-infer-{Guid.NewGuid():N}.npy");
        try
        {
            (int exit, _, string error) = CliRunner.Run("infer", Example("mlp.torchscript.pt"), "--input", Example("sample.npy"), "--output", outPath);
            Assert.True(exit == 0, error);
            NdArray ours = Npy.Read(outPath), theirs = Npy.Read(Example("sample_logits.npy"));
            Assert.Equal(theirs.Shape.ToArray(), ours.Shape.ToArray());
            Assert.All(ours.Data.Zip(theirs.Data), p => Assert.Equal(p.Second, p.First, 1e-4));
        }
        finally
        {
            File.Delete(outPath);
        }
    }

    [Fact]
    public void Cimc_inspect_reports_layers_shapes_and_parameter_count()
    {
        (int exit, string output, _) = CliRunner.Run("inspect", Example("mlp.state_dict.pt"), "--activation", "relu", "--json");
        Assert.Equal(0, exit);
        using JsonDocument doc = JsonDocument.Parse(output);
        Assert.Equal((784 * 256) + 256 + (256 * 128) + 128 + (128 * 10) + 10, doc.RootElement.GetProperty("parameter_count").GetInt64());
        Assert.Equal(3, doc.RootElement.GetProperty("dense_layers").GetInt32());
        (int exitNoAct, _, string error) = CliRunner.Run("inspect", Example("mlp.state_dict.pt"));
        Assert.Equal(1, exitNoAct);
        Assert.Contains("--activation", error);
    }
}
