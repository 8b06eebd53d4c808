using Cimc.Architectures;
using Cimc.Data;
using Cimc.Ir;
using Cimc.Passes;
using Cimc.Performance;

namespace Cimc.Tests.Performance;

/// <summary>
/// The estimate counts a convolutional network's cores as the compiler places them: a layer whose
/// blocks do not fit a core's memory together spreads over more cores (MappedLayer.CoreCrossbars),
/// and each pooling or add node takes a core of its own.
/// </summary>
public sealed class EstimatorConvCoresTests
{
    /// <summary>
    /// Two 1x1 stride-2 convolutions of 128 input and 256 output channels (ResNet-18's layer3
    /// shortcut) on ISAAC at 8 bits: each is 8 blocks whose inputs, accumulators and constants
    /// overflow a 1,152-word core together, so the map pass puts 4 on each of 2 cores; then a
    /// residual add, a pool and a dense layer.
    /// </summary>
    [Fact]
    public void Estimated_cores_and_crossbars_equal_the_compiled_programs_for_a_spread_convolution()
    {
        var rng = new Random(7);
        float[] Random(int n, double scale) => [.. Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() - 0.5) * scale))];
        var window = new Window2d(1, 1, 2, 2, 0, 0, 0, 0);
        var g = new Graph("shortcut", [new ValueInfo("x", TensorType.Float(TensorType.Dynamic, 128, 8, 8))],
        [
            new Node("proj", new Conv2d(new FloatTensor([256, 128, 1, 1], Random(256 * 128, 0.2)), FloatTensor.Vector(Random(256, 0.1)), window), "x", "p"),
            new Node("body", new Conv2d(new FloatTensor([256, 128, 1, 1], Random(256 * 128, 0.2)), FloatTensor.Vector(Random(256, 0.1)), window), "x", "b"),
            new Node("sum", new Add(), ["p", "b"], ["s"]),
            new Node("relu", new Relu(), "s", "r"),
            new Node("pool", new GlobalAvgPool(), "r", "q"),
            new Node("flat", new Flatten(1), "q", "f"),
            new Node("fc", new Dense(FloatTensor.Matrix(10, 256, Random(2560, 0.2)), null), "f", "y"),
        ], [new ValueInfo("y", TensorType.Float(TensorType.Dynamic, 10))]);
        Architecture isaac = ArchitectureCatalog.Preset("isaac");
        var samples = new NdArray([4, 128, 8, 8], Random(4 * 128 * 64, 2).Select(Math.Abs).ToArray());

        Compilation c = Compiler.Compile(g, isaac, Compiler.OptionsFor(isaac, weightBits: 8, activationBits: 8), samples);
        Assert.Contains(c.Mapped!.Layers, l => l.CoreCrossbars is > 0 and < 8); // the case this test is about
        PerformanceReport simulated = PerformanceFixtures.Evaluate(c, 1);
        Estimate estimated = Estimator.Of(c.Quantized!, isaac);
        Assert.Equal(simulated.CrossbarsUsed, estimated.CrossbarsUsed);
        Assert.Equal(simulated.CoresUsed, estimated.CoresUsed);
    }
}
