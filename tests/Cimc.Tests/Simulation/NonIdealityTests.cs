using System.Text.Json;
using Cimc.Architectures;
using Cimc.Data;
using Cimc.Evaluation;
using Cimc.Simulation;
using Cimc.Simulation.Devices;
using Cimc.Tests.Cli;

namespace Cimc.Tests.Simulation;

public sealed class NonIdealityTests
{
    private static string Example(string name) => Path.Combine(TestPaths.Examples, "fashion-mnist", name);

    private static readonly Lazy<(Compilation Compiled, NdArray Images, Labels Labels)> Setup = new(() =>
    {
        var graph = Cimc.Import.ModelLoader.Load(Example("mlp.onnx"));
        Architecture arch = ArchitectureCatalog.Preset("edge");
        Compilation c = Compiler.Compile(graph, arch, Compiler.OptionsFor(arch), Npy.Read(Example("calibration.npy")));
        NdArray images = Idx.Read(Example("t10k-images-idx3-ubyte.gz")).Take(400).DivideBy(255f);
        Labels labels = new([.. Idx.ReadLabels(Example("t10k-labels-idx1-ubyte.gz")).Values.Take(400)]);
        return (c, images, labels);
    });

    private static long[] Codes(DeviceModel? device, int samples = 40)
    {
        (Compilation c, NdArray images, _) = Setup.Value;
        var sim = new FunctionalSimulator(c.Program!, c.Weights!, device);
        NdArray x = images.Take(samples);
        long[] codes = [.. Enumerable.Range(0, x.Rows).SelectMany(i => sim.Quantize(x.Row(i)))];
        return sim.RunBatchCodes(codes, x.Rows);
    }

    [Fact]
    public void The_analog_read_path_with_an_unperturbed_device_equals_the_digital_simulator_bit_for_bit()
    {
        // 4 conductance levels for 2-bit cells perturb nothing, but take the analog path.
        var device = new DeviceModel(ConductanceLevels: 4, Seed: 3);
        Assert.False(device.IsIdeal);
        Assert.Equal(Codes(null), Codes(device));
    }

    [Trait("tier", "slow")]
    [Fact]
    public void A_seed_reproduces_a_run_and_another_seed_changes_it()
    {
        var device = new DeviceModel(Variation: 0.05, StuckLow: 0.01, StuckHigh: 0.01, ReadNoise: 0.02, Seed: 11);
        long[] first = Codes(device), again = Codes(device), other = Codes(device.WithSeed(12));
        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        Assert.NotEqual(Codes(null), first);
    }

    [Fact]
    public void A_sample_s_noise_does_not_depend_on_how_many_samples_run_with_it()
    {
        var device = new DeviceModel(ReadNoise: 0.05, Seed: 5);
        long[] ten = Codes(device, 10), forty = Codes(device, 40);
        Assert.Equal(ten, forty.Take(ten.Length));
    }

    [Trait("tier", "slow")]
    [Fact]
    public void Mean_accuracy_falls_as_programming_variation_grows()
    {
        (Compilation c, NdArray images, Labels labels) = Setup.Value;
        NdArray x = images.Take(200);
        var y = new Labels([.. labels.Values.Take(200)]);
        double MeanAccuracy(double sigma, VariationModel model) => Enumerable.Range(1, 2).Average(seed =>
        {
            var sim = new FunctionalSimulator(c.Program!, c.Weights!, new DeviceModel(Variation: sigma, Model: model, Seed: (ulong)seed));
            return Accuracy.Evaluate(b => sim.Run(b), x, y).Accuracy;
        });

        // Log-normal spreads each cell in proportion to its level, so it needs larger sigmas to hurt.
        foreach ((VariationModel model, double[] sigmas) in new[] { (VariationModel.Gaussian, new[] { 0.0, 0.1, 0.4 }), (VariationModel.LogNormal, new[] { 0.0, 0.5, 1.5 }) })
        {
            double[] accuracy = [.. sigmas.Select(sigma => MeanAccuracy(sigma, model))];
            Assert.True(accuracy[0] > accuracy[1] && accuracy[1] > accuracy[2], $"{model}: {string.Join(" ", accuracy)}");
        }
    }

    [Fact]
    public void Cells_stuck_off_everywhere_leave_only_the_digital_bias()
    {
        long[] allOff = Codes(new DeviceModel(StuckLow: 1.0, Seed: 1), 5);
        int outLen = Setup.Value.Compiled.Program!.Output.Len;
        for (int s = 1; s < 5; s++)
        {
            Assert.Equal(allOff.Take(outLen), allOff.Skip(s * outLen).Take(outLen));
        }
    }

    [Fact]
    public void Fewer_conductance_levels_than_the_cells_need_change_the_result()
    {
        Assert.NotEqual(Codes(null), Codes(new DeviceModel(ConductanceLevels: 2)));
    }

    [Trait("tier", "slow")]
    [Fact]
    public void Cimc_accuracy_with_seeds_reports_the_mean_and_standard_deviation()
    {
        (int exit, string output, string error) = CliRunner.Run("accuracy", Example("mlp.onnx"), "--arch", "edge", "--limit", "200",
            "--images", Example("t10k-images-idx3-ubyte.gz"), "--labels", Example("t10k-labels-idx1-ubyte.gz"), "--divide-by", "255",
            "--variation", "0.1", "--stuck-at", "0.01,0.01", "--read-noise", "0.05", "--seed", "3", "--seeds", "3", "--json");
        Assert.True(exit == 0, error);
        using JsonDocument doc = JsonDocument.Parse(output);
        double[] runs = [.. doc.RootElement.GetProperty("accuracies").EnumerateArray().Select(e => e.GetDouble())];
        Assert.Equal(3, runs.Length);
        Assert.Equal(runs.Average(), doc.RootElement.GetProperty("accuracy").GetDouble(), 12);
        double std = Math.Sqrt(runs.Sum(a => Math.Pow(a - runs.Average(), 2)) / 2);
        Assert.Equal(std, doc.RootElement.GetProperty("accuracy_std").GetDouble(), 12);
        Assert.Equal([3UL, 4UL, 5UL], doc.RootElement.GetProperty("seeds").EnumerateArray().Select(e => e.GetUInt64()));
    }

    /// <summary>Two reads of one crossbar in one sample, with <paramref name="nops"/> instructions before them.</summary>
    private static long[] TwoReads(int nops, DeviceModel device)
    {
        string asm = """
            .arch tiles=1 cores_per_tile=1 crossbars_per_core=1 rows=4 cols=4 cell_bits=2 dac_bits=1 adc_bits=8 local_words=64 buffer_words=64
            .input tile=0 addr=0 len=4 scale=1 zero_point=0 qmin=0 qmax=1
            .output tile=0 addr=8 len=8
            .output_scale 1 1 1 1 1 1 1 1
            .output_zero_point 0 0 0 0 0 0 0 0

            .core 0

            """ + string.Concat(Enumerable.Repeat("nop\n", nops)) + """
            load dst=0, src=0, len=4
            mvm xb=0, src=0, dst=10, rows=4, cols=4, ibits=1, shift=0, neg=0, group=0, ashift=0
            mvm xb=0, src=0, dst=14, rows=4, cols=4, ibits=1, shift=0, neg=0, group=0, ashift=0
            store dst=8, src=10, len=8
            halt
            """;
        var program = Cimc.Isa.ProgramImage.FromBytes(Cimc.Isa.Assembler.Assemble(asm, "two-reads.asm").ToBytes());
        var weights = new Cimc.Isa.WeightImage(4, 4, 2, [KeyValuePair.Create(new Cimc.Isa.CrossbarId(0, 0), Enumerable.Repeat((byte)3, 16).ToArray())]);
        return new FunctionalSimulator(program, weights, device).RunBatchCodes([1, 1, 1, 1, 1, 1, 1, 1], 2);
    }

    [Fact]
    public void Read_noise_is_keyed_by_the_read_s_occurrence_in_the_sample_not_by_the_instruction_index()
    {
        var device = new DeviceModel(ReadNoise: 0.2, Seed: 4);
        long[] plain = TwoReads(0, device), shifted = TwoReads(3, device);

        // Moving the mvms to other instruction indices does not change the noise...
        Assert.Equal(plain, shifted);

        // ...while the second read of the crossbar, and the second sample, draw their own.
        Assert.NotEqual(plain.Take(4), plain.Skip(4).Take(4));
        Assert.NotEqual(plain.Take(8), plain.Skip(8));
        Assert.Contains(plain, v => v != 12);
    }

    [Theory]
    [InlineData("--variation", "-0.1")]
    [InlineData("--stuck-at", "0.7,0.5")]
    [InlineData("--stuck-at", "0.1")]
    [InlineData("--conductance-levels", "1")]
    [InlineData("--variation-model", "uniform")]
    public void Bad_device_options_are_one_line_errors(string option, string value)
    {
        (int exit, _, string error) = CliRunner.Run("accuracy", Example("mlp.onnx"), "--arch", "edge", "--limit", "10",
            "--images", Example("t10k-images-idx3-ubyte.gz"), "--labels", Example("t10k-labels-idx1-ubyte.gz"), option, value);
        Assert.Equal(1, exit);
        Assert.Single(error.TrimEnd().Split('\n'));
    }
}
