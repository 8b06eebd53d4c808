using System.Collections.Immutable;
using System.Runtime.InteropServices;
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
    // A bare null means "no samples", as it always has.
    [System.Runtime.CompilerServices.OverloadResolutionPriority(1)]
    public static QuantizedModel Quantize(LayerChain chain, NdArray? calibration, QuantizationOptions options) =>
        Quantize(chain, calibration is null ? null : new SampleCalibration(calibration, "the given samples"), options);

    public static QuantizedModel Quantize(LayerChain chain, CalibrationSource? source, QuantizationOptions options)
    {
        options.Validate();
        int count = chain.Layers.Length;
        RangeAt rangeAt = Ranges(chain, source, options);

        // A layer's activation bits are those of its input (what its DACs stream); its output takes
        // the next layer's, and the last layer keeps its own.
        var bits = Enumerable.Range(0, count).Select(l => options.BitsFor(l, chain.Layers[l].Name)).ToArray();
        var layers = ImmutableArray.CreateBuilder<QuantizedLayer>(count);
        var notes = ImmutableArray.CreateBuilder<string>();
        ChainLayer first = chain.Layers[0];
        ActivationQuant input = first.InputQuant is { } fileInput
            ? ActivationQuant.FromFile(fileInput)
            : ForRange(rangeAt(0, LayerPoint.Input, bits[0].ActivationBits), bits[0].ActivationBits, options);
        for (int l = 0; l < count; l++)
        {
            bool isLast = l == count - 1;
            int outputBits = isLast ? bits[l].ActivationBits : bits[l + 1].ActivationBits;
            int index = l;
            QuantizedLayer layer = QuantizeLayer(chain.Layers[l], (point, b) => rangeAt(index, point, b), input, bits[l].WeightBits, outputBits, options, isLast, notes);
            layers.Add(layer);
            input = layer.Output ?? input;
        }

        if (chain.Layers[^1] is { Activation: ActivationKind.None, OutputQuant: not null } last)
        {
            notes.Add($"layer {last.Name}: the file quantizes the network output; cimc returns the accumulator, dequantized by the host, instead");
        }

        return new QuantizedModel(chain.Name, options, layers.MoveToImmutable(), chain.SoftmaxAtEnd) { Notes = notes.ToImmutable() };
    }

    /// <summary>The tensors of a layer whose ranges the quantizer asks for.</summary>
    internal enum LayerPoint
    {
        Input,
        PreActivation,
        Output,
    }

    private delegate Range RangeAt(int layer, LayerPoint point, int bits);

    /// <summary>The range of any layer's tensor, from samples or from interval arithmetic (docs/quantization.md section 2).</summary>
    private static RangeAt Ranges(LayerChain chain, CalibrationSource? source, QuantizationOptions options)
    {
        switch (source)
        {
            case SampleCalibration s:
                FiniteValues.Check(s.Samples, $"calibration data ({s.Origin})");
                if (s.Samples.Data.Length > 0 && !s.Samples.Data.AsSpan().ContainsAnyExcept(0f))
                {
                    throw new CimcException("bad-calibration", $"calibration data ({s.Origin})", "every value is zero, so every range would be empty; give real sample inputs");
                }

                ImmutableArray<LayerSamples> samples = Calibration.Collect(chain, s.Samples);
                return (l, point, bits) => Calibration.RangeOf(
                    point switch { LayerPoint.Input => samples[l].Input, LayerPoint.PreActivation => samples[l].PreActivation, _ => samples[l].Output },
                    options.Calibration, bits, options.AsymmetricActivations);
            case InputRangeCalibration r when NeedsCalibration(chain):
                if (options.Calibration is not MinMaxCalibration)
                {
                    throw new CimcException("no-calibration", "--calibration",
                        $"--calibration {options.Calibration} needs calibration samples (--calibration-data FILE); without them the ranges are bounds from the weights");
                }

                ImmutableArray<LayerBounds> bounds = IntervalRanges.Propagate(chain, r.Low, r.High);
                return (l, point, _) => point switch { LayerPoint.Input => bounds[l].Input, LayerPoint.PreActivation => bounds[l].PreActivation, _ => bounds[l].Output };
            case null when NeedsCalibration(chain):
                throw new CimcException("no-calibration", "--calibration-data",
                    "quantization needs calibration samples: pass --calibration-data FILE (.npy, .csv or IDX of sample inputs) or put calibration.npy beside the model");
            default:
                // The file gave every range the quantizer would need; nothing asks.
                return (_, _, _) => new Range(0, 0);
        }
    }

    private static ActivationQuant ForRange(Range range, int bits, QuantizationOptions options) =>
        ActivationQuant.ForRange(range, bits, options.AsymmetricActivations);

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

    /// <summary>One layer's weights and output stage, given its input quantization and where its ranges come from (also used per layer of a graph).</summary>
    internal static QuantizedLayer QuantizeLayer(ChainLayer layer, Func<LayerPoint, int, Range> rangeAt, ActivationQuant input, int weightBits, int outputBits,
        QuantizationOptions options, bool isLast, ImmutableArray<string>.Builder notes)
    {
        if (FileWeights(layer, weightBits, notes) is { } fromFile)
        {
            return OutputStage(layer, rangeAt, input, outputBits, options, isLast, QuantizedWeights.Create(fromFile.Weights), fromFile.Scales, fromFile.Bits);
        }

        (QuantizedWeights weights, double[] scales) = QuantizeWeights(layer, weightBits, options);
        layer.Dense.Weight.Release();
        return OutputStage(layer, rangeAt, input, outputBits, options, isLast, weights, scales, weightBits);
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

    private static (QuantizedWeights Weights, double[] Scales) QuantizeWeights(ChainLayer layer, int weightBits, QuantizationOptions options)
    {
        int inF = layer.Dense.InFeatures, outF = layer.Dense.OutFeatures;
        long qw = IntMath.SymmetricMax(weightBits);
        ReadOnlyMemory<float> all = layer.Dense.Weight.Memory;

        // Weight scales: per tensor or per output row. Rows are independent, so they run in parallel.
        var scales = new double[outF];
        Parallel.For(0, outF, o =>
        {
            double rowMax = 0;
            foreach (float v in all.Span.Slice(o * inF, inF))
            {
                rowMax = Math.Max(rowMax, Math.Abs((double)v));
            }

            scales[o] = rowMax;
        });

        double tensorMax = 0;
        foreach (double rowMax in scales)
        {
            tensorMax = Math.Max(tensorMax, rowMax);
        }

        for (int o = 0; o < outF; o++)
        {
            double m = options.Granularity == Granularity.PerTensor ? tensorMax : scales[o];
            scales[o] = m > 0 && double.IsFinite(m) ? m / qw : 1.0;
        }

        // Straight into the narrowest type that holds [-Qw, Qw]: no int copy of the layer is ever made.
        QuantizedWeights weights = qw <= sbyte.MaxValue ? QuantizedWeights.Own(Fill<sbyte>(outF, inF, all, scales, qw))
            : qw <= short.MaxValue ? QuantizedWeights.Own(Fill<short>(outF, inF, all, scales, qw))
            : QuantizedWeights.Own(Fill<int>(outF, inF, all, scales, qw));
        return (weights, scales);
    }

    /// <summary>round(w / scale) clamped to [-Qw, Qw], row by row in parallel, as T (which holds Qw).</summary>
    private static T[] Fill<T>(int outF, int inF, ReadOnlyMemory<float> all, double[] scales, long qw)
        where T : struct, System.Numerics.IBinaryInteger<T>
    {
        var weights = new T[(long)outF * inF];
        Parallel.For(0, outF, o =>
        {
            ReadOnlySpan<float> w = all.Span.Slice(o * inF, inF);
            Span<T> q = weights.AsSpan(o * inF, inF);
            double scale = scales[o];
            for (int i = 0; i < inF; i++)
            {
                q[i] = T.CreateTruncating(IntMath.Clamp(IntMath.Round(w[i] / scale), -qw, qw));
            }
        });

        return weights;
    }

    /// <summary>Bias, requantization and (for the special-function unit's activations) the pre-activation quantization; file activation quantization first.</summary>
    private static QuantizedLayer OutputStage(ChainLayer layer, Func<LayerPoint, int, Range> rangeAt, ActivationQuant input, int outputBits, QuantizationOptions options, bool isLast,
        QuantizedWeights weights, double[] scales, int weightBits)
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
            layer.Name, inF, outF, weights, weightBits, [.. scales], [.. bias], input,
            layer.Activation, layer.Alpha, [], null, null, isLast);

        if (isLast && layer.Activation == ActivationKind.None)
        {
            return common;
        }

        ActivationQuant output = layer.OutputQuant is { } fileOutput
            ? ActivationQuant.FromFile(fileOutput)
            : ForRange(rangeAt(LayerPoint.Output, outputBits), outputBits, options);
        output = WithinCeiling(layer, output, outputBits, options);
        if (!layer.UsesActivationUnit)
        {
            return common with { Requant = Multipliers(input, scales, output), Output = output };
        }

        ActivationQuant pre = layer.PreActivationQuant is { } filePre
            ? ActivationQuant.FromFile(filePre)
            : ForRange(rangeAt(LayerPoint.PreActivation, outputBits), outputBits, options);
        return common with { Requant = Multipliers(input, scales, pre), PreActivation = pre, Output = output };
    }

    /// <summary>
    /// A ReLU with a ceiling (ReLU6) is the ReLU clamp with the top code at most the ceiling, so the
    /// output range may not reach beyond it: a wider calibrated range is cut to [0, ceiling]; a
    /// file's quantization that reaches beyond it cannot be honoured and is refused.
    /// </summary>
    private static ActivationQuant WithinCeiling(ChainLayer layer, ActivationQuant output, int bits, QuantizationOptions options)
    {
        if (!float.IsFinite(layer.Ceiling) || output.Dequantize(output.Max) <= layer.Ceiling * (1 + 1e-9))
        {
            return output;
        }

        if (layer.OutputQuant is not null)
        {
            throw new CimcException("unsupported-for-compile", $"layer {layer.Name}",
                FormattableString.Invariant($"the file quantizes the output of a clip at {layer.Ceiling} up to {output.Dequantize(output.Max):G6}; cimc compiles the clip as the top code and cannot honour both"));
        }

        return ActivationQuant.ForRange(new Range(0, layer.Ceiling), bits, options.AsymmetricActivations);
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
