using Cimc.Data;
using Cimc.Diagnostics;
using Cimc.Ir;
using Cimc.Quantization;
using Cimc.Tests.Mapping;
using Range = Cimc.Quantization.Range;

namespace Cimc.Tests.Quantization;

public sealed class SchemeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cimc-scheme-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static float[] Values(int n, int seed)
    {
        var rng = new Random(seed);

        // Mostly small values and a few outliers, where clipping pays off.
        return [.. Enumerable.Range(0, n).Select(i => (float)(i % 100 == 0 ? (rng.NextDouble() - 0.5) * 40 : (rng.NextDouble() - 0.5) * 2))];
    }

    [Fact]
    public void Percentile_and_mse_calibration_clip_outliers_that_minmax_keeps()
    {
        float[] v = Values(10000, 1);
        Range minmax = Calibration.RangeOf(v, new MinMaxCalibration(), 4, false);
        Range p99 = Calibration.RangeOf(v, new PercentileCalibration(99), 4, false);
        Range mse = Calibration.RangeOf(v, new MseCalibration(), 4, false);
        Assert.True(p99.Max < minmax.Max && p99.Min > minmax.Min);
        Assert.True(mse.Max < minmax.Max);

        double Error(Range r)
        {
            ActivationQuant q = ActivationQuant.ForRange(r, 4);
            return v.Sum(x => Math.Pow(x - q.Dequantize(q.Quantize(x)), 2));
        }

        Assert.True(Error(mse) <= Error(minmax));
        Assert.True(Error(mse) <= Error(p99) * 1.0001);
    }

    [Fact]
    public void Asymmetric_activations_use_every_code_with_a_zero_point()
    {
        ActivationQuant q = ActivationQuant.ForRange(new Range(-1, 3), 4, asymmetric: true);
        Assert.Equal(15, q.Max);
        Assert.Equal(4.0 / 15, q.Scale, 12);
        Assert.Equal(4, q.ZeroPoint); // round(1 / (4/15)) = round(3.75)
        Assert.Equal(0, q.Quantize(-1.0));
        Assert.Equal(15, q.Quantize(3.0));

        ActivationQuant symmetric = ActivationQuant.ForRange(new Range(-1, 3), 4);
        Assert.Equal(14, symmetric.Max);
        Assert.Equal(7, symmetric.ZeroPoint);
    }

    [Fact]
    public void A_precision_file_sets_bits_per_layer_by_name_or_index()
    {
        (Graph graph, NdArray calibration) = CrossbarMapperTests.RandomMlp(5, 20, 16, 12, 4);
        string path = Path.Combine(_dir, "p.json");
        File.WriteAllText(path, """{ "weight_bits": 6, "layers": { "fc1": { "weight_bits": 3, "activation_bits": 5 }, "2": { "activation_bits": 2 } } }""");
        QuantizationOptions options = PrecisionFile.Apply(new QuantizationOptions(8, 8), path);
        QuantizedModel q = Quantizer.Quantize(LayerChain.FromGraph(graph), calibration, options);
        Assert.Equal([3, 6, 6], q.Layers.Select(l => l.WeightBits));
        Assert.Equal(31, q.Layers[0].Input.Max);   // layer 0 streams 5-bit codes (unsigned input)
        Assert.Equal(255, q.Layers[1].Input.Max);  // layer 1: the global 8 bits
        Assert.Equal(3, q.Layers[2].Input.Max);    // layer 2: 2 bits
        Assert.Equal(q.Layers[1].Output, q.Layers[2].Input);
    }

    [Theory]
    [InlineData("""{ "layers": { "fc1": { "weight_bits": 17 } } }""", "fc1.weight_bits")]
    [InlineData("""{ "wieght_bits": 4 }""", "wieght_bits")]
    [InlineData("""{ "layers": [1] }""", "layers")]
    [InlineData("""{ "layers": { "fc1": { "bits": 4 } } }""", "fc1.bits")]
    [InlineData("{ nope", "invalid JSON")]
    public void A_bad_precision_file_names_the_key(string json, string expected)
    {
        string path = Path.Combine(_dir, "bad.json");
        File.WriteAllText(path, json);
        var e = Assert.Throws<CimcException>(() => PrecisionFile.Apply(new QuantizationOptions(), path));
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData("percentile:99.9", typeof(PercentileCalibration))]
    [InlineData("mse", typeof(MseCalibration))]
    [InlineData("minmax", typeof(MinMaxCalibration))]
    public void Calibration_methods_parse_from_their_command_line_names(string text, Type expected) =>
        Assert.IsType(expected, CalibrationMethod.Parse(text));

    [Theory]
    [InlineData("percentile:40")]
    [InlineData("percentile:x")]
    [InlineData("kl")]
    public void Unknown_calibration_methods_are_refused(string text) =>
        Assert.Throws<CimcException>(() => CalibrationMethod.Parse(text));
}
