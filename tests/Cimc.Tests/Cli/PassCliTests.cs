using System.Text.Json;

namespace Cimc.Tests.Cli;

/// <summary>The pass options of `cimc compile` and `cimc run`'s outputs across optimization levels.</summary>
public sealed class PassCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cimc-passes-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Example(string name) => Path.Combine(TestPaths.Examples, "fashion-mnist", name);

    [Fact]
    public void Run_gives_byte_identical_outputs_at_O0_O2_and_O3_on_the_shipped_model()
    {
        byte[]? first = null;
        foreach (string level in new[] { "0", "2", "3" })
        {
            string dir = Path.Combine(_dir, "O" + level), y = Path.Combine(_dir, $"y{level}.npy");
            (int exit, _, string error) = CliRunner.Run("compile", Example("mlp.onnx"), "--arch", "puma", "-O", level, "--verify", "--emit", "asm", "-o", dir);
            Assert.True(exit == 0, error);
            (exit, _, error) = CliRunner.Run("run", dir, "--input", Example("sample.npy"), "--output", y);
            Assert.True(exit == 0, error);
            byte[] bytes = File.ReadAllBytes(y);
            first ??= bytes;
            Assert.Equal(first, bytes);
        }

        // The levels did compile differently: -O0 chains partial sums, -O2 adds them in trees.
        Assert.NotEqual(File.ReadAllText(Path.Combine(_dir, "O0", "program.asm")), File.ReadAllText(Path.Combine(_dir, "O2", "program.asm")));
    }

    [Fact]
    public void Summary_lists_the_passes_with_estimates_beside_their_bounds()
    {
        Assert.Equal(0, CliRunner.Run("compile", Example("mlp.onnx"), "--arch", "edge", "-O", "1", "-o", _dir).Exit);
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "summary.json")));
        JsonElement[] passes = [.. doc.RootElement.GetProperty("passes").EnumerateArray()];
        Assert.Equal(["quantize", "map", "place-linear", "reduce-tree", "broadcast-ring", "schedule", "emit"], passes.Select(p => p.GetProperty("name").GetString()!).ToArray());
        JsonElement emit = passes[^1];
        Assert.InRange(emit.GetProperty("latency_ns").GetDouble(), emit.GetProperty("lower_bound_latency_ns").GetDouble(), double.MaxValue);
        Assert.InRange(emit.GetProperty("inferences_per_second").GetDouble(), 1, emit.GetProperty("upper_bound_inferences_per_second").GetDouble());
    }

    [Fact]
    public void Pass_estimates_final_prices_only_the_last_pass_and_the_same_as_all()
    {
        JsonElement[] Passes(string scope)
        {
            string dir = Path.Combine(_dir, scope);
            (int exit, _, string error) = CliRunner.Run("compile", Example("mlp.onnx"), "--arch", "edge", "--pass-estimates", scope, "-o", dir);
            Assert.True(exit == 0, error);
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")));
            return [.. doc.RootElement.GetProperty("passes").EnumerateArray().Select(p => p.Clone())];
        }

        JsonElement[] all = Passes("all"), final = Passes("final"), auto = Passes("auto");
        Assert.All(all.Skip(2), p => Assert.True(p.TryGetProperty("latency_ns", out _), p.ToString()));
        Assert.All(final[..^1], p => Assert.False(p.TryGetProperty("latency_ns", out _), p.ToString()));
        Assert.Equal(all[^1].GetProperty("latency_ns").GetDouble(), final[^1].GetProperty("latency_ns").GetDouble());
        Assert.Equal(all[^1].GetProperty("inferences_per_second").GetDouble(), final[^1].GetProperty("inferences_per_second").GetDouble());
        // The shipped model is far below the crossbar count where auto stops pricing every pass.
        Assert.Equal(all.Select(p => p.TryGetProperty("latency_ns", out _)), auto.Select(p => p.TryGetProperty("latency_ns", out _)));
        Assert.Contains("must be all, final or auto", CliRunner.Run("compile", Example("mlp.onnx"), "--arch", "edge", "--pass-estimates", "some", "-o", _dir).Err);
    }

    [Fact]
    public void Time_passes_and_dump_after_print_each_pass_and_the_chosen_ir()
    {
        (int exit, string output, string error) = CliRunner.Run("compile", Example("mlp.onnx"), "--arch", "edge", "--time-passes", "--dump-after", "map", "-o", _dir);
        Assert.True(exit == 0, error);
        foreach (string pass in new[] { "quantize", "map", "place-linear", "reduce-tree", "broadcast-ring", "signal-chunks", "fold-bias", "schedule", "emit" })
        {
            Assert.Matches($@"pass {pass} +[0-9.]+ ms", output);
        }

        Assert.Contains("layer /0/Gemm: 784x256", output);
        Assert.DoesNotContain("core 0 xb 0", output); // mapped, not yet placed
    }

    [Theory]
    [InlineData("--passes", "quantize,place-linear,emit", "needs the mapped IR")]
    [InlineData("--placement", "sideways", "not a placement")]
    [InlineData("-O", "7", "not an optimization level")]
    [InlineData("--dump-after", "place-anneal", "not in the pipeline")]
    public void Bad_pass_options_are_one_line_errors(string option, string value, string expected)
    {
        (int exit, _, string error) = CliRunner.Run("compile", Example("mlp.onnx"), "--arch", "edge", option, value, "-o", _dir);
        Assert.Equal(1, exit);
        Assert.Contains(expected, error);
        Assert.Single(error.TrimEnd().Split('\n'), l => !l.Contains("note:"));
    }
}
