using System.Globalization;
using System.Text.Json;
using Cimc.Tests.Cli;

namespace Cimc.Tests.Architectures;

public sealed class ArchPeakAndTrendsTests
{
    [Fact]
    public void Arch_show_prints_the_peak_figures_and_json_carries_them_under_peak()
    {
        (int exit, string output, _) = CliRunner.Run("arch", "show", "isaac");
        Assert.Equal(0, exit);
        Assert.Contains("peak       41.29 TOPS", output); // 16,128 crossbars x 128 x 128 / 8 planes / 1.6 us x 2
        Assert.Contains("TOPS/W", output);

        (exit, string json, _) = CliRunner.Run("arch", "show", "isaac", "--json");
        Assert.Equal(0, exit);
        JsonElement peak = JsonDocument.Parse(json).RootElement.GetProperty("peak");
        Assert.Equal(41.29, peak.GetProperty("peak_tops").GetDouble(), 2);
        foreach (string key in new[] { "peak_tops_per_w", "peak_tops_per_mm2", "peak_power_w", "area_mm2" })
        {
            Assert.True(peak.GetProperty(key).GetDouble() > 0, key);
        }
    }

    [Fact]
    public void Arch_trends_writes_a_chart_per_parameter_and_figure_and_a_csv_that_moves_the_right_way()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"cimc-trends-{Guid.NewGuid():N}");
        try
        {
            (int exit, string output, string error) = CliRunner.Run("arch", "trends", "puma", "-o", dir);
            Assert.Equal(0, exit);
            Assert.Empty(error);
            Assert.Equal(12, Directory.GetFiles(dir, "*.svg").Length);
            Assert.Equal(12, output.TrimEnd().Split('\n').Length);
            Assert.StartsWith("<svg", File.ReadAllText(Path.Combine(dir, "adc-bits-energy.svg")), StringComparison.Ordinal);
            var rows = File.ReadAllLines(Path.Combine(dir, "trends.csv")).Skip(1).Select(l => l.Split(',')).ToList();
            var adc = rows.Where(r => r[0] == "adc-bits").Select(r => double.Parse(r[2], CultureInfo.InvariantCulture)).ToList();
            Assert.True(adc.Count >= 8 && adc.Zip(adc.Skip(1)).All(p => p.Second > p.First), "energy per MAC rises with ADC bits");
            Assert.Single(rows, r => r[0] == "adc-bits" && r[5] == "1" && r[1] == "8");
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, true);
            }
        }
    }
}
