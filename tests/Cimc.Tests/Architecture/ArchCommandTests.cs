using Cimc.Architectures;
using Cimc.Cli;
using Cimc.Tests.Cli;

namespace Cimc.Tests.Architectures;

public sealed class ArchCommandTests
{
    [Fact]
    public void Arch_list_prints_one_row_per_preset_with_totals()
    {
        (int exit, string output, string error) = CliRunner.Run("arch", "list");
        Assert.Equal(0, exit);
        Assert.Empty(error);
        string[] lines = output.TrimEnd().Split('\n');
        Assert.Equal(4, lines.Length);
        Assert.StartsWith("name", lines[0]);
        Assert.Contains("168 x 12 x 8 = 16,128", lines[1]);
        Assert.Contains("1.2 GHz", lines[1]);
        Assert.Contains("w16/a16 offset", lines[1]);
        Assert.StartsWith("edge", lines[3]);
        Assert.Contains("8 x 4 x 8 = 256", lines[3]);
    }

    [Fact]
    public void Arch_show_isaac_prints_every_figure_and_its_sources()
    {
        (int exit, string output, _) = CliRunner.Run("arch", "show", "isaac");
        Assert.Equal(0, exit);
        Assert.StartsWith("isaac: ISAAC", output);
        Assert.Contains("168 tiles on a 14x12 mesh", output);
        Assert.Contains("42 routers", output);
        Assert.Contains("8-bit ADC, 1 per crossbar (128 columns per ADC)", output);
        Assert.Contains("2,016 cores, 16,128 crossbars", output);
        Assert.Contains("ISCA 2016", output);
    }

    [Theory]
    [InlineData("isaac")]
    [InlineData("puma")]
    [InlineData("edge")]
    public void Arch_show_json_round_trips_through_the_loader(string name)
    {
        (int exit, string output, _) = CliRunner.Run("arch", "show", name, "--json");
        Assert.Equal(0, exit);
        Assert.Equal(ArchitectureCatalog.Preset(name), ArchitectureJson.Parse(output));
    }

    [Fact]
    public void Arch_show_of_an_unknown_preset_exits_1_with_one_line()
    {
        (int exit, string output, string error) = CliRunner.Run("arch", "show", "nosuch");
        Assert.Equal(CliApp.UserError, exit);
        Assert.Empty(output);
        Assert.Equal("cimc: error: unknown architecture 'nosuch': not a preset (isaac, puma, edge) nor a file", error.TrimEnd());
    }

    [Fact]
    public void Arch_show_of_a_bad_file_names_the_key()
    {
        string path = Path.Combine(Path.GetTempPath(), $"cimc-arch-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(path, ArchitectureJson.Write(ArchitectureCatalog.Preset("edge")).Replace("\"rows\": 128", "\"rows\": 0"));
            (int exit, _, string error) = CliRunner.Run("arch", "show", path);
            Assert.Equal(CliApp.UserError, exit);
            Assert.Equal("cimc: error: core.crossbar.rows: must be between 2 and 4096 (got 0)", error.TrimEnd());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("arch", "--help")]
    [InlineData("arch", "list", "--help")]
    [InlineData("arch", "show", "--help")]
    public void Arch_commands_answer_help(params string[] args)
    {
        (int exit, string output, _) = CliRunner.Run(args);
        Assert.Equal(0, exit);
        Assert.Contains("Usage", output);
    }
}
