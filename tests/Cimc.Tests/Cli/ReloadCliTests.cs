using System.Text.Json;
using Cimc.Architectures;

namespace Cimc.Tests.Cli;

/// <summary>`--when-too-large` as a user gives it: a network too large for a small chip, refused with what each choice needs, compiled with weight reloading, run and simulated.</summary>
public sealed class ReloadCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cimc-reload-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Example(string name) => Path.Combine(TestPaths.Examples, "fashion-mnist", name);

    /// <summary>isaac cut down to 2 tiles of 4 cores (64 crossbars): the example MLP needs 17 cores, its first layer 14.</summary>
    private string SmallIsaac()
    {
        Architecture isaac = ArchitectureCatalog.Preset("isaac");
        Architecture small = isaac with
        {
            Name = "isaac-2tiles",
            Chip = isaac.Chip with { Tiles = 2, Mesh = new MeshSpec(2, 1) },
            Tile = isaac.Tile with { Cores = 8 },
            Sources = new SourceMap(isaac.Sources.Where(kv => kv.Key != "chip.mesh")),
        };
        string path = Path.Combine(_dir, "small.json");
        File.WriteAllText(path, ArchitectureJson.Write(small));
        return path;
    }

    [Fact]
    public void A_network_too_large_for_the_chip_runs_with_weight_reloading_as_on_a_node_bit_for_bit()
    {
        string arch = SmallIsaac();
        (int exit, _, string error) = CliRunner.Run("compile", Example("mlp.onnx"), "--arch", arch, "--quiet", "-o", Path.Combine(_dir, "refused"));
        Assert.Equal(1, exit);
        Assert.Contains("it needs 2 chips (--chips 2 or --chips auto); --when-too-large multichip adds them, --when-too-large reload cuts it into 2 segments with weight reloading on this chip", error);
        Assert.Single(error.Trim().Split('\n'));

        string reload = Path.Combine(_dir, "reload"), node = Path.Combine(_dir, "node");
        (exit, string output, error) = CliRunner.Run("compile", Example("mlp.onnx"), "--arch", arch, "--when-too-large", "reload", "-o", reload);
        Assert.True(exit == 0, error);
        Assert.Contains("2 segments with weight reloading", output);
        (exit, _, error) = CliRunner.Run("compile", Example("mlp.onnx"), "--arch", arch, "--when-too-large", "multichip", "-o", node);
        Assert.True(exit == 0, error);
        using (JsonDocument summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(reload, "summary.json"))))
        {
            Assert.Equal(2, summary.RootElement.GetProperty("segments").GetInt32());
            Assert.Equal([0, 0, 1], summary.RootElement.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("segment").GetInt32()));
        }

        // The same quantized network with weight reloading on one small chip and on a node of two: the same outputs, bit for bit.
        foreach (string folder in new[] { reload, node })
        {
            (exit, _, error) = CliRunner.Run("run", folder, "--input", Example("sample.npy"), "--output", Path.Combine(folder, "y.npy"));
            Assert.True(exit == 0, error);
        }

        Assert.Equal(File.ReadAllBytes(Path.Combine(node, "y.npy")), File.ReadAllBytes(Path.Combine(reload, "y.npy")));

        (exit, output, error) = CliRunner.Run("simulate", reload, "--json", "--batch", "8");
        Assert.True(exit == 0, error);
        using JsonDocument report = JsonDocument.Parse(output);
        JsonElement r = report.RootElement;
        Assert.Equal(2, r.GetProperty("segments").GetInt32());
        Assert.True(r.GetProperty("reload_cell_writes").GetInt64() > 0);
        Assert.Equal(r.GetProperty("reload_write_energy_nj").GetDouble() / 8, r.GetProperty("reload_write_energy_per_inference_nj").GetDouble(), 9);
        Assert.True(r.GetProperty("energy_breakdown_nj").GetProperty("weight_writes").GetDouble() > 0);
        Assert.Equal(0.25, r.GetProperty("reload_writes_per_cell_per_inference").GetDouble());
        (exit, output, error) = CliRunner.Run("simulate", reload);
        Assert.True(exit == 0, error);
        Assert.Contains("weight reloading", output);

        Assert.Contains("--when-too-large: must be reload, multichip or fail", CliRunner.Run("compile", Example("mlp.onnx"), "--arch", arch, "--when-too-large", "shrink", "-o", reload).Err);
        Assert.Contains("--chips auto sizes the node instead", CliRunner.Run("compile", Example("mlp.onnx"), "--arch", arch, "--when-too-large", "reload", "--chips", "auto", "-o", reload).Err);
        Assert.Contains("cimc run cannot change how", CliRunner.Run("run", reload, "--when-too-large", "reload", "--input", Example("sample.npy"), "--output", Path.Combine(reload, "z.npy")).Err);
        Assert.Contains("version 6 is a segmented program", CliRunner.Run("disasm", Path.Combine(reload, "program.bin")).Err);
    }
}
