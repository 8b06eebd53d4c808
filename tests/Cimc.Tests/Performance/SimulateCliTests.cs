using System.Diagnostics;
using System.Text.Json;
using Cimc.Architectures;
using Cimc.Tests.Cli;
using Xunit.Abstractions;

namespace Cimc.Tests.Performance;

public sealed class SimulateCliTests(ITestOutputHelper output)
{
    private static readonly string[] RequiredFields =
        ["latency_ns", "throughput_per_s", "energy_nj", "energy_breakdown_nj", "area_mm2", "area_breakdown_mm2", "counts", "lower_bound_latency_ns",
         "energy_per_inference_steady_nj", "area_used_mm2", "tops_per_mm2_used", "warnings"];

    [Theory]
    [InlineData("isaac")]
    [InlineData("puma")]
    [InlineData("edge")]
    public void Simulate_on_the_shipped_example_writes_a_report_with_every_contract_field(string preset)
    {
        using var temp = new TempDir("cimc-sim-");
        string dir = temp.Path;
        string model = Path.Combine(TestPaths.Examples, "fashion-mnist", "mlp.onnx");
        (int exit, string text, string err) = CliRunner.Run("simulate", model, "--arch", preset, "-o", dir, "--batch", "4");
        Assert.True(exit == 0, err);
        Assert.Contains("lower bound", text);
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "report.json")));
        foreach (string field in RequiredFields)
        {
            Assert.True(doc.RootElement.TryGetProperty(field, out _), $"report.json lacks {field}");
        }

        Assert.True(doc.RootElement.GetProperty("latency_ns").GetDouble() >= doc.RootElement.GetProperty("lower_bound_latency_ns").GetDouble());
        JsonElement peak = doc.RootElement.GetProperty("peak");
        Assert.Equal(doc.RootElement.GetProperty("area_mm2").GetDouble(), peak.GetProperty("area_mm2").GetDouble(), 6);
        Assert.True(peak.GetProperty("peak_tops").GetDouble() * 1e12 >= doc.RootElement.GetProperty("throughput_per_s").GetDouble() * 2 * doc.RootElement.GetProperty("macs").GetDouble(), "a model cannot beat the chip's peak");
        output.WriteLine(text);
    }

    [Fact]
    public void Simulate_reads_a_compiled_folder_and_report_writes_a_self_contained_html_page()
    {
        using var temp = new TempDir("cimc-sim-");
        string dir = temp.Path;
        string model = Path.Combine(TestPaths.Examples, "fashion-mnist", "mlp.onnx");
        Assert.Equal(0, CliRunner.Run("compile", model, "--arch", "edge", "-o", dir).Exit);
        (int exit, string json, string err) = CliRunner.Run("simulate", dir, "--json");
        Assert.True(exit == 0, err);
        using (JsonDocument doc = JsonDocument.Parse(json))
        {
            Assert.Equal("edge", doc.RootElement.GetProperty("arch").GetString());
        }

        string html = Path.Combine(dir, "report.html");
        (exit, _, err) = CliRunner.Run("report", dir, "-o", html);
        Assert.True(exit == 0, err);
        string page = File.ReadAllText(html);
        Assert.DoesNotContain("http://", page.Replace("http://www.w3.org/2000/svg", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.DoesNotContain("https://", page, StringComparison.Ordinal);
        Assert.Contains("<svg", page);
        System.Xml.Linq.XDocument.Parse(page.Replace("<!DOCTYPE html>", "", StringComparison.Ordinal)); // well-formed markup
    }

    [Fact]
    public void Simulate_refuses_an_architecture_file_without_costs_in_one_line()
    {
        using var temp = new TempDir("cimc-sim-");
        string dir = temp.Path;
        Architecture edge = ArchitectureCatalog.Preset("edge") with { Costs = null };
        string file = Path.Combine(dir, "nocost.json");
        File.WriteAllText(file, ArchitectureJson.Write(edge));
        string model = Path.Combine(TestPaths.Examples, "fashion-mnist", "mlp.onnx");
        (int exit, _, string err) = CliRunner.Run("simulate", model, "--arch", file, "-o", dir);
        Assert.Equal(1, exit);
        Assert.Contains("no costs object", err);
    }

    /// <summary>PUMA's MLP-L4 on the puma preset: figures for docs/cost-model.md; the simulate time is printed, not asserted.</summary>
    [Fact]
    public void Puma_mlp_l4_compiles_and_simulates_on_puma()
    {
        Architecture puma = ArchitectureCatalog.Preset("puma");
        Compilation c = PerformanceFixtures.PumaMlpL4(puma);
        using var temp = new TempDir("cimc-l4-");
        string dir = temp.Path;
        c.Program!.Save(Path.Combine(dir, "program.bin"));
        c.Weights!.Save(Path.Combine(dir, "weights.bin"));
        File.WriteAllText(Path.Combine(dir, "summary.json"), JsonSerializer.Serialize(c.Summary(), new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
        var clock = Stopwatch.StartNew();
        (int exit, string text, string err) = CliRunner.Run("simulate", dir);
        clock.Stop();
        Assert.True(exit == 0, err);
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "report.json")));
        Assert.Equal(1024L * 1024 + (1024 * 2048) + (2048 * 1024) + (1024 * 10), doc.RootElement.GetProperty("macs").GetInt64());
        output.WriteLine($"cimc simulate took {clock.ElapsedMilliseconds} ms (in-process, warm JIT after compile)");
        output.WriteLine(text);
    }
}
