using System.Text.Json;

namespace Cimc.Tests.Cli;

/// <summary>
/// The obvious commands work without calibration data and say what they assumed; every file picked
/// up by itself is named (issue 12, part 1).
/// </summary>
public sealed class DefaultsCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cimc-defaults-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Example(string name) => Path.Combine(TestPaths.Examples, "fashion-mnist", name);

    /// <summary>The shipped model alone in a folder: no calibration.npy beside it.</summary>
    private string LoneModel()
    {
        string path = Path.Combine(_dir, "lone", "mlp.onnx");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.Copy(Example("mlp.onnx"), path, overwrite: true);
        return path;
    }

    private static double[] InputRange(string folder)
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "summary.json")));
        return [.. doc.RootElement.GetProperty("input_range").EnumerateArray().Select(e => e.GetDouble())];
    }

    [Fact]
    public void Compile_without_calibration_data_bounds_ranges_from_the_declared_input_range_and_says_so()
    {
        string outDir = Path.Combine(_dir, "out");
        (int exit, _, string error) = CliRunner.Run("compile", LoneModel(), "--arch", "isaac", "-o", outDir);
        Assert.True(exit == 0, error);
        Assert.Single(error.TrimEnd().Split('\n'), l => l.StartsWith("cimc: note: ", StringComparison.Ordinal));
        Assert.Contains("no calibration data", error);
        Assert.Contains("[0, 1]", error);
        Assert.Contains("--calibration-data", error);
        Assert.Equal(new[] { 0.0, 1.0 }, InputRange(outDir));

        // A declared range is what the input codes then cover.
        string wide = Path.Combine(_dir, "wide");
        Assert.Equal(0, CliRunner.Run("compile", LoneModel(), "--arch", "isaac", "--input-range", "0,255", "-o", wide).Exit);
        Assert.Equal(new[] { 0.0, 255.0 }, InputRange(wide));
    }

    [Fact]
    public void Compile_names_the_calibration_file_it_picks_up_beside_the_model()
    {
        (int exit, _, string error) = CliRunner.Run("compile", Example("mlp.onnx"), "--arch", "edge", "-o", Path.Combine(_dir, "out"));
        Assert.True(exit == 0, error);
        Assert.Contains(Path.GetFullPath(Example("calibration.npy")), error);
        Assert.Contains("beside the model", error);
    }

    [Fact]
    public void Quiet_keeps_notes_off_stderr()
    {
        (int exit, _, string error) = CliRunner.Run("compile", Example("mlp.onnx"), "--arch", "edge", "-o", Path.Combine(_dir, "out"), "--quiet");
        Assert.True(exit == 0, error);
        Assert.All(error.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => Assert.StartsWith("cimc: warning: ", l)); // warnings stay (edge's 8-bit ADC)
    }

    [Fact]
    public void Simulate_a_model_needs_no_calibration_data()
    {
        string outDir = Path.Combine(_dir, "sim");
        (int exit, string output, string error) = CliRunner.Run("simulate", LoneModel(), "--arch", "puma", "-o", outDir);
        Assert.True(exit == 0, error);
        Assert.Contains("do not depend on them", error);
        Assert.Contains("mlp on puma", output);
        Assert.True(File.Exists(Path.Combine(outDir, "report.json")));
    }

    [Fact]
    public void Accuracy_without_calibration_data_calibrates_on_a_held_out_slice_and_evaluates_the_rest()
    {
        (int exit, string output, string error) = CliRunner.Run("accuracy", LoneModel(), "--arch", "isaac", "--weight-bits", "8", "--activation-bits", "8",
            "--images", Example("t10k-images-idx3-ubyte.gz"), "--labels", Example("t10k-labels-idx1-ubyte.gz"), "--divide-by", "255", "--limit", "200", "--json");
        Assert.True(exit == 0, error);
        Assert.Contains("the first 40 images", error);
        Assert.Contains("the other 160", error);
        using JsonDocument doc = JsonDocument.Parse(output);
        Assert.Equal(160, doc.RootElement.GetProperty("total").GetInt32());
        Assert.Contains("first 40 images", doc.RootElement.GetProperty("calibration").GetString());

        // Calibrated on real images, 8 bits stay close to float on the held-out ones.
        Assert.InRange(doc.RootElement.GetProperty("accuracy").GetDouble(), doc.RootElement.GetProperty("float_accuracy").GetDouble() - 0.05, 1.0);
    }

    [Fact]
    public void Report_simulates_a_compiled_folder_that_has_no_report_yet()
    {
        string outDir = Path.Combine(_dir, "out");
        Assert.Equal(0, CliRunner.Run("compile", Example("mlp.onnx"), "--arch", "puma", "-o", outDir).Exit);
        string html = Path.Combine(_dir, "r.html");
        (int exit, _, string error) = CliRunner.Run("report", outDir, "-o", html);
        Assert.True(exit == 0, error);
        Assert.Contains("simulated it first", error);
        Assert.True(File.Exists(Path.Combine(outDir, "report.json")));
        Assert.Contains("<svg", File.ReadAllText(html));
    }
}
