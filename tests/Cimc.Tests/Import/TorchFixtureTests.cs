using System.Text.Json;
using Cimc.Data;
using Cimc.Import;
using Cimc.Import.Torch;
using Cimc.Ir;
using Cimc.Reference;

namespace Cimc.Tests.Import;

/// <summary>Every PyTorch fixture of the manifest imports and computes what PyTorch computed.</summary>
public sealed class TorchFixtureTests
{
    private static readonly string[] TorchFormats = ["torchscript", "state_dict", "module"];

    private static string ExtraDir => Path.Combine(TestPaths.Fixtures, "torch-extra");

    /// <summary>Torch entries of the shared manifest and of torch-extra's, as (folder, name).</summary>
    public static TheoryData<string, string> TorchFixtures()
    {
        var data = new TheoryData<string, string>();
        foreach (string dir in new[] { TestPaths.Fixtures, ExtraDir })
        {
            string manifest = Path.Combine(dir, "manifest.json");
            if (!File.Exists(manifest))
            {
                // A missing manifest must fail, not pass vacuously: the test below reports it.
                data.Add(dir, "<missing manifest.json>");
                continue;
            }

            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(manifest));
            foreach (JsonElement f in doc.RootElement.GetProperty("fixtures").EnumerateArray())
            {
                if (TorchFormats.Contains(f.GetProperty("format").GetString()))
                {
                    data.Add(Path.GetFileName(dir), f.GetProperty("name").GetString()!);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(TorchFixtures))]
    public void A_torch_fixture_computes_the_pytorch_output_within_1e4(string folder, string name)
    {
        string dir = folder == "torch-extra" ? ExtraDir : TestPaths.Fixtures;
        string manifest = Path.Combine(dir, "manifest.json");
        Assert.True(File.Exists(manifest), $"missing {manifest}");
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(manifest));
        JsonElement f = doc.RootElement.GetProperty("fixtures").EnumerateArray().Single(e => e.GetProperty("name").GetString() == name);
        string? activation = f.GetProperty("activation").ValueKind == JsonValueKind.String ? f.GetProperty("activation").GetString() : null;
        var options = new ImportOptions(activation is null ? null : ImportOptions.ParseActivation(activation));

        Graph graph = TorchImporter.Import(Path.Combine(dir, f.GetProperty("file").GetString()!), options);
        Assert.Empty(GraphVerifier.Verify(graph));
        Assert.Equal("input", graph.Inputs[0].Name);
        Assert.Equal("output", graph.Outputs[0].Name);
        NdArray input = Npy.Read(Path.Combine(dir, f.GetProperty("input").GetString()!));
        NdArray expected = Npy.Read(Path.Combine(dir, f.GetProperty("expected").GetString()!));
        NdArray actual = FloatExecutor.Run(graph, input);

        AssertClose(expected, actual);
    }

    [Theory]
    [InlineData("mlp.state_dict.pt", "relu")]
    [InlineData("mlp.module.pt", null)]
    [InlineData("mlp.torchscript.pt", null)]
    public void The_fashion_mnist_example_models_give_the_saved_logits(string file, string? activation)
    {
        string dir = Path.Combine(TestPaths.Examples, "fashion-mnist");
        Assert.True(File.Exists(Path.Combine(dir, file)), $"missing {Path.Combine(dir, file)}");
        var options = new ImportOptions(activation is null ? null : ImportOptions.ParseActivation(activation));
        Graph graph = TorchImporter.Import(Path.Combine(dir, file), options);
        NdArray input = Npy.Read(Path.Combine(dir, "sample.npy"));
        NdArray expected = Npy.Read(Path.Combine(dir, "sample_logits.npy"));

        AssertClose(expected, FloatExecutor.Run(graph, input));
    }

    internal static void AssertClose(NdArray expected, NdArray actual)
    {
        Assert.Equal(expected.Data.Length, actual.Data.Length);
        for (int i = 0; i < expected.Data.Length; i++)
        {
            float e = expected.Data[i], a = actual.Data[i];
            Assert.True(Math.Abs(e - a) <= 1e-4f * Math.Max(1f, Math.Abs(e)), $"element {i}: expected {e}, got {a}");
        }
    }
}
