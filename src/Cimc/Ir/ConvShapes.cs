using System.Collections.Immutable;
using Cimc.Diagnostics;

namespace Cimc.Ir;

/// <summary>
/// Shape rules of the NCHW ops (convolution, pooling) and of the ops that join two or more values
/// (add, concat). An unknown dimension stays unknown; a known one that does not fit is a
/// diagnostic naming the node, e.g. "conv2d needs an NCHW input (rank 4), got f32[?,784]".
/// </summary>
internal static class ConvShapes
{
    public static TensorType Conv(Node node, Conv2d conv, TensorType input)
    {
        ImmutableArray<int> w = conv.Weight.Shape;
        if (w.Length != 4 || w.Any(d => d == 0))
        {
            throw Problem(node, "bad-conv", $"the weight of shape [{string.Join(",", w)}] is not a non-empty [out, in/group, kh, kw] tensor");
        }

        if (conv.Group < 1 || conv.OutChannels % conv.Group != 0)
        {
            throw Problem(node, "bad-conv", $"group {conv.Group} does not divide the {conv.OutChannels} output channels");
        }

        if (conv.Window.KernelH != w[2] || conv.Window.KernelW != w[3])
        {
            throw Problem(node, "bad-conv", $"the kernel {conv.Window.KernelH}x{conv.Window.KernelW} differs from the weight's {w[2]}x{w[3]}");
        }

        if (conv.Bias is { } bias && bias.Length != conv.OutChannels)
        {
            throw Problem(node, "shape-mismatch", $"bias has {bias.Length} values but the convolution has {conv.OutChannels} output channels");
        }

        TensorType checkedInput = Spatial(node, input);
        int c = checkedInput.Dims[1];
        if (c >= 0 && c != conv.InChannels)
        {
            throw Problem(node, "shape-mismatch", $"input {input} has {c} channels but the weight expects {conv.InChannels}");
        }

        return Windowed(node, conv.Window, checkedInput, conv.OutChannels);
    }

    public static TensorType Pool(Node node, Window2d window, TensorType input)
    {
        TensorType checkedInput = Spatial(node, input);
        return Windowed(node, window, checkedInput, checkedInput.Dims[1]);
    }

    public static TensorType GlobalPool(Node node, TensorType input)
    {
        TensorType checkedInput = Spatial(node, input);
        return checkedInput with { Element = ElementType.Float32, Dims = [checkedInput.Dims[0], checkedInput.Dims[1], 1, 1] };
    }

    public static TensorType Add(Node node, TensorType a, TensorType b)
    {
        if (a.Rank != b.Rank)
        {
            throw Problem(node, "shape-mismatch", $"adds {a} and {b}, which have different ranks; cimc adds tensors of one shape");
        }

        var dims = new int[a.Rank];
        for (int i = 0; i < dims.Length; i++)
        {
            int x = a.Dims[i], y = b.Dims[i];
            if (x >= 0 && y >= 0 && x != y)
            {
                throw Problem(node, "shape-mismatch", $"adds {a} and {b}, which differ in dimension {i}; cimc adds tensors of one shape");
            }

            dims[i] = x >= 0 ? x : y;
        }

        return a with { Element = ElementType.Float32, Dims = [.. dims] };
    }

    public static TensorType Concat(Node node, Concat concat, IReadOnlyList<TensorType> inputs)
    {
        int rank = inputs[0].Rank;
        int axis = concat.Axis < 0 ? concat.Axis + rank : concat.Axis;
        if (axis < 0 || axis >= rank)
        {
            throw Problem(node, "bad-axis", $"axis {concat.Axis} is out of range for rank {rank}");
        }

        var dims = inputs[0].Dims.ToArray();
        for (int k = 1; k < inputs.Count; k++)
        {
            TensorType t = inputs[k];
            if (t.Rank != rank)
            {
                throw Problem(node, "shape-mismatch", $"joins {inputs[0]} and {t}, which have different ranks");
            }

            for (int i = 0; i < rank; i++)
            {
                int x = dims[i], y = t.Dims[i];
                if (i == axis)
                {
                    dims[i] = x < 0 || y < 0 ? TensorType.Dynamic : checked(x + y);
                }
                else if (x >= 0 && y >= 0 && x != y)
                {
                    throw Problem(node, "shape-mismatch", $"joins {inputs[0]} and {t} on axis {axis}, but they differ in dimension {i}");
                }
                else if (x < 0)
                {
                    dims[i] = y;
                }
            }
        }

        return inputs[0] with { Element = ElementType.Float32, Dims = [.. dims] };
    }

    /// <summary>The input must be NCHW; the window ops compute in float32.</summary>
    private static TensorType Spatial(Node node, TensorType input) => input.Rank == 4
        ? input
        : throw Problem(node, "shape-mismatch", $"{node.Op.Mnemonic} needs an NCHW input (rank 4), got {input}");

    private static TensorType Windowed(Node node, Window2d window, TensorType input, int channels)
    {
        if (Check(window) is { } problem)
        {
            throw Problem(node, "bad-window", problem);
        }

        int h = window.OutputHeight(input.Dims[2]), w = window.OutputWidth(input.Dims[3]);
        if (h == 0 || w == 0)
        {
            throw Problem(node, "shape-mismatch",
                $"the {window.KernelH}x{window.KernelW} window (dilation {window.DilationH}x{window.DilationW}, padding {window.PadTop},{window.PadLeft},{window.PadBottom},{window.PadRight}) does not fit the {input.Dims[2]}x{input.Dims[3]} input {input}");
        }

        return input with { Element = ElementType.Float32, Dims = [input.Dims[0], channels, h, w] };
    }

    /// <summary>What is wrong with a window's numbers, or null. Bounds keep index arithmetic in range.</summary>
    public static string? Check(Window2d w)
    {
        const int Max = 1 << 16;
        if (w.KernelH is < 1 or > Max || w.KernelW is < 1 or > Max)
        {
            return $"kernel {w.KernelH}x{w.KernelW} is not between 1 and {Max}";
        }

        if (w.StrideH is < 1 or > Max || w.StrideW is < 1 or > Max)
        {
            return $"stride {w.StrideH}x{w.StrideW} is not between 1 and {Max}";
        }

        if (w.DilationH is < 1 or > Max || w.DilationW is < 1 or > Max)
        {
            return $"dilation {w.DilationH}x{w.DilationW} is not between 1 and {Max}";
        }

        int[] pads = [w.PadTop, w.PadLeft, w.PadBottom, w.PadRight];
        return pads.Any(p => p is < 0 or > Max) ? $"padding {string.Join(",", pads)} is not between 0 and {Max}" : null;
    }

    private static CimcException Problem(Node node, string code, string message) => new(code, ShapeInference.Where(node), message);
}
