using System.Text.Json;
using System.Text.Json.Nodes;
using Cimc.Architectures;
using Cimc.Cli;

namespace Cimc.Tests.Cli;

/// <summary>The compiled folder as one typed artifact: damage is one line, and it keeps the chip it was compiled for.</summary>
public sealed class CompiledFolderCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cimc-folder-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Example(string name) => Path.Combine(TestPaths.Examples, "fashion-mnist", name);

    private string Compile(params string[] extra)
    {
        string dir = Path.Combine(_dir, "out");
        (int exit, _, string error) = CliRunner.Run(["compile", Example("mlp.onnx"), "-o", dir, "-q", .. extra]);
        Assert.True(exit == 0, error);
        return dir;
    }

    [Theory]
    [InlineData("{\"model\": 3")]
    [InlineData("[1, 2, 3]")]
    [InlineData("{\"model\": \"m\", \"arch\": \"isaac\", \"layers\": [null]}")]
    [InlineData("{\"model\": \"m\", \"arch\": \"isaac\"}")]
    [InlineData("")]
    public void A_damaged_summary_is_one_line_and_exit_1_for_simulate_run_and_report(string summary)
    {
        string dir = Compile("--arch", "isaac");
        File.WriteAllText(Path.Combine(dir, "summary.json"), summary);
        foreach (string[] args in new[]
        {
            new[] { "simulate", dir },
            ["run", dir, "--input", Example("sample.npy"), "--output", Path.Combine(_dir, "y.npy")],
            ["report", dir, "-o", Path.Combine(_dir, "r.html")],
        })
        {
            (int exit, _, string error) = CliRunner.Run(args);
            Assert.True(exit == CliApp.UserError, $"{args[0]}: {error}");
            Assert.Single(error.TrimEnd().Split('\n'));
            Assert.Contains("summary.json", error);
        }
    }

    [Fact]
    public void A_layer_placed_on_a_core_the_chip_lacks_is_reported_not_crashed_on()
    {
        string dir = Compile("--arch", "edge");
        string path = Path.Combine(dir, "summary.json");
        JsonObject json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        json["layers"]![0]!["cores"] = new JsonArray(1_000_000);
        File.WriteAllText(path, json.ToJsonString());
        (int exit, _, string error) = CliRunner.Run("simulate", dir);
        Assert.Equal(CliApp.UserError, exit);
        Assert.Contains("core", error);
    }

    [Fact]
    public void A_program_compiled_for_a_custom_architecture_file_simulates_without_that_file()
    {
        JsonObject arch = JsonNode.Parse(ArchitectureJson.Write(ArchitectureCatalog.Preset("isaac")))!.AsObject();
        arch["name"] = "isaac-6t";
        arch["core"]!["adc"]!["bits"] = 6;
        string file = Path.Combine(_dir, "isaac-6t.json");
        File.WriteAllText(file, arch.ToJsonString());
        string dir = Compile("--arch", file);
        File.Delete(file);

        (int exit, string output, string error) = CliRunner.Run("simulate", dir, "--json");
        Assert.True(exit == 0, error);
        using JsonDocument report = JsonDocument.Parse(output);
        Assert.Equal("isaac-6t", report.RootElement.GetProperty("arch").GetString());
    }

    [Fact]
    public void A_preset_compiled_with_other_bits_is_simulated_with_those_bits()
    {
        // Before, summary.json kept only "isaac": simulate reloaded the preset (8-bit ADCs) and refused the program.
        string dir = Compile("--arch", "isaac", "--adc-bits", "6");
        (int exit, _, string error) = CliRunner.Run("simulate", dir);
        Assert.True(exit == 0, error);
    }

    [Fact]
    public void The_summary_keeps_its_fields_and_reads_back_as_the_same_summary()
    {
        string dir = Compile("--arch", "puma");
        var folder = CompiledFolder.Read(dir);
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")));
        foreach (string key in new[] { "model", "arch", "weight_bits", "activation_bits", "crossbars_used", "crossbars_available", "utilization", "layers", "host_softmax", "architecture" })
        {
            Assert.True(doc.RootElement.TryGetProperty(key, out _), key);
        }

        Assert.Equal(doc.RootElement.GetProperty("crossbars_used").GetInt32(), folder.Summary!.CrossbarsUsed);
        Assert.Equal(ArchitectureCatalog.Preset("puma"), folder.Architecture);
    }
}
