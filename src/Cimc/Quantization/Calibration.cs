using System.Collections.Immutable;
using Cimc.Data;
using Cimc.Diagnostics;
using Cimc.Reference;

namespace Cimc.Quantization;

/// <summary>Observed minimum and maximum of one tensor over the calibration samples.</summary>
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

/// <summary>Per layer: the range of its input, of its pre-activation and of its output.</summary>
public sealed record LayerRanges(Range Input, Range PreActivation, Range Output);

/// <summary>
/// Min-max calibration: runs the float layer chain over sample inputs and records each layer's
/// ranges (docs/quantization.md section 2).
/// </summary>
public static class Calibration
{
    public static ImmutableArray<LayerRanges> MinMax(LayerChain chain, NdArray samples)
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
        var ranges = ImmutableArray.CreateBuilder<LayerRanges>(chain.Layers.Length);
        foreach (ChainLayer layer in chain.Layers)
        {
            Range input = Range.Of(x.Data);
            NdArray pre = FloatExecutor.Apply(new Ir.Node(layer.Name, layer.Dense, "x", "y"), x);
            var post = new float[pre.Data.Length];
            for (int i = 0; i < post.Length; i++)
            {
                post[i] = (float)LayerChain.Apply(layer.Activation, layer.Alpha, pre.Data[i]);
            }

            ranges.Add(new LayerRanges(input, Range.Of(pre.Data), Range.Of(post)));
            x = new NdArray(pre.Shape, post);
        }

        return ranges.MoveToImmutable();
    }
}
