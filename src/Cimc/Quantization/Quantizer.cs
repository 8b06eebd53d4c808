using System.Collections.Immutable;
using Cimc.Data;
using Cimc.Diagnostics;

namespace Cimc.Quantization;

/// <summary>
/// The quantize pass: float layer chain + calibration samples + options -> <see cref="QuantizedModel"/>.
/// Follows docs/quantization.md sections 2 to 5 step by step; nothing here knows about crossbars.
/// </summary>
public static class Quantizer
{
    public static QuantizedModel Quantize(LayerChain chain, NdArray calibration, QuantizationOptions options)
    {
        options.Validate();
        ImmutableArray<LayerSamples> samples = Calibration.Collect(chain, calibration);
        int count = chain.Layers.Length;

        // A layer's activation bits are those of its input (what its DACs stream); its output takes
        // the next layer's, and the last layer keeps its own.
        var bits = Enumerable.Range(0, count).Select(l => options.BitsFor(l, chain.Layers[l].Name)).ToArray();
        var layers = ImmutableArray.CreateBuilder<QuantizedLayer>(count);
        ActivationQuant input = Quantize(samples[0].Input, bits[0].ActivationBits, options);
        for (int l = 0; l < count; l++)
        {
            bool isLast = l == count - 1;
            int outputBits = isLast ? bits[l].ActivationBits : bits[l + 1].ActivationBits;
            QuantizedLayer layer = QuantizeLayer(chain.Layers[l], samples[l], input, bits[l].WeightBits, outputBits, options, isLast);
            layers.Add(layer);
            input = layer.Output ?? input;
        }

        return new QuantizedModel(chain.Name, options, layers.MoveToImmutable(), chain.SoftmaxAtEnd);
    }

    private static ActivationQuant Quantize(float[] values, int bits, QuantizationOptions options) =>
        ActivationQuant.ForRange(Calibration.RangeOf(values, options.Calibration, bits, options.AsymmetricActivations), bits, options.AsymmetricActivations);

    private static QuantizedLayer QuantizeLayer(ChainLayer layer, LayerSamples samples, ActivationQuant input, int weightBits, int outputBits, QuantizationOptions options, bool isLast)
    {
        int inF = layer.Dense.InFeatures, outF = layer.Dense.OutFeatures;
        long qw = IntMath.SymmetricMax(weightBits);
        ReadOnlySpan<float> w = layer.Dense.Weight.Span;

        // Weight scales: per tensor or per output row.
        var scales = new double[outF];
        double tensorMax = 0;
        for (int o = 0; o < outF; o++)
        {
            double rowMax = 0;
            for (int i = 0; i < inF; i++)
            {
                rowMax = Math.Max(rowMax, Math.Abs((double)w[(o * inF) + i]));
            }

            scales[o] = rowMax;
            tensorMax = Math.Max(tensorMax, rowMax);
        }

        for (int o = 0; o < outF; o++)
        {
            double m = options.Granularity == Granularity.PerTensor ? tensorMax : scales[o];
            scales[o] = m > 0 && double.IsFinite(m) ? m / qw : 1.0;
        }

        var weights = new int[outF * inF];
        for (int o = 0; o < outF; o++)
        {
            for (int i = 0; i < inF; i++)
            {
                weights[(o * inF) + i] = (int)IntMath.Clamp(IntMath.Round(w[(o * inF) + i] / scales[o]), -qw, qw);
            }
        }

        var bias = new long[outF];
        if (layer.Dense.Bias is { } b)
        {
            for (int o = 0; o < outF; o++)
            {
                bias[o] = IntMath.Clamp(IntMath.Round(b[o] / (input.Scale * scales[o])), -(1L << 62), 1L << 62);
            }
        }

        var common = new QuantizedLayer(
            layer.Name, inF, outF, [.. weights], weightBits, [.. scales], [.. bias], input,
            layer.Activation, layer.Alpha, [], null, [], null, isLast);

        if (isLast && layer.Activation == ActivationKind.None)
        {
            return common;
        }

        ActivationQuant output = Quantize(samples.Output, outputBits, options);
        if (!layer.UsesLookupTable)
        {
            return common with { Requant = Multipliers(input, scales, output), Output = output };
        }

        ActivationQuant pre = Quantize(samples.PreActivation, outputBits, options);
        var lut = new long[pre.Max + 1];
        for (long t = 0; t <= pre.Max; t++)
        {
            double f = LayerChain.Apply(layer.Activation, layer.Alpha, pre.Dequantize(t));
            lut[t] = output.Quantize(f);
        }

        return common with { Requant = Multipliers(input, scales, pre), PreActivation = pre, Lut = [.. lut], Output = output };
    }

    private static ImmutableArray<FixedPoint> Multipliers(ActivationQuant input, double[] weightScales, ActivationQuant target) =>
        [.. weightScales.Select(sw => FixedPoint.FromReal(input.Scale * sw / target.Scale))];

    /// <summary>Reads calibration samples, refusing a set that does not match the model.</summary>
    public static NdArray CheckCalibration(NdArray samples, LayerChain chain, string location)
    {
        if (samples.RowLength != chain.InFeatures)
        {
            throw new CimcException("bad-calibration", location, $"samples have {samples.RowLength} values but the model takes {chain.InFeatures}");
        }

        return samples;
    }
}
