using Cimc.Data;
using Cimc.Diagnostics;
using Cimc.Ir;

namespace Cimc.Reference;

/// <summary>
/// The float reference's NCHW ops. A convolution is im2col then the dense kernel's dot products:
/// each output position's receptive field is copied into one row (zeros for padding), so every
/// output value is <see cref="FloatExecutor.Dot"/> of that row with a weight row
/// [in/group x kh x kw], accumulated in float32 lanes as BLAS does. Samples run in parallel.
/// </summary>
internal static class ConvKernels
{
    public static NdArray Conv(Node node, Conv2d conv, NdArray x)
    {
        (int n, int c, int h, int w) = Nchw(node, x);
        Window2d win = conv.Window;
        int oh = win.OutputHeight(h), ow = win.OutputWidth(w);
        int outC = conv.OutChannels, groups = conv.Group, inG = c / groups, outG = outC / groups;
        int k = conv.PatchSize, positions = oh * ow;
        float[] y = Allocate(node, n, outC, oh, ow);
        ReadOnlyMemory<float> weights = conv.Weight.Memory;
        ReadOnlyMemory<float>? bias = conv.Bias?.Memory;
        float[] xs = x.Data;
        Parallel.For(0, n, () => new float[(long)positions * k], (s, _, cols) =>
        {
            ReadOnlySpan<float> ws = weights.Span;
            ReadOnlySpan<float> bs = bias is { } b ? b.Span : default;
            for (int g = 0; g < groups; g++)
            {
                Im2Col(xs.AsSpan(((s * c) + (g * inG)) * h * w, inG * h * w), inG, h, w, win, oh, ow, cols);
                for (int o = g * outG; o < (g + 1) * outG; o++)
                {
                    ReadOnlySpan<float> row = ws.Slice(o * k, k);
                    Span<float> plane = y.AsSpan(((s * outC) + o) * positions, positions);
                    float add = bs.IsEmpty ? 0f : bs[o];
                    for (int p = 0; p < positions; p++)
                    {
                        plane[p] = FloatExecutor.Dot(cols.AsSpan(p * k, k), row) + add;
                    }
                }
            }

            return cols;
        }, _ => { });
        return new NdArray([n, outC, oh, ow], y);
    }

    /// <summary>Row p = (oy, ox) holds the window's cells in weight order (channel, ky, kx).</summary>
    private static void Im2Col(ReadOnlySpan<float> x, int channels, int h, int w, Window2d win, int oh, int ow, float[] cols)
    {
        int k = channels * win.KernelH * win.KernelW, at = 0;
        for (int oy = 0; oy < oh; oy++)
        {
            for (int ox = 0; ox < ow; ox++, at += k)
            {
                int i = at;
                for (int ch = 0; ch < channels; ch++)
                {
                    ReadOnlySpan<float> plane = x.Slice(ch * h * w, h * w);
                    for (int ky = 0; ky < win.KernelH; ky++)
                    {
                        int iy = (oy * win.StrideH) - win.PadTop + (ky * win.DilationH);
                        for (int kx = 0; kx < win.KernelW; kx++, i++)
                        {
                            int ix = (ox * win.StrideW) - win.PadLeft + (kx * win.DilationW);
                            cols[i] = iy >= 0 && iy < h && ix >= 0 && ix < w ? plane[(iy * w) + ix] : 0f;
                        }
                    }
                }
            }
        }
    }

    /// <summary>Max or mean over each window; padding cells are skipped, and counted in a mean's divisor when asked.</summary>
    public static NdArray Pool(Node node, Window2d win, bool max, bool countPad, NdArray x)
    {
        (int n, int c, int h, int w) = Nchw(node, x);
        int oh = win.OutputHeight(h), ow = win.OutputWidth(w);
        float[] y = Allocate(node, n, c, oh, ow);
        float[] xs = x.Data;
        Parallel.For(0, n * c, plane =>
        {
            ReadOnlySpan<float> src = xs.AsSpan(plane * h * w, h * w);
            Span<float> dst = y.AsSpan(plane * oh * ow, oh * ow);
            for (int oy = 0; oy < oh; oy++)
            {
                for (int ox = 0; ox < ow; ox++)
                {
                    float best = float.NegativeInfinity, sum = 0f;
                    int inside = 0, padded = 0;
                    for (int ky = 0; ky < win.KernelH; ky++)
                    {
                        int iy = (oy * win.StrideH) - win.PadTop + (ky * win.DilationH);
                        for (int kx = 0; kx < win.KernelW; kx++)
                        {
                            int ix = (ox * win.StrideW) - win.PadLeft + (kx * win.DilationW);
                            if (iy >= 0 && iy < h && ix >= 0 && ix < w)
                            {
                                float v = src[(iy * w) + ix];
                                best = v > best || float.IsNaN(v) ? v : best;
                                sum += v;
                                inside++;
                            }
                            else if (iy < h + win.PadBottom && ix < w + win.PadRight)
                            {
                                // A padding cell (not one past the end padding, which ceil mode can reach).
                                padded++;
                            }
                        }
                    }

                    int divisor = countPad ? inside + padded : inside;
                    dst[(oy * ow) + ox] = max ? best : divisor == 0 ? 0f : sum / divisor;
                }
            }
        });
        return new NdArray([n, c, oh, ow], y);
    }

    /// <summary>Mean of each channel, summed in double as PyTorch's CPU kernels do.</summary>
    public static NdArray GlobalAverage(Node node, NdArray x)
    {
        (int n, int c, int h, int w) = Nchw(node, x);
        int area = h * w;
        var y = new float[n * c];
        for (int plane = 0; plane < y.Length; plane++)
        {
            double sum = 0;
            foreach (float v in x.Data.AsSpan(plane * area, area))
            {
                sum += v;
            }

            y[plane] = area == 0 ? 0f : (float)(sum / area);
        }

        return new NdArray([n, c, 1, 1], y);
    }

    public static NdArray Add(Node node, NdArray a, NdArray b)
    {
        if (!a.Shape.SequenceEqual(b.Shape))
        {
            throw new CimcException("input-shape", ShapeInference.Where(node),
                $"adds tensors of shapes [{string.Join(",", a.Shape)}] and [{string.Join(",", b.Shape)}]; they must match");
        }

        var y = new float[a.Data.Length];
        for (int i = 0; i < y.Length; i++)
        {
            y[i] = a.Data[i] + b.Data[i];
        }

        return new NdArray(a.Shape, y);
    }

    public static NdArray Concat(Node node, Concat concat, IReadOnlyList<NdArray> parts)
    {
        int rank = parts[0].Rank;
        int axis = concat.Axis < 0 ? concat.Axis + rank : concat.Axis;
        int outer = 1;
        for (int i = 0; i < axis; i++)
        {
            outer *= parts[0].Shape[i];
        }

        long total = parts.Sum(p => (long)p.Data.Length);
        if (total > Array.MaxLength)
        {
            throw new CimcException("tensor-too-large", ShapeInference.Where(node), $"the joined tensor would hold {total} values");
        }

        var y = new float[total];
        int at = 0;
        for (int o = 0; o < outer; o++)
        {
            foreach (NdArray p in parts)
            {
                int block = outer == 0 ? 0 : p.Data.Length / outer;
                p.Data.AsSpan(o * block, block).CopyTo(y.AsSpan(at, block));
                at += block;
            }
        }

        int joined = parts.Sum(p => p.Shape[axis]);
        return new NdArray(parts[0].Shape.SetItem(axis, joined), y);
    }

    private static (int N, int C, int H, int W) Nchw(Node node, NdArray x) => x.Rank == 4
        ? (x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3])
        : throw new CimcException("input-shape", ShapeInference.Where(node), $"{node.Op.Mnemonic} needs an NCHW input, got shape [{string.Join(",", x.Shape)}]");

    private static float[] Allocate(Node node, int n, int c, int h, int w)
    {
        long count = Limits.CheckedElementCount([n, c, h, w], ShapeInference.Where(node));
        return count <= Array.MaxLength ? new float[count]
            : throw new CimcException("tensor-too-large", ShapeInference.Where(node), $"the output [{n},{c},{h},{w}] is too large to compute");
    }
}
