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
        ImmutableArray<LayerRanges> ranges = Calibration.MinMax(chain, calibration);
        var layers = ImmutableArray.CreateBuilder<QuantizedLayer>(chain.Layers.Length);
        ActivationQuant input = ActivationQuant.ForRange(ranges[0].Input, options.ActivationBits);
        for (int l = 0; l < chain.Layers.Length; l++)
        {
            bool isLast = l == chain.Layers.Length - 1;
            QuantizedLayer layer = QuantizeLayer(chain.Layers[l], ranges[l], input, options, isLast);
            layers.Add(layer);
            input = layer.Output ?? input;
        }

        return new QuantizedModel(chain.Name, options, layers.MoveToImmutable(), chain.SoftmaxAtEnd);
    }

    private static QuantizedLayer QuantizeLayer(ChainLayer layer, LayerRanges range, ActivationQuant input, QuantizationOptions options, bool isLast)
    {
        int inF = layer.Dense.InFeatures, outF = layer.Dense.OutFeatures;
        long qw = IntMath.SymmetricMax(options.WeightBits);
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
            layer.Name, inF, outF, [.. weights], options.WeightBits, [.. scales], [.. bias], input,
            layer.Activation, layer.Alpha, [], null, [], null, isLast);

        if (isLast && layer.Activation == ActivationKind.None)
        {
            return common;
        }

        ActivationQuant output = ActivationQuant.ForRange(range.Output, options.ActivationBits);
        if (!layer.UsesLookupTable)
        {
            return common with { Requant = Multipliers(input, scales, output), Output = output };
        }

        ActivationQuant pre = ActivationQuant.ForRange(range.PreActivation, options.ActivationBits);
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
