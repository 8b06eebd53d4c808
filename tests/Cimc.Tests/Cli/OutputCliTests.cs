using System.Text.Json;
using System.Text.RegularExpressions;

namespace Cimc.Tests.Cli;

/// <summary>Help texts, --json everywhere a command reports, and progress on stderr (issue 12, part 5).</summary>
public sealed class OutputCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cimc-output-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Example(string name) => Path.Combine(TestPaths.Examples, "fashion-mnist", name);

    [Theory]
    [InlineData("compile")]
    [InlineData("run")]
    [InlineData("simulate")]
    [InlineData("search-precision")]
    public void Only_accuracy_s_help_says_that_design_options_take_lists(string command)
    {
        (_, string help, _) = CliRunner.Run(command, "--help");
        Assert.DoesNotContain("list", help);
        (_, string accuracy, _) = CliRunner.Run("accuracy", "--help");
        Assert.Contains("comma-separated list sweeps", accuracy);
    }

    [Theory]
    [InlineData("simulate")]
    [InlineData("accuracy")]
    [InlineData("search-precision")]
    [InlineData("compile")]
    public void Help_shows_each_default_once(string command)
    {
        (_, string help, _) = CliRunner.Run(command, "--help");
        foreach (string line in help.Split('\n').Where(l => l.Contains("[default:")))
        {
            Assert.DoesNotMatch(@"\(default[ :]", line);
        }
    }

    [Fact]
    public void Compile_help_says_the_output_folder_is_required()
    {
        (_, string help, _) = CliRunner.Run("compile", "--help");
        Assert.Matches(@"-o, --output .*required", help);
    }

    [Fact]
    public void A_list_given_to_rows_per_read_is_a_clear_one_line_error()
    {
        (int exit, _, string error) = CliRunner.Run("compile", Example("mlp.onnx"), "--arch", "edge", "--rows-per-read", "32,128", "-o", _dir);
        Assert.Equal(1, exit);
        Assert.DoesNotContain("Nullable", error);
        Assert.Contains("--rows-per-read", error);
        Assert.Single(error.TrimEnd().Split('\n'));
    }

    [Fact]
    public void Emit_graph_needs_no_architecture()
    {
        (int exit, string output, string error) = CliRunner.Run("compile", Example("mlp.onnx"), "--emit", "graph");
        Assert.True(exit == 0, error);
        Assert.Contains("dense[out=256, in=784", output);
        (exit, _, error) = CliRunner.Run("compile", Example("mlp.onnx"), "--emit", "asm");
        Assert.Equal(1, exit);
        Assert.Contains("--arch", error);
    }

    [Fact]
    public void Emit_quantized_uses_the_command_line_s_names()
    {
        (int exit, string output, string error) = CliRunner.Run("compile", Example("mlp.onnx"), "--arch", "edge", "--emit", "quantized", "-q");
        Assert.True(exit == 0, error);
        Assert.Contains("per-channel", output);
        Assert.Contains("signed weights differential", output);
        Assert.Contains("activation relu", output);
        Assert.DoesNotMatch("PerChannel|Differential|Relu|None", output);
    }

    [Fact]
    public void Inspect_json_writes_arrows_as_arrows()
    {
        (int exit, string output, string error) = CliRunner.Run("inspect", Example("mlp.onnx"), "--json");
        Assert.True(exit == 0, error);
        Assert.Contains("784->256", output);
        Assert.DoesNotContain("\\u003E", output);
    }

    [Fact]
    public void Arch_list_run_and_infer_print_json_on_request()
    {
        (int exit, string output, string error) = CliRunner.Run("arch", "list", "--json");
        Assert.True(exit == 0, error);
        using (JsonDocument doc = JsonDocument.Parse(output))
        {
            Assert.Equal(new[] { "isaac", "puma", "edge" }, doc.RootElement.EnumerateArray().Select(a => a.GetProperty("name").GetString()!).ToArray());
            Assert.True(doc.RootElement[0].GetProperty("total_crossbars").GetInt64() > 0);
        }

        string y = Path.Combine(_dir, "y.npy");
        (exit, output, error) = CliRunner.Run("infer", Example("mlp.onnx"), "--input", Example("sample.npy"), "--output", y, "--json");
        Assert.True(exit == 0, error);
        using (JsonDocument doc = JsonDocument.Parse(output))
        {
            Assert.Equal(16, doc.RootElement.GetProperty("samples").GetInt32());
        }

        string dir = Path.Combine(_dir, "out");
        Assert.Equal(0, CliRunner.Run("compile", Example("mlp.onnx"), "--arch", "edge", "-o", dir, "-q").Exit);
        (exit, output, error) = CliRunner.Run("run", dir, "--input", Example("sample.npy"), "--output", y, "--json");
        Assert.True(exit == 0, error);
        using (JsonDocument doc = JsonDocument.Parse(output))
        {
            Assert.Equal(new[] { 16, 10 }, doc.RootElement.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray());
        }
    }

    [Fact]
    public void Accuracy_runs_report_progress_as_plain_lines_on_stderr_and_not_with_quiet()
    {
        string[] args = ["accuracy", Example("mlp.onnx"), "--arch", "edge", "--weight-bits", "8", "--activation-bits", "8",
            "--images", Example("t10k-images-idx3-ubyte.gz"), "--labels", Example("t10k-labels-idx1-ubyte.gz"), "--divide-by", "255", "--limit", "300"];
        (int exit, string output, string error) = CliRunner.Run(args);
        Assert.True(exit == 0, error);
        Assert.Matches(new Regex(@"^cimc: accuracy on the simulator \(edge\): 300/300 samples \(100 %", RegexOptions.Multiline), error);
        Assert.DoesNotContain("\r", error);
        Assert.StartsWith("accuracy ", output);

        (_, _, string quiet) = CliRunner.Run([.. args, "--quiet"]);
        Assert.All(quiet.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => Assert.StartsWith("cimc: warning: ", l)); // no progress; warnings stay
    }
}
