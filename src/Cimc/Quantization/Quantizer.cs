using System.Collections.Immutable;
using Cimc.Data;
using Cimc.Diagnostics;

namespace Cimc.Quantization;

/// <summary>
/// The quantize pass: float layer chain + calibration samples + options -> <see cref="QuantizedModel"/>.
/// Follows docs/quantization.md sections 2 to 5 step by step; nothing here knows about crossbars.
/// Where the model carries its own quantization (section 8: a fake_quant on an activation, integer
/// weights on a dense) that is used instead of calibrated ranges and computed weight scales; the
/// calibration set may then be null if every range it would give is already known.
/// </summary>
public static class Quantizer
{
    public static QuantizedModel Quantize(LayerChain chain, NdArray? calibration, QuantizationOptions options)
    {
        options.Validate();
        int count = chain.Layers.Length;
        ImmutableArray<LayerSamples> samples;
        if (calibration is not null)
        {
            samples = Calibration.Collect(chain, calibration);
        }
        else if (NeedsCalibration(chain))
        {
            throw new CimcException("no-calibration", "--calibration-data",
                "quantization needs calibration samples: pass --calibration-data FILE (.npy, .csv or IDX of sample inputs) or put calibration.npy beside the model");
        }
        else
        {
            samples = [.. chain.Layers.Select(_ => new LayerSamples([], [], []))];
        }

        // A layer's activation bits are those of its input (what its DACs stream); its output takes
        // the next layer's, and the last layer keeps its own.
        var bits = Enumerable.Range(0, count).Select(l => options.BitsFor(l, chain.Layers[l].Name)).ToArray();
        var layers = ImmutableArray.CreateBuilder<QuantizedLayer>(count);
        var notes = ImmutableArray.CreateBuilder<string>();
        ChainLayer first = chain.Layers[0];
        ActivationQuant input = first.InputQuant is { } fileInput
            ? ActivationQuant.FromFile(fileInput)
            : Quantize(samples[0].Input, bits[0].ActivationBits, options);
        for (int l = 0; l < count; l++)
        {
            bool isLast = l == count - 1;
            int outputBits = isLast ? bits[l].ActivationBits : bits[l + 1].ActivationBits;
            QuantizedLayer layer = QuantizeLayer(chain.Layers[l], samples[l], input, bits[l].WeightBits, outputBits, options, isLast, notes);
            layers.Add(layer);
            input = layer.Output ?? input;
        }

        if (chain.Layers[^1] is { Activation: ActivationKind.None, OutputQuant: not null } last)
        {
            notes.Add($"layer {last.Name}: the file quantizes the network output; cimc returns the accumulator, dequantized by the host, instead");
        }

        return new QuantizedModel(chain.Name, options, layers.MoveToImmutable(), chain.SoftmaxAtEnd) { Notes = notes.ToImmutable() };
    }

    private static ActivationQuant Quantize(float[] values, int bits, QuantizationOptions options) =>
        ActivationQuant.ForRange(Calibration.RangeOf(values, options.Calibration, bits, options.AsymmetricActivations), bits, options.AsymmetricActivations);

    /// <summary>True unless the file gave every activation quantization the quantizer would calibrate.</summary>
    public static bool NeedsCalibration(LayerChain chain)
    {
        if (chain.Layers[0].InputQuant is null)
        {
            return true;
        }

        for (int l = 0; l < chain.Layers.Length; l++)
        {
            ChainLayer layer = chain.Layers[l];
            bool accumulatorOut = l == chain.Layers.Length - 1 && layer.Activation == ActivationKind.None;
            if ((!accumulatorOut && layer.OutputQuant is null) || (layer.UsesActivationUnit && layer.PreActivationQuant is null))
            {
                return true;
            }
        }

        return false;
    }

    private static QuantizedLayer QuantizeLayer(ChainLayer layer, LayerSamples samples, ActivationQuant input, int weightBits, int outputBits,
        QuantizationOptions options, bool isLast, ImmutableArray<string>.Builder notes)
    {
        if (FileWeights(layer, weightBits, notes) is { } fromFile)
        {
            return OutputStage(layer, samples, input, outputBits, options, isLast, fromFile.Weights, fromFile.Scales, fromFile.Bits);
        }

        (int[] weights, double[] scales) = QuantizeWeights(layer, weightBits, options);
        return OutputStage(layer, samples, input, outputBits, options, isLast, weights, scales, weightBits);
    }

    /// <summary>
    /// The file's integer weights, when cimc's symmetric scheme can hold them as they are: every zero
    /// point 0 and no value at the type's lowest (int8 -128), so w_q is in [-Qw, Qw] with Qw = QMax.
    /// Otherwise null, with a note: the weights are requantized from their dequantized float values.
    /// </summary>
    private static (int[] Weights, double[] Scales, int Bits)? FileWeights(ChainLayer layer, int weightBits, ImmutableArray<string>.Builder notes)
    {
        if (layer.Dense.Quantized is not { } q)
        {
            return null;
        }

        string? why = q.QMin >= 0 ? $"are unsigned ([{q.QMin}, {q.QMax}])"
            : q.ZeroPoints.Any(z => z != 0) ? "have a nonzero zero point"
            : q.Values.Any(v => v < -q.QMax) ? $"use {-q.QMax - 1}, outside cimc's symmetric [-{q.QMax}, {q.QMax}]"
            : null;
        if (why is not null)
        {
            notes.Add($"layer {layer.Name}: the file's integer weights {why}; requantized from their float values");
            return null;
        }

        int outF = layer.Dense.OutFeatures, bits = IntMath.BitLength(q.QMax) + 1;
        if (bits != weightBits)
        {
            notes.Add($"layer {layer.Name}: keeps the file's {bits}-bit weights (the options ask for {weightBits} bits)");
        }

        double[] scales = [.. Enumerable.Range(0, outF).Select(o => (double)q.ScaleOf(o))];
        return ([.. q.Values], scales, bits);
    }

    private static (int[] Weights, double[] Scales) QuantizeWeights(ChainLayer layer, int weightBits, QuantizationOptions options)
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

        return (weights, scales);
    }

    /// <summary>Bias, requantization and (for the special-function unit's activations) the pre-activation quantization; file activation quantization first.</summary>
    private static QuantizedLayer OutputStage(ChainLayer layer, LayerSamples samples, ActivationQuant input, int outputBits, QuantizationOptions options, bool isLast,
        int[] weights, double[] scales, int weightBits)
    {
        int inF = layer.Dense.InFeatures, outF = layer.Dense.OutFeatures;

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
            layer.Activation, layer.Alpha, [], null, null, isLast);

        if (isLast && layer.Activation == ActivationKind.None)
        {
            return common;
        }

        ActivationQuant output = layer.OutputQuant is { } fileOutput
            ? ActivationQuant.FromFile(fileOutput)
            : Quantize(samples.Output, outputBits, options);
        if (!layer.UsesActivationUnit)
        {
            return common with { Requant = Multipliers(input, scales, output), Output = output };
        }

        ActivationQuant pre = layer.PreActivationQuant is { } filePre
            ? ActivationQuant.FromFile(filePre)
            : Quantize(samples.PreActivation, outputBits, options);
        return common with { Requant = Multipliers(input, scales, pre), PreActivation = pre, Output = output };
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
