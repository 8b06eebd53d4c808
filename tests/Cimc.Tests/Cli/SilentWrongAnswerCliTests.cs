using System.Globalization;
using Cimc.Cli;
using Cimc.Data;

namespace Cimc.Tests.Cli;

/// <summary>
/// Each case where cimc used to give a wrong answer without a word (issue 12, part 2) now either
/// takes the option that makes it right, warns, or refuses in one line.
/// </summary>
public sealed class SilentWrongAnswerCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cimc-silent-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Example(string name) => Path.Combine(TestPaths.Examples, "fashion-mnist", name);

    private string TempFile(string name) => Path.Combine(_dir, name);

    private static void AssertOneLineError((int Exit, string Out, string Err) result, string expected)
    {
        Assert.Equal(CliApp.UserError, result.Exit);
        Assert.Single(result.Err.TrimEnd().Split('\n'));
        Assert.StartsWith("cimc: error:", result.Err);
        Assert.Contains(expected, result.Err);
    }

    /// <summary>The sample images as bytes (times 255), the form a user forgets to scale.</summary>
    private string ByteSamples()
    {
        NdArray x = Npy.Read(Example("sample.npy"));
        string path = TempFile("bytes.npy");
        Npy.Write(path, new NdArray(x.Shape, [.. x.Data.Select(v => v * 255f)]));
        return path;
    }

    private string Compiled(string arch = "isaac")
    {
        string dir = TempFile($"compiled-{arch}");
        (int exit, _, string error) = CliRunner.Run("compile", Example("mlp.onnx"), "--arch", arch, "--weight-bits", "8", "--activation-bits", "8", "-o", dir);
        Assert.True(exit == 0, error);
        return dir;
    }

    [Fact]
    public void Infer_takes_divide_by_and_then_gives_the_outputs_of_the_scaled_inputs()
    {
        string scaled = TempFile("scaled.npy"), raw = TempFile("raw.npy");
        Assert.Equal(0, CliRunner.Run("infer", Example("mlp.onnx"), "--input", Example("sample.npy"), "--output", scaled).Exit);
        (int exit, _, string error) = CliRunner.Run("infer", Example("mlp.onnx"), "--input", ByteSamples(), "--divide-by", "255", "--output", raw);
        Assert.True(exit == 0, error);
        NdArray a = Npy.Read(scaled), b = Npy.Read(raw);
        Assert.Equal(a.Shape.ToArray(), b.Shape.ToArray());
        for (int i = 0; i < a.Data.Length; i++)
        {
            Assert.Equal(a.Data[i], b.Data[i], 1e-4f);
        }
    }

    [Fact]
    public void Run_takes_divide_by_and_warns_when_inputs_lie_far_outside_the_calibrated_range()
    {
        string dir = Compiled();
        string scaled = TempFile("scaled.npy"), raw = TempFile("raw.npy"), forgot = TempFile("forgot.npy");
        (int exit, _, string error) = CliRunner.Run("run", dir, "--input", Example("sample.npy"), "--output", scaled);
        Assert.True(exit == 0, error);
        Assert.DoesNotContain("warning", error);

        (exit, _, error) = CliRunner.Run("run", dir, "--input", ByteSamples(), "--divide-by", "255", "--output", raw);
        Assert.True(exit == 0, error);
        Assert.DoesNotContain("warning", error);
        Assert.Equal(Npy.Read(scaled).Data, Npy.Read(raw).Data);

        (exit, _, error) = CliRunner.Run("run", dir, "--input", ByteSamples(), "--output", forgot);
        Assert.Equal(0, exit);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.StartsWith("cimc: warning:", error);
        Assert.Contains("--divide-by", error);
    }

    [Fact]
    public void Accuracy_warns_when_the_images_were_not_scaled_like_the_calibration_data()
    {
        (int exit, _, string error) = CliRunner.Run("accuracy", Example("mlp.onnx"), "--arch", "edge", "--weight-bits", "8", "--activation-bits", "8",
            "--images", Example("t10k-images-idx3-ubyte.gz"), "--labels", Example("t10k-labels-idx1-ubyte.gz"), "--limit", "64");
        Assert.Equal(0, exit);
        Assert.Single(error.Split('\n'), line => line.StartsWith("cimc: warning: inputs span [0, 255]", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(255)]
    [InlineData(-1)]
    public void A_label_outside_the_model_s_classes_is_an_error(int bad)
    {
        string labels = TempFile("labels.csv");
        int[] values = [.. Npy.ReadLabels(Example("sample_labels.npy")).Values];
        values[5] = bad;
        File.WriteAllLines(labels, values.Select(v => v.ToString(CultureInfo.InvariantCulture)));
        AssertOneLineError(CliRunner.Run("accuracy", Example("mlp.onnx"), "--images", Example("sample.npy"), "--labels", labels),
            $"label {bad} (sample 5) is outside the model's 10 classes");
    }

    private string WithValue(string source, int index, float value, string name)
    {
        NdArray x = Npy.Read(source);
        float[] data = [.. x.Data];
        data[index] = value;
        string path = TempFile(name);
        Npy.Write(path, new NdArray(x.Shape, data));
        return path;
    }

    [Fact]
    public void NaN_or_infinity_in_inputs_is_an_error_naming_the_file()
    {
        string nan = WithValue(Example("sample.npy"), 784 + 3, float.NaN, "nan.npy");
        AssertOneLineError(CliRunner.Run("infer", Example("mlp.onnx"), "--input", nan, "--output", TempFile("y.npy")), $"--input {nan}: value 3 of row 1 is NaN");
        AssertOneLineError(CliRunner.Run("run", Compiled(), "--input", nan, "--output", TempFile("y.npy")), "is NaN");
        string inf = WithValue(Example("sample.npy"), 0, float.PositiveInfinity, "inf.npy");
        AssertOneLineError(CliRunner.Run("accuracy", Example("mlp.onnx"), "--images", inf, "--labels", Example("sample_labels.npy")), "is +inf");
    }

    [Fact]
    public void NaN_or_all_zero_calibration_data_is_an_error()
    {
        string nan = WithValue(Example("calibration.npy"), 10, float.NaN, "cal-nan.npy");
        AssertOneLineError(CliRunner.Run("compile", Example("mlp.onnx"), "--arch", "edge", "--calibration-data", nan, "-o", TempFile("out")),
            "calibration data");
        NdArray cal = Npy.Read(Example("calibration.npy"));
        string zeros = TempFile("cal-zero.npy");
        Npy.Write(zeros, new NdArray(cal.Shape, new float[cal.Data.Length]));
        AssertOneLineError(CliRunner.Run("compile", Example("mlp.onnx"), "--arch", "edge", "--calibration-data", zeros, "-o", TempFile("out")),
            "every value is zero");
    }

    [Theory]
    [InlineData("--variation", "0.05")]
    [InlineData("--stuck-at", "0.01,0")]
    [InlineData("--read-noise", "0.02")]
    public void Simulate_refuses_device_options_its_cost_model_does_not_use(string option, string value)
    {
        AssertOneLineError(CliRunner.Run("simulate", Compiled(), option, value), option);
    }

    [Theory]
    [InlineData("--arch", "edge")]
    [InlineData("--precision", "p.json")]
    [InlineData("--calibration-data", "c.npy")]
    [InlineData("--adc-range", "full")]
    public void Run_refuses_options_that_would_need_a_new_compile(string option, string value)
    {
        AssertOneLineError(CliRunner.Run("run", Compiled(), "--input", Example("sample.npy"), "--output", TempFile("y.npy"), option, value), option);
    }

    [Theory]
    [InlineData("--weight-bits", "4")]
    [InlineData("--variation", "0.1")]
    [InlineData("--calibration-data", "c.npy")]
    public void Accuracy_without_a_chip_refuses_chip_options_instead_of_measuring_the_float_model(string option, string value)
    {
        AssertOneLineError(CliRunner.Run("accuracy", Example("mlp.onnx"), "--images", Example("sample.npy"), "--labels", Example("sample_labels.npy"), option, value),
            "needs --arch");
    }

    [Fact]
    public void Run_accepts_arch_when_it_is_the_one_compiled_for()
    {
        (int exit, _, string error) = CliRunner.Run("run", Compiled(), "--arch", "isaac", "--input", Example("sample.npy"), "--output", TempFile("y.npy"));
        Assert.True(exit == 0, error);
    }

    [Fact]
    public void With_a_precision_file_the_accuracy_line_states_the_bits_of_each_layer()
    {
        string precision = TempFile("mixed.json");
        File.WriteAllText(precision, """{ "layers": { "0": { "weight_bits": 8, "activation_bits": 8 }, "1": { "weight_bits": 6, "activation_bits": 7 }, "2": { "weight_bits": 4, "activation_bits": 6 } } }""");
        (int exit, string output, string error) = CliRunner.Run("accuracy", Example("mlp.onnx"), "--arch", "isaac", "--precision", precision,
            "--images", Example("sample.npy"), "--labels", Example("sample_labels.npy"));
        Assert.True(exit == 0, error);
        Assert.Contains("per-layer (mixed.json) bits: weights 8/6/4, activations 8/7/6", output);
        Assert.DoesNotContain("16-bit", output);
    }

    [Fact]
    public void Over_several_seeds_the_accuracy_line_gives_mean_and_std_not_one_seed_s_count()
    {
        (int exit, string output, string error) = CliRunner.Run("accuracy", Example("mlp.onnx"), "--arch", "edge", "--weight-bits", "8", "--activation-bits", "8",
            "--variation", "0.1", "--seeds", "3", "--images", Example("sample.npy"), "--labels", Example("sample_labels.npy"));
        Assert.True(exit == 0, error);
        Assert.Matches(@"^accuracy [0-9.]+ % ± [0-9.]+ points \(mean ± std over 3 seeds, 16 samples each\)", output);
        Assert.DoesNotMatch(@"^accuracy [0-9.]+ % \([0-9]+/16\)", output);
    }
}
