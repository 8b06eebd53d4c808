using System.Diagnostics;
using System.Text.Json;
using Cimc.Data;
using Cimc.Diagnostics;
using Cimc.Import;
using Cimc.Import.Onnx;
using Cimc.Ir;
using Cimc.Reference;

namespace Cimc.Tests.Import;

/// <summary>
/// The ONNX files exported by PyTorch (tests/fixtures/manifest.json, examples/fashion-mnist) must
/// compute what PyTorch computed and what ONNX Runtime computes; every hostile ONNX file must be
/// refused with a diagnostic, quickly. A missing manifest or folder fails the tests rather than
/// skipping them.
/// </summary>
public sealed class OnnxFixtureTests
{
    private const string Missing = "<missing>";

    private static string ManifestPath => TestPaths.Fixture("manifest.json");

    public static TheoryData<string> OnnxFixtures()
    {
        var data = new TheoryData<string>();
        List<string> names = File.Exists(ManifestPath) ? [.. Entries().Select(e => e.GetProperty("name").GetString()!)] : [];
        foreach (string name in names.DefaultIfEmpty(Missing))
        {
            data.Add(name);
        }

        return data;
    }

    public static TheoryData<string> HostileOnnxFiles()
    {
        var data = new TheoryData<string>();
        string[] files = Directory.Exists(TestPaths.Hostile) ? Directory.GetFiles(TestPaths.Hostile, "*.onnx") : [];
        foreach (string file in files.Select(f => Path.GetFileName(f)).Order().DefaultIfEmpty(Missing))
        {
            data.Add(file);
        }

        return data;
    }

    private static IEnumerable<JsonElement> Entries()
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(ManifestPath));
        JsonElement root = doc.RootElement;
        JsonElement list = root.ValueKind == JsonValueKind.Array ? root
            : root.TryGetProperty("fixtures", out JsonElement f) ? f : root.GetProperty("models");
        return [.. list.EnumerateArray()
            .Where(e => e.TryGetProperty("format", out JsonElement fmt) && fmt.GetString() == "onnx")
            .Select(e => e.Clone())];
    }

    private static JsonElement Entry(string name)
    {
        Assert.True(name != Missing, $"no ONNX fixtures: {ManifestPath} is missing or lists none");
        return Entries().Single(e => e.GetProperty("name").GetString() == name);
    }

    private static string PathOf(JsonElement entry, string key) => TestPaths.Fixture(entry.GetProperty(key).GetString()!);

    [Theory]
    [MemberData(nameof(OnnxFixtures))]
    public void An_onnx_fixture_computes_what_pytorch_computed(string name)
    {
        JsonElement entry = Entry(name);
        Graph graph = ModelLoader.Load(PathOf(entry, "file"));
        NdArray input = Npy.Read(PathOf(entry, "input"));
        NdArray expected = Npy.Read(PathOf(entry, "expected"));
        NdArray actual = FloatExecutor.Run(graph, input);
        Assert.Equal(expected.Shape.ToArray(), actual.Shape.ToArray());
        Close.Assert(expected.Data, actual.Data);
    }

    [Theory]
    [MemberData(nameof(OnnxFixtures))]
    public void An_onnx_fixture_computes_what_onnx_runtime_computes(string name)
    {
        JsonElement entry = Entry(name);
        string path = PathOf(entry, "file");
        NdArray input = Npy.Read(PathOf(entry, "input"));
        Close.Assert(OnnxRuntimeOracle.Run(path, input), FloatExecutor.Run(ModelLoader.Load(path), input).Data);
    }

    [Theory]
    [MemberData(nameof(OnnxFixtures))]
    public void An_onnx_fixture_has_the_dense_layers_the_manifest_lists(string name)
    {
        JsonElement entry = Entry(name);
        Graph graph = ModelLoader.Load(PathOf(entry, "file"));
        if (!entry.TryGetProperty("layers", out JsonElement layers))
        {
            Assert.NotEmpty(graph.DenseLayers);
            return;
        }

        var expected = layers.EnumerateArray()
            .Select(l => (l.GetProperty("in").GetInt32(), l.GetProperty("out").GetInt32(), l.GetProperty("bias").GetBoolean()));
        var actual = graph.DenseLayers.Select(l => (l.Dense.InFeatures, l.Dense.OutFeatures, l.Dense.Bias is not null));
        Assert.Equal(expected, actual);
    }

    [Theory]
    [MemberData(nameof(HostileOnnxFiles))]
    public void A_hostile_onnx_file_is_refused_with_a_diagnostic_quickly(string file)
    {
        Assert.True(file != Missing, $"no hostile ONNX files in {TestPaths.Hostile}");
        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<CimcException>(() => OnnxImporter.Import(Path.Combine(TestPaths.Hostile, file)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void The_fashion_mnist_example_gives_the_pytorch_logits_and_the_onnx_runtime_logits()
    {
        string dir = Path.Combine(TestPaths.Examples, "fashion-mnist");
        string model = Path.Combine(dir, "mlp.onnx");
        Graph graph = ModelLoader.Load(model);
        Assert.Equal(["dense", "relu", "dense", "relu", "dense"], graph.Nodes.Select(n => n.Op.Mnemonic));
        NdArray sample = Npy.Read(Path.Combine(dir, "sample.npy"));
        float[] ours = FloatExecutor.Run(graph, sample).Data;
        Close.Assert(Npy.Read(Path.Combine(dir, "sample_logits.npy")).Data, ours);
        Close.Assert(OnnxRuntimeOracle.Run(model, sample), ours);
    }
}
