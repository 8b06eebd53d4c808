using Cimc.Data;
using Cimc.Import;
using Cimc.Ir;
using Cimc.Quantization;
using Cimc.Reference;
using Cimc.Tests.Golden;

namespace Cimc.Tests.Quantization;

/// <summary>
/// The quantizer for convolutional networks on the shipped Fashion-MNIST LeNet-5 and small ResNet:
/// the golden model of the quantized graph, through isaac-like crossbars, keeps the float accuracy.
/// </summary>
public sealed class ConvQuantizationTests
{
    /// <summary>ISAAC's crossbars: 128 x 128, 2-bit cells, 1-bit DACs, an 8-bit ADC (which can saturate).</summary>
    public static readonly CrossbarParams Isaac = new(128, 128, 2, 1, 8);

    private static string Example(string name) => Path.Combine(TestPaths.Examples, "fashion-mnist", name);

    private static readonly Lazy<(NdArray Images, Labels Labels)> TestSet = new(() =>
        (Idx.Read(Example("t10k-images-idx3-ubyte.gz")).DivideBy(255f), Idx.ReadLabels(Example("t10k-labels-idx1-ubyte.gz"))));

    public static QuantizedModel Quantize(string file, QuantizationOptions options) =>
        GraphQuantizer.Quantize(ModelLoader.Load(Example(file)), new SampleCalibration(Npy.Read(Example("calibration.npy")), "calibration.npy"), options).Model;

    [Theory]
    [Trait("tier", "slow")]
    [InlineData("lenet.onnx")]
    [InlineData("resnet.onnx")]
    public void At_8_8_bits_through_isaac_crossbars_the_golden_model_is_within_a_point_of_the_float_accuracy(string file)
    {
        const int Count = 1000;
        NdArray images = TestSet.Value.Images.Take(Count);
        int[] labels = [.. TestSet.Value.Labels.Values.Take(Count)];
        Graph graph = ModelLoader.Load(Example(file));
        QuantizedModel model = Quantize(file, new QuantizationOptions(8, 8, Granularity.PerChannel, SignedWeightEncoding.Differential));

        double floatAccuracy = Accuracy(FloatExecutor.Run(graph, images).Data, labels);
        double quantizedAccuracy = Accuracy(GoldenGraph.Run(model, Isaac, images), labels);
        Console.WriteLine($"{file}: float {floatAccuracy:P2}, golden 8/8 isaac {quantizedAccuracy:P2} on the first {Count} test images");
        Assert.True(floatAccuracy > 0.75, $"float accuracy {floatAccuracy:P2}");
        Assert.True(Math.Abs(quantizedAccuracy - floatAccuracy) <= 0.01, $"float {floatAccuracy:P2}, quantized {quantizedAccuracy:P2}");
    }

    private static double Accuracy(float[] outputs, int[] labels)
    {
        int classes = outputs.Length / labels.Length, correct = 0;
        for (int r = 0; r < labels.Length; r++)
        {
            ReadOnlySpan<float> row = outputs.AsSpan(r * classes, classes);
            correct += row.IndexOf(row.ToArray().Max()) == labels[r] ? 1 : 0;
        }

        return (double)correct / labels.Length;
    }
}
