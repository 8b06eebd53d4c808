using System.Text.Json;
using Cimc.Data;
using Cimc.Isa;

namespace Cimc.Tests.Cli;

/// <summary>`cimc compile`, `cimc run` and `cimc accuracy --arch` as a user runs them.</summary>
public sealed class CompileCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cimc-compile-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Example(string name) => Path.Combine(TestPaths.Examples, "fashion-mnist", name);

    /// <summary>A replicated LeNet says on its one line how many crossbars its copies take, as summary.json does.</summary>
    [Fact]
    public void A_replicated_compile_prints_the_crossbars_with_its_copies()
    {
        (int exit, string printed, string error) = CliRunner.Run("compile", Example("lenet.onnx"), "--arch", "isaac",
            "--weight-bits", "8", "--activation-bits", "8", "--replication", "balance", "-o", _dir);
        Assert.True(exit == 0, error);
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "summary.json")));
        int used = doc.RootElement.GetProperty("crossbars_used").GetInt32(), copies = doc.RootElement.GetProperty("replicated_crossbars").GetInt32();
        Assert.True(copies > used, $"balance gave LeNet no copies ({copies} of {used})");
        Assert.Contains($": {used} of ", printed);
        Assert.Contains($"; {copies} with the copies)", printed);

        (exit, printed, error) = CliRunner.Run("compile", Example("lenet.onnx"), "--arch", "isaac",
            "--weight-bits", "8", "--activation-bits", "8", "--replication", "none", "-o", _dir);
        Assert.True(exit == 0, error);
        Assert.DoesNotContain("with the copies", printed);
    }

    [Fact]
    public void Compile_writes_the_program_weights_and_a_summary_whose_counts_follow_the_formula()
    {
        (int exit, _, string error) = CliRunner.Run("compile", Example("mlp.onnx"), "--arch", "edge", "-o", _dir);
        Assert.True(exit == 0, error);
        foreach (string file in new[] { "program.bin", "weights.bin", "summary.json" })
        {
            Assert.True(File.Exists(Path.Combine(_dir, file)), file);
        }

        // The assembly text only when asked for (it is as large as the program).
        Assert.False(File.Exists(Path.Combine(_dir, "program.asm")));

        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "summary.json")));
        JsonElement root = doc.RootElement;

        // edge: 128x128 crossbars, 2-bit cells, 8-bit weights, differential: 7 magnitude bits -> 4 slices x 2 polarities.
        int[][] shapes = [[784, 256], [256, 128], [128, 10]];
        int total = 0;
        JsonElement[] layers = [.. root.GetProperty("layers").EnumerateArray()];
        for (int l = 0; l < 3; l++)
        {
            int expected = ((shapes[l][0] + 127) / 128) * ((shapes[l][1] + 127) / 128) * 4 * 2;
            Assert.Equal(expected, layers[l].GetProperty("crossbars").GetInt32());
            total += expected;
        }

        Assert.Equal(total, root.GetProperty("crossbars_used").GetInt32());
        Assert.Equal(256, root.GetProperty("crossbars_available").GetInt32());
        Assert.InRange(root.GetProperty("utilization").GetDouble(), 0.01, 1.0);

        // Asked for, the text form is written beside the binary and agrees with it; the binaries are the same.
        byte[] program = File.ReadAllBytes(Path.Combine(_dir, "program.bin")), weights = File.ReadAllBytes(Path.Combine(_dir, "weights.bin"));
        (exit, string printed, error) = CliRunner.Run("compile", Example("mlp.onnx"), "--arch", "edge", "--emit", "asm", "-o", _dir);
        Assert.True(exit == 0, error);
        Assert.DoesNotContain("mvm", printed);
        ProgramImage fromBinary = ProgramImage.Load(Path.Combine(_dir, "program.bin"));
        Assert.Equal(fromBinary, Assembler.AssembleFile(Path.Combine(_dir, "program.asm")));
        Assert.Equal(program, File.ReadAllBytes(Path.Combine(_dir, "program.bin")));
        Assert.Equal(weights, File.ReadAllBytes(Path.Combine(_dir, "weights.bin")));

        // A later compile without it removes the stale text.
        (exit, _, error) = CliRunner.Run("compile", Example("mlp.onnx"), "--arch", "edge", "-o", _dir);
        Assert.True(exit == 0, error);
        Assert.False(File.Exists(Path.Combine(_dir, "program.asm")));
    }

    [Fact]
    public void Run_gives_the_same_outputs_as_accuracy_s_in_process_simulation()
    {
        Assert.Equal(0, CliRunner.Run("compile", Example("mlp.onnx"), "--arch", "isaac", "--weight-bits", "8", "--activation-bits", "8", "-o", _dir).Exit);
        string outPath = Path.Combine(_dir, "y.npy");
        (int exit, _, string error) = CliRunner.Run("run", _dir, "--input", Example("sample.npy"), "--output", outPath);
        Assert.True(exit == 0, error);
        NdArray y = Npy.Read(outPath);
        Assert.Equal(new[] { 16, 10 }, y.Shape.ToArray());
        NdArray logits = Npy.Read(Example("sample_logits.npy"));
        int[] labels = [.. Npy.ReadLabels(Example("sample_labels.npy")).Values];
        int agree = Enumerable.Range(0, 16).Count(i => Evaluation.Accuracy.ArgMax(y.Row(i)) == Evaluation.Accuracy.ArgMax(logits.Row(i)));
        Assert.InRange(agree, 15, 16);
        Assert.Equal(16, labels.Length);
    }

    [Theory]
    [InlineData("graph", "dense[out=256, in=784")]
    [InlineData("quantized", "codes [0, 255]")]
    [InlineData("mapped", "core 0 xb 0")]
    [InlineData("schedule", "; message 0: layer 1 input")] // -O2 writes this model's input into each first-layer tile (delivery-best): no layer 0 input message
    [InlineData("schedule", "input: tile 0 addr 0 len 784 in 5 parts on 4 tiles")]
    [InlineData("asm", "mvm ")]
    public void Emit_stops_after_a_stage_and_prints_it(string stage, string expected)
    {
        (int exit, string output, string error) = CliRunner.Run("compile", Example("mlp.onnx"), "--arch", "edge", "--emit", stage);
        Assert.True(exit == 0, error);
        Assert.Contains(expected, output);
    }

    [Fact]
    public void A_network_too_big_for_the_chip_fails_with_one_line_naming_both_counts()
    {
        (int exit, _, string error) = CliRunner.Run("compile", Example("mlp.onnx"), "--arch", "edge", "--weight-bits", "16", "--cell-bits", "1", "-o", _dir, "--quiet");
        Assert.Equal(1, exit);
        // --quiet: on a loaded machine the compile can outlast the progress line's delay.
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.Matches("needs [0-9]+ crossbars .* the chip has 256 crossbars", error);
    }

    [Trait("tier", "slow")]
    [Fact]
    public void Compiled_for_isaac_at_8_bits_the_full_test_set_keeps_accuracy_within_one_point_of_float()
    {
        (int exit, string output, string error) = CliRunner.Run("accuracy", Example("mlp.onnx"), "--arch", "isaac",
            "--weight-bits", "8", "--activation-bits", "8",
            "--images", Example("t10k-images-idx3-ubyte.gz"), "--labels", Example("t10k-labels-idx1-ubyte.gz"), "--divide-by", "255", "--json");
        Assert.True(exit == 0, error);
        using JsonDocument doc = JsonDocument.Parse(output);
        double chip = doc.RootElement.GetProperty("accuracy").GetDouble();
        double fp = doc.RootElement.GetProperty("float_accuracy").GetDouble();
        Assert.Equal(10000, doc.RootElement.GetProperty("total").GetInt32());
        Assert.InRange(chip, fp - 0.01, 1.0);
    }
}
