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

    public static TheoryData<string> TorchFixtures()
    {
        string manifest = TestPaths.Fixture("manifest.json");
        var data = new TheoryData<string>();
        if (!File.Exists(manifest))
        {
            // A missing manifest must fail, not pass vacuously: the test below reports it.
            data.Add("<missing manifest.json>");
            return data;
        }

        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(manifest));
        foreach (JsonElement f in doc.RootElement.GetProperty("fixtures").EnumerateArray())
        {
            if (TorchFormats.Contains(f.GetProperty("format").GetString()))
            {
                data.Add(f.GetProperty("name").GetString()!);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(TorchFixtures))]
    public void A_torch_fixture_computes_the_pytorch_output_within_1e4(string name)
    {
        Assert.True(File.Exists(TestPaths.Fixture("manifest.json")), $"missing {TestPaths.Fixture("manifest.json")}");
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("manifest.json")));
        JsonElement f = doc.RootElement.GetProperty("fixtures").EnumerateArray().Single(e => e.GetProperty("name").GetString() == name);
        string? activation = f.GetProperty("activation").ValueKind == JsonValueKind.String ? f.GetProperty("activation").GetString() : null;
        var options = new ImportOptions(activation is null ? null : ImportOptions.ParseActivation(activation));

        Graph graph = TorchImporter.Import(TestPaths.Fixture(f.GetProperty("file").GetString()!), options);
        GraphVerifier.EnsureValid(graph);
        NdArray input = Npy.Read(TestPaths.Fixture(f.GetProperty("input").GetString()!));
        NdArray expected = Npy.Read(TestPaths.Fixture(f.GetProperty("expected").GetString()!));
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
