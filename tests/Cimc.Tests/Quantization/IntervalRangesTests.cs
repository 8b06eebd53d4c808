using System.Collections.Immutable;
using Cimc.Data;
using Cimc.Import;
using Cimc.Ir;
using Cimc.Quantization;
using Range = Cimc.Quantization.Range;

namespace Cimc.Tests.Quantization;

/// <summary>Activation ranges without calibration data: interval arithmetic through the layers (docs/quantization.md section 2).</summary>
public sealed class IntervalRangesTests
{
    [Fact]
    public void A_small_layer_gets_the_bounds_worked_out_by_hand()
    {
        // pre0 = x0 - 2 x1 + 1 in [-1, 2]; pre1 = 0.5 x0 + 0.5 x1 - 1 in [-1, 0]; relu -> [0, 2] and [0, 0].
        var dense = new Dense(FloatTensor.Matrix(2, 2, [1f, -2f, 0.5f, 0.5f]), FloatTensor.Vector([1f, -1f]));
        var chain = new LayerChain("t", [new ChainLayer("d", dense, ActivationKind.Relu, 0f)], false);
        LayerBounds b = IntervalRanges.Propagate(chain, 0, 1).Single();
        Assert.Equal(new Range(0, 1), b.Input);
        Assert.Equal(new Range(-1, 2), b.PreActivation);
        Assert.Equal(new Range(0, 2), b.Output);
    }

    [Fact]
    public void Leaky_relu_across_zero_takes_its_value_at_zero_as_a_bound()
    {
        var dense = new Dense(FloatTensor.Matrix(1, 1, [1f]), null);
        var chain = new LayerChain("t", [new ChainLayer("d", dense, ActivationKind.LeakyRelu, -0.5f)], false);
        LayerBounds b = IntervalRanges.Propagate(chain, -2, 2).Single();

        // f(-2) = 1, f(2) = 2, f(0) = 0: the minimum is inside the interval.
        Assert.Equal(new Range(0, 2), b.Output);
    }

    [Fact]
    public void Every_value_the_float_layers_produce_for_inputs_in_range_lies_within_the_bounds()
    {
        LayerChain chain = LayerChain.FromGraph(ModelLoader.Load(Path.Combine(TestPaths.Examples, "fashion-mnist", "mlp.onnx")));
        var random = new Random(12);
        foreach ((double lo, double hi) in new[] { (0.0, 1.0), (-1.0, 1.0), (0.25, 3.0) })
        {
            // Uniform samples, and corners of the box (where bounds of a single layer are reached).
            float[] data = [.. Enumerable.Range(0, 64 * chain.InFeatures).Select(i => (float)(i < 32 * chain.InFeatures ? lo + (random.NextDouble() * (hi - lo)) : random.Next(2) == 0 ? lo : hi))];
            ImmutableArray<LayerSamples> seen = Calibration.Collect(chain, new NdArray([64, chain.InFeatures], data));
            ImmutableArray<LayerBounds> bounds = IntervalRanges.Propagate(chain, lo, hi);
            for (int l = 0; l < chain.Layers.Length; l++)
            {
                AssertWithin(seen[l].Input, bounds[l].Input);
                AssertWithin(seen[l].PreActivation, bounds[l].PreActivation);
                AssertWithin(seen[l].Output, bounds[l].Output);
            }
        }
    }

    private static void AssertWithin(float[] values, Range range)
    {
        double slack = 1e-4 * Math.Max(1, Math.Max(Math.Abs(range.Min), Math.Abs(range.Max)));
        Assert.InRange(values.Min(), range.Min - slack, range.Max + slack);
        Assert.InRange(values.Max(), range.Min - slack, range.Max + slack);
    }

    [Fact]
    public void Without_samples_a_percentile_calibration_is_refused_rather_than_ignored()
    {
        LayerChain chain = LayerChain.FromGraph(ModelLoader.Load(Path.Combine(TestPaths.Examples, "fashion-mnist", "mlp.onnx")));
        var options = new QuantizationOptions { Calibration = CalibrationMethod.Parse("percentile:99.9") };
        Assert.Equal("no-calibration", Assert.Throws<Diagnostics.CimcException>(() => Quantizer.Quantize(chain, InputRangeCalibration.Default, options)).Diagnostic.Code);
    }
}
