using System.Text.Json;

namespace Cimc.Tests.Cli;

/// <summary>The ADC resolution check as a user meets it: summary.json's adc_lossless_bits and one warning line.</summary>
public sealed class AdcWarningCliTests : IDisposable
{
    private const string IsaacWarning = "lossless needs a 9-bit ADC, the chip has 8 (sums above 255 saturate)";

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string Example(string name) => Path.Combine(TestPaths.Examples, "fashion-mnist", name);

    /// <summary>The warning lines of stderr (notes say what a command assumed, e.g. its calibration).</summary>
    private static string[] Warnings(string stderr) =>
        [.. stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("cimc: warning: ", StringComparison.Ordinal))];

    /// <summary>isaac reads 128 rows of 2-bit cells with 1-bit DACs: sums reach 128 x 1 x 3 = 384, 9 bits, on an 8-bit ADC.</summary>
    [Fact]
    public void Compile_for_isaac_warns_once_on_stderr_and_records_9_lossless_bits_in_the_summary()
    {
        (int exit, string output, string error) = CliRunner.Run("compile", Example("mlp.onnx"), "--arch", "isaac", "-o", _dir.Path);
        Assert.True(exit == 0, error);
        string line = Assert.Single(Warnings(error));
        Assert.StartsWith("cimc: warning: layer '", line);
        Assert.Contains("reads 128 rows of 2-bit cells with 1-bit DACs: " + IsaacWarning, line);
        Assert.DoesNotContain("warning", output);

        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(_dir.File("summary.json")));
        JsonElement root = doc.RootElement;
        Assert.Equal(9, root.GetProperty("adc_lossless_bits").GetInt32());
        Assert.True(root.GetProperty("adc_can_saturate").GetBoolean());
        Assert.All(root.GetProperty("layers").EnumerateArray(), l => Assert.Equal(9, l.GetProperty("adc_lossless_bits").GetInt32()));
        Assert.Equal(line["cimc: warning: ".Length..], Assert.Single(root.GetProperty("warnings").EnumerateArray()).GetString());
    }

    [Theory]
    [InlineData(new[] { "--adc-bits", "9" }, 9)]
    [InlineData(new[] { "--rows-per-read", "64" }, 8)]
    public void A_wide_enough_adc_or_fewer_rows_per_read_compile_without_a_warning(string[] options, int lossless)
    {
        (int exit, string output, string error) = CliRunner.Run(["compile", Example("mlp.onnx"), "--arch", "isaac", "-o", _dir.Path, "--json", .. options]);
        Assert.True(exit == 0, error);
        Assert.Empty(Warnings(error));
        using JsonDocument doc = JsonDocument.Parse(output);
        Assert.Equal(lossless, doc.RootElement.GetProperty("adc_lossless_bits").GetInt32());
        Assert.Empty(doc.RootElement.GetProperty("warnings").EnumerateArray());
        Assert.False(doc.RootElement.GetProperty("adc_can_saturate").GetBoolean()); // 64 rows: 192 <= 255 even on 128-row crossbars
    }

    [Fact]
    public void Simulate_of_a_model_warns_once_and_its_json_carries_the_warning()
    {
        (int exit, string output, string error) = CliRunner.Run("simulate", Example("mlp.onnx"), "--arch", "isaac", "-o", _dir.Path, "--json");
        Assert.True(exit == 0, error);
        Assert.Contains(IsaacWarning, Assert.Single(Warnings(error)));
        using JsonDocument doc = JsonDocument.Parse(output);
        Assert.Contains(IsaacWarning, Assert.Single(doc.RootElement.GetProperty("warnings").EnumerateArray()).GetString());
    }

    [Fact]
    public void Accuracy_on_the_chip_warns_once_and_its_json_carries_the_warning()
    {
        (int exit, string output, string error) = CliRunner.Run("accuracy", Example("mlp.onnx"), "--arch", "isaac", "--weight-bits", "8", "--activation-bits", "8",
            "--images", Example("t10k-images-idx3-ubyte.gz"), "--labels", Example("t10k-labels-idx1-ubyte.gz"), "--divide-by", "255", "--limit", "20", "--json");
        Assert.True(exit == 0, error);
        Assert.Contains(IsaacWarning, Assert.Single(Warnings(error)));
        using JsonDocument doc = JsonDocument.Parse(output);
        Assert.Contains(IsaacWarning, Assert.Single(doc.RootElement.GetProperty("warnings").EnumerateArray()).GetString());
    }
}
