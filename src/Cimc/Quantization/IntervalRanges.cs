using System.Collections.Immutable;

namespace Cimc.Quantization;

/// <summary>The ranges of one layer's input, pre-activation and output.</summary>
public sealed record LayerBounds(Range Input, Range PreActivation, Range Output);

/// <summary>
/// Activation ranges without calibration data (docs/quantization.md section 2, "Without calibration
/// data"): interval arithmetic through the layer chain. Every input element lies in [lo, hi]; a dense
/// output o then lies in [b_o + sum_i min(w_oi lo_i, w_oi hi_i), b_o + sum_i max(w_oi lo_i, w_oi hi_i)],
/// the activation maps each element's interval (its extremes are at the ends, or at 0 for the
/// piecewise-linear ones), and a tensor's range is the union over its elements. The bounds hold for
/// every input in the declared range, so nothing clips; they are wider than what real data reaches,
/// which costs resolution: calibration samples do better.
/// </summary>
public static class IntervalRanges
{
    public static ImmutableArray<LayerBounds> Propagate(LayerChain chain, double low, double high)
    {
        double[] lo = Enumerable.Repeat(low, chain.InFeatures).ToArray();
        double[] hi = Enumerable.Repeat(high, chain.InFeatures).ToArray();
        var result = ImmutableArray.CreateBuilder<LayerBounds>(chain.Layers.Length);
        foreach (ChainLayer layer in chain.Layers)
        {
            Range input = Union(lo, hi);
            (double[] preLo, double[] preHi) = DenseBounds(layer.Dense, lo, hi);
            var postLo = new double[preLo.Length];
            var postHi = new double[preLo.Length];
            for (int o = 0; o < preLo.Length; o++)
            {
                (postLo[o], postHi[o]) = ActivationBounds(layer, preLo[o], preHi[o]);
            }

            result.Add(new LayerBounds(input, Union(preLo, preHi), Union(postLo, postHi)));
            (lo, hi) = (postLo, postHi);
        }

        return result.MoveToImmutable();
    }

    private static (double[] Lo, double[] Hi) DenseBounds(Ir.Dense dense, double[] lo, double[] hi)
    {
        int inF = dense.InFeatures, outF = dense.OutFeatures;
        ReadOnlyMemory<float> weights = dense.Weight.Memory;
        var outLo = new double[outF];
        var outHi = new double[outF];
        // Rows are independent and each sums in input order, so the bounds do not depend on the threads.
        Parallel.For(0, outF, o =>
        {
            ReadOnlySpan<float> w = weights.Span.Slice(o * inF, inF);
            double b = dense.Bias is { } bias ? bias.Span[o] : 0;
            double sLo = b, sHi = b;
            for (int i = 0; i < inF; i++)
            {
                double a = w[i] * lo[i], c = w[i] * hi[i];
                sLo += Math.Min(a, c);
                sHi += Math.Max(a, c);
            }

            outLo[o] = sLo;
            outHi[o] = sHi;
        });

        dense.Weight.Release();
        return (outLo, outHi);
    }

    private static (double Lo, double Hi) ActivationBounds(ChainLayer layer, double lo, double hi)
    {
        double a = LayerChain.Apply(layer.Activation, layer.Alpha, lo);
        double b = LayerChain.Apply(layer.Activation, layer.Alpha, hi);
        double min = Math.Min(a, b), max = Math.Max(a, b);
        if (lo < 0 && hi > 0)
        {
            double zero = LayerChain.Apply(layer.Activation, layer.Alpha, 0);
            min = Math.Min(min, zero);
            max = Math.Max(max, zero);
        }

        // A ReLU with a ceiling (ReLU6) clips both ends of the interval.
        return (Math.Min(min, layer.Ceiling), Math.Min(max, layer.Ceiling));
    }

    private static Range Union(double[] lo, double[] hi) =>
        lo.Length == 0 ? new Range(0, 0) : new Range(lo.Min(), hi.Max());
}
