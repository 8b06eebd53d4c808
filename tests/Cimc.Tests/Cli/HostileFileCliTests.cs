namespace Cimc.Tests.Cli;

/// <summary>
/// Every hostile file, given to the command a user would run, gives one line on stderr and a
/// non-zero exit: no stack trace, no crash, no code run (the pickles would echo a marker).
/// </summary>
public sealed class HostileFileCliTests
{
    public static TheoryData<string> HostileFiles()
    {
        var data = new TheoryData<string>();
        foreach (string file in Directory.GetFiles(TestPaths.Hostile).Where(f => !f.EndsWith(".md", StringComparison.Ordinal) && !f.EndsWith(".json", StringComparison.Ordinal)).Order())
        {
            data.Add(Path.GetFileName(file));
        }

        return data;
    }

    [Fact]
    public void The_hostile_set_covers_pickles_huge_tensors_truncation_cycles_and_dangling_inputs()
    {
        string[] names = [.. ((IEnumerable<object[]>)HostileFiles()).Select(r => (string)r[0])];
        Assert.Contains("os_system.pt", names);
        Assert.Contains("eval.pt", names);
        Assert.Contains("huge_tensor.pt", names);
        Assert.Contains("truncated.onnx", names);
        Assert.Contains("random.pt", names);
        Assert.Contains("cycle.onnx", names);
        Assert.Contains("dangling.onnx", names);
    }

    [Theory]
    [MemberData(nameof(HostileFiles))]
    public void Inspecting_a_hostile_file_prints_one_error_line_and_exits_non_zero(string name)
    {
        (int exit, string output, string error) = CliRunner.Run("inspect", Path.Combine(TestPaths.Hostile, name), "--activation", "relu");
        Assert.Equal(Cimc.Cli.CliApp.UserError, exit);
        Assert.Equal("", output);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.StartsWith("cimc: error:", error);
        Assert.DoesNotContain("   at ", error);
    }

    [Theory]
    [InlineData("os_system.pt", "os.system")]
    [InlineData("eval.pt", "builtins.eval")]
    [InlineData("os_system.pkl", "os.system")]
    public void A_pickle_naming_a_dangerous_global_is_refused_by_name(string name, string global)
    {
        (_, _, string error) = CliRunner.Run("infer", Path.Combine(TestPaths.Hostile, name), "--input", "x.npy", "--output", "y.npy");
        Assert.Contains(global, error);
    }
}
