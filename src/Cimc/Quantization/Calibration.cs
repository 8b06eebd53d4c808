using System.Collections.Immutable;
using Cimc.Data;
using Cimc.Diagnostics;
using Cimc.Reference;

namespace Cimc.Quantization;

/// <summary>A calibrated range of one tensor (the range its codes will cover).</summary>
public readonly record struct Range(double Min, double Max)
{
    public static Range Of(ReadOnlySpan<float> values)
    {
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        foreach (float v in values)
        {
            if (float.IsFinite(v))
            {
                min = Math.Min(min, v);
                max = Math.Max(max, v);
            }
        }

        return double.IsInfinity(min) ? new Range(0, 0) : new Range(min, max);
    }
}

/// <summary>Per layer: the float values of its input, pre-activation and output on the calibration samples.</summary>
public sealed record LayerSamples(float[] Input, float[] PreActivation, float[] Output);

/// <summary>
/// Calibration: runs the float layer chain over sample inputs, keeps each layer's tensors, and turns
/// them into ranges by the chosen method (docs/quantization.md section 2): min-max, a percentile, or
/// the clipping that minimizes the mean squared quantization error at the tensor's bit width.
/// </summary>
public static class Calibration
{
    /// <summary>At most this many values of a tensor are used by the percentile and MSE searches.</summary>
    private const int MaxValues = 1 << 17;

    public static ImmutableArray<LayerSamples> Collect(LayerChain chain, NdArray samples)
    {
        if (samples.Rows == 0)
        {
            throw new CimcException("bad-calibration", "calibration", "the calibration set is empty");
        }

        if (samples.RowLength != chain.InFeatures)
        {
            throw new CimcException("bad-calibration", "calibration",
                $"calibration samples have {samples.RowLength} values each but the model takes {chain.InFeatures}");
        }

        var x = new NdArray([samples.Rows, chain.InFeatures], samples.Data);
        var layers = ImmutableArray.CreateBuilder<LayerSamples>(chain.Layers.Length);
        foreach (ChainLayer layer in chain.Layers)
        {
            NdArray pre = FloatExecutor.Apply(new Ir.Node(layer.Name, layer.Dense, "x", "y"), x);
            var post = new float[pre.Data.Length];
            for (int i = 0; i < post.Length; i++)
            {
                post[i] = (float)Math.Min(LayerChain.Apply(layer.Activation, layer.Alpha, pre.Data[i]), layer.Ceiling);
            }

            layers.Add(new LayerSamples(x.Data, pre.Data, post));
            x = new NdArray(pre.Shape, post);
        }

        return layers.MoveToImmutable();
    }

    /// <summary>The range of one tensor for codes of <paramref name="bits"/> bits.</summary>
    public static Range RangeOf(float[] values, CalibrationMethod method, int bits, bool asymmetric) => method switch
    {
        MinMaxCalibration => Range.Of(values),
        PercentileCalibration p => Percentile(values, p.Percentile),
        MseCalibration => MinimumError(values, bits, asymmetric),
        _ => throw new InvalidOperationException(method.ToString()),
    };

    private static float[] Subsample(float[] values)
    {
        var finite = values.Where(float.IsFinite);
        if (values.Length <= MaxValues)
        {
            return [.. finite];
        }

        int step = (values.Length + MaxValues - 1) / MaxValues;
        return [.. values.Where((_, i) => i % step == 0).Where(float.IsFinite)];
    }

    private static Range Percentile(float[] values, double p)
    {
        float[] v = Subsample(values);
        if (v.Length == 0)
        {
            return new Range(0, 0);
        }

        Array.Sort(v);
        double At(double q) => v[(int)Math.Clamp(Math.Round(q / 100 * (v.Length - 1)), 0, v.Length - 1)];
        Range full = new(v[0], v[^1]);

        // Keep the sign of the range: an all-positive tensor stays unsigned.
        double lo = full.Min >= 0 ? 0 : Math.Min(0, At(100 - p));
        double hi = Math.Max(0, At(p));
        return new Range(full.Min >= 0 ? full.Min : lo, hi);
    }

    /// <summary>Tries 100 clipping fractions of the min-max range and keeps the one with the least squared error.</summary>
    private static Range MinimumError(float[] values, int bits, bool asymmetric)
    {
        float[] v = Subsample(values);
        Range full = Range.Of(v);
        if (v.Length == 0 || (full.Min == 0 && full.Max == 0))
        {
            return full;
        }

        Range best = full;
        double bestError = double.PositiveInfinity;
        for (int k = 100; k >= 1; k--)
        {
            double f = k / 100.0;
            Range candidate = full.Min >= 0 ? new Range(full.Min, full.Max * f) : new Range(full.Min * f, full.Max * f);
            ActivationQuant q = ActivationQuant.ForRange(candidate, bits, asymmetric);
            double error = 0;
            foreach (float x in v)
            {
                double d = x - q.Dequantize(q.Quantize(x));
                error += d * d;
            }

            if (error < bestError)
            {
                bestError = error;
                best = candidate;
            }
        }

        return best;
    }
}
