using System.Collections.Immutable;
using System.Text.Json;
using Cimc.Exploration;
using Cimc.Quantization;
using Cimc.Tests.Cli;

namespace Cimc.Tests.Exploration;

public sealed class ExplorationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cimc-explore-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Example(string name) => Path.Combine(TestPaths.Examples, "fashion-mnist", name);

    [Fact]
    public void The_search_lowers_each_layer_until_the_accuracy_budget_binds()
    {
        // Accuracy falls by 2 points per bit below 5 in layer 0 and 0.2 per bit below 8 elsewhere;
        // the cost is the total weight bits. With a 1-point budget layer 0 stays at 5 bits.
        (double, double) Evaluate(ImmutableArray<LayerPrecision> layers)
        {
            double loss = (Math.Max(0, 5 - layers[0].WeightBits!.Value) * 2) + layers.Skip(1).Sum(l => (8 - l.WeightBits!.Value) * 0.2);
            return (0.9 - (loss / 100), layers.Sum(l => l.WeightBits!.Value));
        }

        (PrecisionCandidate best, IReadOnlyList<PrecisionCandidate> tried) = PrecisionSearch.Run(3, 8, 0.9, 1.0, SearchObjective.Crossbars, Evaluate);
        Assert.Equal(5, best.Layers[0].WeightBits);
        Assert.True((0.9 - best.Accuracy) * 100 <= 1.0 + 1e-9);
        Assert.True(best.Layers.Skip(1).Sum(l => 8 - l.WeightBits!.Value) <= 5);
        Assert.All(best.Layers, l => Assert.Equal(8, l.ActivationBits));
        Assert.True(tried.Count > 3);
    }

    [Fact]
    public void A_sweep_over_bits_writes_a_table_a_csv_and_an_svg_plot_and_fewer_adc_bits_cost_accuracy()
    {
        string csv = Path.Combine(_dir, "s.csv"), svg = Path.Combine(_dir, "s.svg");
        (int exit, string output, string error) = CliRunner.Run("accuracy", Example("mlp.onnx"), "--arch", "isaac",
            "--weight-bits", "8", "--activation-bits", "8", "--adc-bits", "3,8", "--limit", "300",
            "--images", Example("t10k-images-idx3-ubyte.gz"), "--labels", Example("t10k-labels-idx1-ubyte.gz"), "--divide-by", "255",
            "--csv", csv, "--plot", svg, "--json");
        Assert.True(exit == 0, error);
        using JsonDocument doc = JsonDocument.Parse(output);
        JsonElement[] points = [.. doc.RootElement.GetProperty("points").EnumerateArray()];
        Assert.Equal(2, points.Length);
        double acc3 = points.Single(p => p.GetProperty("adc_bits").GetInt32() == 3).GetProperty("accuracy").GetDouble();
        double acc8 = points.Single(p => p.GetProperty("adc_bits").GetInt32() == 8).GetProperty("accuracy").GetDouble();
        Assert.True(acc3 < acc8 - 0.05, $"3-bit ADC {acc3}, 8-bit ADC {acc8}");
        Assert.Equal(3, File.ReadAllLines(csv).Length);
        Assert.StartsWith("weight_bits,activation_bits", File.ReadAllText(csv));
        string plot = File.ReadAllText(svg);
        Assert.StartsWith("<svg", plot);
        Assert.Equal(2, plot.Split("<circle").Length - 1);
    }

    [Trait("tier", "slow")]
    [Fact]
    public void Search_precision_writes_a_file_that_compile_accepts()
    {
        string file = Path.Combine(_dir, "p.json");
        (int exit, string output, string error) = CliRunner.Run("search-precision", Example("mlp.onnx"), "--arch", "edge", "--limit", "200",
            "--images", Example("t10k-images-idx3-ubyte.gz"), "--labels", Example("t10k-labels-idx1-ubyte.gz"), "--divide-by", "255",
            "--max-loss", "2", "-o", file, "--json");
        Assert.True(exit == 0, error);
        using JsonDocument doc = JsonDocument.Parse(output);
        JsonElement root = doc.RootElement;

        // A real improvement exists here (8-bit weights on edge need 4 slices x 2 polarities per block;
        // the first layer alone loses little at 5 bits), so the search must find one, within the budget.
        double cost = root.GetProperty("cost").GetDouble(), uniform = root.GetProperty("uniform_cost").GetDouble();
        Assert.Equal(136, uniform); // 784-256-128-10 at 8 bits: (7 x 2 + 2 x 1 + 1 x 1) blocks x 8 crossbars
        Assert.True(cost < uniform, $"the search kept {cost} of {uniform} crossbars");
        Assert.True((root.GetProperty("float_accuracy").GetDouble() - root.GetProperty("accuracy").GetDouble()) * 100 <= 2 + 1e-9);

        // The cost is the crossbar count of the bits it chose, by the closed form of docs/quantization.md section 7.
        int[][] shapes = [[784, 256], [256, 128], [128, 10]];
        int[] bits = [.. root.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("weight_bits").GetInt32())];
        static int BitLen(long v) => 64 - System.Numerics.BitOperations.LeadingZeroCount((ulong)v);
        double expected = shapes.Zip(bits, (s, b) => ((s[0] + 127) / 128) * ((s[1] + 127) / 128) * 2 * ((BitLen(Math.Max(1, (1L << (b - 1)) - 1)) + 1) / 2)).Sum();
        Assert.Equal(expected, cost);
        (int compiled, string summary, string compileError) = CliRunner.Run("compile", Example("mlp.onnx"), "--arch", "edge", "--precision", file, "--json", "-o", Path.Combine(_dir, "out"));
        Assert.True(compiled == 0, compileError);
        using JsonDocument s = JsonDocument.Parse(summary);
        Assert.Equal(doc.RootElement.GetProperty("cost").GetDouble(), s.RootElement.GetProperty("crossbars_used").GetInt32());
    }

    [Trait("tier", "slow")]
    [Fact]
    public void Search_precision_works_on_a_convolutional_network_by_layer_name()
    {
        string file = Path.Combine(_dir, "lenet.json");
        (int exit, string output, string error) = CliRunner.Run("search-precision", Example("lenet.onnx"), "--arch", "isaac", "--limit", "10",
            "--images", Example("t10k-images-idx3-ubyte.gz"), "--labels", Example("t10k-labels-idx1-ubyte.gz"), "--divide-by", "255",
            "--max-loss", "0", "-o", file, "--json");
        Assert.True(exit == 0, error);
        using JsonDocument doc = JsonDocument.Parse(output);
        JsonElement root = doc.RootElement;
        Assert.Equal(["/0/Conv", "/3/Conv", "/7/Gemm", "/9/Gemm", "/11/Gemm"], root.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("name").GetString()));
        Assert.True(root.GetProperty("cost").GetDouble() < root.GetProperty("uniform_cost").GetDouble(), "8-bit weights on isaac's 2-bit cells leave room below");
        Assert.True(root.GetProperty("accuracy").GetDouble() >= root.GetProperty("float_accuracy").GetDouble());

        // The file names the layers as --precision reads them: compiling with it gives the cost the search reported.
        (int compiled, string summary, string compileError) = CliRunner.Run("compile", Example("lenet.onnx"), "--arch", "isaac", "--precision", file, "--json", "-o", Path.Combine(_dir, "lenet-out"));
        Assert.True(compiled == 0, compileError);
        using JsonDocument s = JsonDocument.Parse(summary);
        Assert.Equal(root.GetProperty("cost").GetDouble(), s.RootElement.GetProperty("crossbars_used").GetInt32());
    }
}
