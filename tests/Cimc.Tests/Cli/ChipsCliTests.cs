using System.Text.Json;
using Cimc.Architectures;

namespace Cimc.Tests.Cli;

/// <summary>`--chips N|auto` as a user gives it: a network too large for one chip, compiled for a node and run.</summary>
public sealed class ChipsCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cimc-chips-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Example(string name) => Path.Combine(TestPaths.Examples, "fashion-mnist", name);

    /// <summary>isaac cut down to one tile of 4 cores (32 crossbars): the example MLP needs 17 cores, so 5 chips.</summary>
    private string SmallIsaac()
    {
        Architecture isaac = ArchitectureCatalog.Preset("isaac");
        Architecture small = isaac with
        {
            Name = "isaac-1tile",
            Chip = isaac.Chip with { Tiles = 1, Mesh = new MeshSpec(1, 1) },
            Tile = isaac.Tile with { Cores = 4 },
            Sources = new SourceMap(isaac.Sources.Where(kv => kv.Key != "chip.mesh")),
        };
        string path = Path.Combine(_dir, "small.json");
        File.WriteAllText(path, ArchitectureJson.Write(small));
        return path;
    }

    [Fact]
    public void A_network_larger_than_one_chip_is_refused_with_the_chips_it_needs_and_runs_on_them_bit_exactly()
    {
        string arch = SmallIsaac();
        (int exit, _, string error) = CliRunner.Run("compile", Example("mlp.onnx"), "--arch", arch, "-o", Path.Combine(_dir, "one"));
        Assert.Equal(1, exit);
        Assert.Contains("it needs 5 chips (--chips 5 or --chips auto)", error);

        string node = Path.Combine(_dir, "node"), single = Path.Combine(_dir, "isaac");
        (exit, _, error) = CliRunner.Run("compile", Example("mlp.onnx"), "--arch", arch, "--chips", "auto", "-o", node);
        Assert.True(exit == 0, error);
        Assert.Equal(0, CliRunner.Run("compile", Example("mlp.onnx"), "--arch", "isaac", "-o", single).Exit);
        using (JsonDocument summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(node, "summary.json"))))
        {
            Assert.Equal(5 * 32, summary.RootElement.GetProperty("crossbars_available").GetInt32());
            Assert.Equal(5, summary.RootElement.GetProperty("chips").GetInt32());
            Assert.Equal(5, summary.RootElement.GetProperty("chips_used").GetInt32());
        }

        // The same quantized network on one isaac chip and on 5 small chips: the same outputs, bit for bit.
        foreach (string folder in new[] { node, single })
        {
            (exit, _, error) = CliRunner.Run("run", folder, "--input", Example("sample.npy"), "--output", Path.Combine(folder, "y.npy"));
            Assert.True(exit == 0, error);
        }

        Assert.Equal(File.ReadAllBytes(Path.Combine(single, "y.npy")), File.ReadAllBytes(Path.Combine(node, "y.npy")));

        (exit, string output, error) = CliRunner.Run("simulate", node, "--json");
        Assert.True(exit == 0, error);
        using JsonDocument report = JsonDocument.Parse(output);
        Assert.Equal(5, report.RootElement.GetProperty("chips").GetInt32());
        Assert.True(report.RootElement.GetProperty("offchip_bytes").GetInt64() > 0);
        Assert.True(report.RootElement.GetProperty("offchip_energy_nj").GetDouble() > 0);

        Assert.Equal(1, CliRunner.Run("compile", Example("mlp.onnx"), "--arch", arch, "--chips", "0", "-o", node).Exit);
        Assert.Contains("--chips: must be a whole number or auto", CliRunner.Run("compile", Example("mlp.onnx"), "--arch", arch, "--chips", "many", "-o", node).Err);
    }
}
