using System.Numerics;
using System.Runtime.InteropServices;
using Cimc.Data;
using Cimc.Diagnostics;
using Cimc.Ir;

namespace Cimc.Reference;

/// <summary>
/// Runs a float <see cref="Graph"/> (a DAG, nodes in topological order) on a batch: the reference
/// for what the model computes before any quantization. Dense layers are dot products over
/// contiguous rows (input row x weight row), vectorised with <see cref="Vector{T}"/>, and the batch
/// is split across cores; convolutions reuse the same dot product over im2col rows (ConvKernels.cs).
/// </summary>
public static class FloatExecutor
{
    public static NdArray Run(Graph graph, NdArray input)
    {
        if (graph.Inputs.Length != 1 || graph.Outputs.Length != 1)
        {
            throw new CimcException("unsupported-graph", graph.Name, "the float reference runs graphs with one input and one output");
        }

        TensorType declared = graph.Inputs[0].Type;
        input = Conform(declared, input);
        CheckShapes(graph, input);

        // A value is dropped after its last reader, so a deep network holds only the live ones.
        var lastUse = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < graph.Nodes.Length; i++)
        {
            foreach (string name in graph.Nodes[i].Inputs)
            {
                lastUse[name] = i;
            }
        }

        var values = new Dictionary<string, NdArray>(StringComparer.Ordinal) { [graph.Inputs[0].Name] = input };
        for (int i = 0; i < graph.Nodes.Length; i++)
        {
            Node node = graph.Nodes[i];
            values[node.Output] = Apply(node, [.. node.Inputs.Select(name => values[name])]);
            foreach (string name in node.Inputs)
            {
                if (lastUse[name] == i && name != graph.Outputs[0].Name)
                {
                    values.Remove(name);
                }
            }
        }

        return values[graph.Outputs[0].Name];
    }

    /// <summary>
    /// Infers every shape for the actual input (a model whose file left the image size open, such
    /// as a TorchScript convolutional network, learns it here), so that a mismatch is one line
    /// naming the node rather than a failure deep in a kernel.
    /// </summary>
    private static void CheckShapes(Graph graph, NdArray input)
    {
        ValueInfo declared = graph.Inputs[0];
        var dims = input.Shape.ToArray();
        dims[0] = TensorType.Dynamic;
        ShapeInference.Infer(graph with { Inputs = [declared with { Type = declared.Type with { Dims = [.. dims] } }] });
    }

    /// <summary>
    /// Accepts the declared shape, or any batch with the same per-sample size (e.g. [N,28,28] images
    /// for a model declared [N,784]), reshaped to the declared shape. Images without a channel
    /// dimension ([N,H,W], as IDX files hold them) feed a one-channel NCHW model as [N,1,H,W].
    /// </summary>
    public static NdArray Conform(TensorType declared, NdArray input)
    {
        bool sameRank = declared.Rank == input.Rank;
        bool matches = sameRank && declared.Dims.Zip(input.Shape).All(p => p.First < 0 || p.First == p.Second);
        if (matches)
        {
            return input;
        }

        // An image of several channels unfolds from flat rows only: [N, H, W, C] (channels last) has
        // as many values per sample as [N, C, H, W] but in another order, so it would be read wrong.
        bool channels = declared.Rank == 4 && declared.Dims[1] > 1 && input.Rank > 2;
        long? perSample = declared.ElementsFrom(1);
        if (perSample is { } n && declared.Rank >= 1 && input.Rank >= 1 && input.RowLength == n && !channels)
        {
            return new NdArray([input.Rows, .. declared.Dims.Skip(1)], input.Data);
        }

        if (declared.Rank == 4 && input.Rank == 3 && declared.Dims[1] == 1
            && (declared.Dims[2] < 0 || declared.Dims[2] == input.Shape[1]) && (declared.Dims[3] < 0 || declared.Dims[3] == input.Shape[2]))
        {
            return new NdArray([input.Shape[0], 1, input.Shape[1], input.Shape[2]], input.Data);
        }

        // A PyTorch file does not record an image model's height and width, so flat images cannot be unfolded.
        string hint = declared.Rank == 4 && declared.ElementsFrom(1) is null ? " (give images as N x C x H x W, or N x H x W for one channel)"
            : channels ? " (give images as N x C x H x W, channels first, or as flat rows in that order)" : "";
        throw new CimcException("input-shape", "input",
            $"the model expects {declared} but the input has shape [{string.Join(",", input.Shape)}]{hint}");
    }

    public static NdArray Apply(Node node, NdArray x) => Apply(node, [x]);

    public static NdArray Apply(Node node, IReadOnlyList<NdArray> inputs)
    {
        NdArray x = inputs[0];
        return node.Op switch
        {
            Dense dense => ApplyDense(dense, x),
            Relu => Map(x, v => v > 0f ? v : 0f),
            LeakyRelu leaky => Map(x, v => v >= 0f ? v : v * leaky.Alpha),
            Sigmoid => Map(x, v => (float)(1.0 / (1.0 + Math.Exp(-v)))),
            Tanh => Map(x, MathF.Tanh),
            Softmax softmax => ApplySoftmax(softmax.Axis, x, log: false),
            LogSoftmax softmax => ApplySoftmax(softmax.Axis, x, log: true),
            Clip c => Map(x, v => v < c.Min ? c.Min : v > c.Max ? c.Max : v),
            Flatten flatten => ApplyFlatten(flatten, x),
            Reshape reshape => ApplyReshape(node, reshape, x),
            Identity => x,
            FakeQuant q => Map(x, q.Apply),
            Conv2d conv => ConvKernels.Conv(node, conv, x),
            MaxPool2d pool => ConvKernels.Pool(node, pool.Window, max: true, countPad: false, x),
            AvgPool2d pool => ConvKernels.Pool(node, pool.Window, max: false, pool.CountIncludePad, x),
            GlobalAvgPool => ConvKernels.GlobalAverage(node, x),
            Add => ConvKernels.Add(node, x, inputs[1]),
            Concat concat => ConvKernels.Concat(node, concat, inputs),
            _ => throw new InvalidOperationException($"float executor has no case for {node.Op.GetType().Name}"),
        };
    }

    private static NdArray Map(NdArray x, Func<float, float> f)
    {
        var y = new float[x.Data.Length];
        for (int i = 0; i < y.Length; i++)
        {
            y[i] = f(x.Data[i]);
        }

        return new NdArray(x.Shape, y);
    }

    private static NdArray ApplyDense(Dense dense, NdArray x)
    {
        int inF = dense.InFeatures, outF = dense.OutFeatures;
        if (x.Rank == 0 || x.Shape[^1] != inF)
        {
            throw new CimcException("input-shape", "dense", $"expected {inF} features, got shape [{string.Join(",", x.Shape)}]");
        }

        int rows = x.Data.Length / inF;
        var y = new float[rows * outF];
        ReadOnlyMemory<float> w = dense.Weight.Memory;
        float[] xs = x.Data;
        ReadOnlyMemory<float>? b = dense.Bias?.Memory;
        Parallel.For(0, (rows + 31) / 32, chunk =>
        {
            int end = Math.Min(rows, (chunk + 1) * 32);
            ReadOnlySpan<float> ws = w.Span;
            ReadOnlySpan<float> bs = b is { } bm ? bm.Span : default;
            for (int r = chunk * 32; r < end; r++)
            {
                ReadOnlySpan<float> xr = xs.AsSpan(r * inF, inF);
                Span<float> yr = y.AsSpan(r * outF, outF);
                for (int o = 0; o < outF; o++)
                {
                    float s = Dot(xr, ws.Slice(o * inF, inF));
                    yr[o] = bs.IsEmpty ? s : s + bs[o];
                }
            }
        });
        return new NdArray(x.Shape.SetItem(x.Rank - 1, outF), y);
    }

    /// <summary>Dot product with float32 products accumulated in float32 lanes, as BLAS does.</summary>
    internal static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        int n = a.Length, i = 0;
        float sum = 0f;
        if (Vector.IsHardwareAccelerated && n >= Vector<float>.Count)
        {
            var acc = Vector<float>.Zero;
            ReadOnlySpan<Vector<float>> va = MemoryMarshal.Cast<float, Vector<float>>(a);
            ReadOnlySpan<Vector<float>> vb = MemoryMarshal.Cast<float, Vector<float>>(b);
            for (int k = 0; k < va.Length; k++)
            {
                acc += va[k] * vb[k];
            }

            sum = Vector.Sum(acc);
            i = va.Length * Vector<float>.Count;
        }

        for (; i < n; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }

    /// <summary>Softmax, or its logarithm computed from the shifted values (no log of a rounded quotient).</summary>
    private static NdArray ApplySoftmax(int softmaxAxis, NdArray x, bool log)
    {
        int axis = softmaxAxis < 0 ? softmaxAxis + x.Rank : softmaxAxis;
        int len = x.Shape[axis];
        int inner = 1;
        for (int i = axis + 1; i < x.Rank; i++)
        {
            inner *= x.Shape[i];
        }

        int outer = len == 0 || inner == 0 ? 0 : x.Data.Length / (len * inner);
        var y = new float[x.Data.Length];
        for (int o = 0; o < outer; o++)
        {
            for (int j = 0; j < inner; j++)
            {
                int baseIndex = (o * len * inner) + j;
                float max = float.NegativeInfinity;
                for (int k = 0; k < len; k++)
                {
                    max = MathF.Max(max, x.Data[baseIndex + (k * inner)]);
                }

                double total = 0;
                for (int k = 0; k < len; k++)
                {
                    double e = Math.Exp(x.Data[baseIndex + (k * inner)] - max);
                    y[baseIndex + (k * inner)] = (float)e;
                    total += e;
                }

                double logTotal = Math.Log(total);
                for (int k = 0; k < len; k++)
                {
                    int at = baseIndex + (k * inner);
                    y[at] = log ? (float)(x.Data[at] - max - logTotal) : (float)(y[at] / total);
                }
            }
        }

        return new NdArray(x.Shape, y);
    }

    private static NdArray ApplyFlatten(Flatten flatten, NdArray x)
    {
        int axis = flatten.Axis < 0 ? flatten.Axis + x.Rank : flatten.Axis;
        int outer = 1;
        for (int i = 0; i < axis; i++)
        {
            outer *= x.Shape[i];
        }

        int inner = outer == 0 ? 0 : x.Data.Length / outer;
        return new NdArray([outer, inner], x.Data);
    }

    private static NdArray ApplyReshape(Node node, Reshape reshape, NdArray x)
    {
        var dims = new int[reshape.Shape.Length];
        int inferAt = -1;
        long known = 1;
        for (int i = 0; i < dims.Length; i++)
        {
            long s = reshape.Shape[i];
            if (s == -1)
            {
                inferAt = i;
                continue;
            }

            dims[i] = s == 0 ? x.Shape[i] : (int)s;
            known *= dims[i];
        }

        if (inferAt >= 0)
        {
            if (known == 0 || x.Data.Length % known != 0)
            {
                throw new CimcException("bad-reshape", $"node '{node.Name}'", $"cannot reshape [{string.Join(",", x.Shape)}] to [{string.Join(",", reshape.Shape)}]");
            }

            dims[inferAt] = (int)(x.Data.Length / known);
        }
        else if (known != x.Data.Length)
        {
            throw new CimcException("bad-reshape", $"node '{node.Name}'", $"cannot reshape [{string.Join(",", x.Shape)}] to [{string.Join(",", reshape.Shape)}]");
        }

        return new NdArray([.. dims], x.Data);
    }
}
