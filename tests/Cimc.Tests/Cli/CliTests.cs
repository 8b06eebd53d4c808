using Cimc.Cli;

namespace Cimc.Tests.Cli;

/// <summary>Runs the `cimc` command in-process and captures what it prints.</summary>
internal static class CliRunner
{
    public static (int Exit, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = CliApp.Run(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }
}

public sealed class CliTests
{
    [Theory]
    [InlineData("--help")]
    [InlineData("inspect", "--help")]
    [InlineData("infer", "--help")]
    [InlineData("accuracy", "--help")]
    public void Every_command_answers_help(params string[] args)
    {
        (int exit, string output, _) = CliRunner.Run(args);
        Assert.Equal(0, exit);
        Assert.Contains("Usage", output);
    }

    [Theory]
    [InlineData("inspect", "no-such-model.onnx")]
    [InlineData("accuracy")]
    [InlineData("frobnicate")]
    [InlineData("infer", "no-such-model.onnx", "--input", "x.npy")]
    [InlineData("simulate", "no-such-folder")]
    [InlineData("run", "no-such-folder", "--input", "x.npy", "--output", "y.npy")]
    [InlineData("report", "no-such-folder", "-o", "r.html")]
    public void A_user_error_is_one_line_on_stderr_and_a_non_zero_exit(params string[] args)
    {
        (int exit, _, string error) = CliRunner.Run(args);
        Assert.Equal(CliApp.UserError, exit);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.StartsWith("cimc: error:", error);
    }
}
