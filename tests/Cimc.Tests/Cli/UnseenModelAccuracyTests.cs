using System.Text.Json;

namespace Cimc.Tests.Cli;

/// <summary>
/// Issue 3 acceptance for models the compiler was not developed against: three more Fashion-MNIST MLPs
/// (tests/fixtures/fmnist-unseen, made by its make.py) with other shapes, activations and file formats,
/// compiled for isaac at 8-bit weights and activations, keep their full-test-set accuracy within one point of float.
/// </summary>
public sealed class UnseenModelAccuracyTests
{
    private static string Folder => TestPaths.Fixture("fmnist-unseen");

    private static string Manifest => Path.Combine(Folder, "manifest.json");

    private static string Example(string name) => Path.Combine(TestPaths.Examples, "fashion-mnist", name);

    /// <summary>One row per manifest entry; a missing manifest gives one row that fails rather than no rows at all.</summary>
    public static TheoryData<string, string?, double> Models()
    {
        var rows = new TheoryData<string, string?, double>();
        if (!File.Exists(Manifest))
        {
            rows.Add("manifest.json", null, double.NaN);
            return rows;
        }

        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Manifest));
        foreach (JsonElement entry in doc.RootElement.EnumerateArray())
        {
            JsonElement activation = entry.GetProperty("activation");
            rows.Add(
                entry.GetProperty("file").GetString()!,
                activation.ValueKind == JsonValueKind.Null ? null : activation.GetString(),
                entry.GetProperty("pytorch_accuracy").GetDouble());
        }

        return rows;
    }

    [Fact]
    public void The_manifest_lists_three_models_in_three_different_formats()
    {
        Assert.True(File.Exists(Manifest), $"missing {Manifest}; run /usr/bin/python3 tests/fixtures/fmnist-unseen/make.py");
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Manifest));
        JsonElement[] entries = [.. doc.RootElement.EnumerateArray()];
        Assert.Equal(3, entries.Length);
        Assert.Equal(3, entries.Select(e => e.GetProperty("format").GetString()).Distinct().Count());
        Assert.All(entries, e => Assert.True(File.Exists(Path.Combine(Folder, e.GetProperty("file").GetString()!)), e.GetProperty("file").GetString()));
    }

    [Trait("tier", "slow")]
    [Theory]
    [MemberData(nameof(Models))]
    public void An_unseen_model_compiled_for_isaac_at_8_bits_keeps_accuracy_within_one_point_of_float(string file, string? activation, double pytorchAccuracy)
    {
        Assert.True(File.Exists(Manifest), $"missing {Manifest}; run /usr/bin/python3 tests/fixtures/fmnist-unseen/make.py");
        string model = Path.Combine(Folder, file);
        Assert.True(File.Exists(model), $"manifest names {file} but {model} does not exist");

        List<string> args =
        [
            "accuracy", model, "--arch", "isaac", "--weight-bits", "8", "--activation-bits", "8",
            "--images", Example("t10k-images-idx3-ubyte.gz"), "--labels", Example("t10k-labels-idx1-ubyte.gz"), "--divide-by", "255",
            "--calibration-data", Example("calibration.npy"),
        ];
        if (activation is not null)
        {
            args.AddRange(["--activation", activation]);
        }

        args.Add("--json");
        (int exit, string output, string error) = CliRunner.Run([.. args]);
        Assert.True(exit == 0, error);

        using JsonDocument doc = JsonDocument.Parse(output);
        JsonElement root = doc.RootElement;
        double chip = root.GetProperty("accuracy").GetDouble();
        double fp = root.GetProperty("float_accuracy").GetDouble();
        Assert.Equal(10000, root.GetProperty("total").GetInt32());

        // cimc's float reference agrees with PyTorch (at most 5 of 10000 images may flip on rounding ties) ...
        Assert.InRange(fp, pytorchAccuracy - 0.0005, pytorchAccuracy + 0.0005);

        // ... and the compiled program loses at most one point against it.
        Assert.InRange(chip, fp - 0.01, 1.0);
    }
}
