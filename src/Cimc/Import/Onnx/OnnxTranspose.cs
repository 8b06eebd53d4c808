using System.Collections.Immutable;
using Cimc.Import.Onnx.Proto;

namespace Cimc.Import.Onnx;

/// <summary>
/// Transpose of a constant is folded (older PyTorch exports write Linear without bias as
/// MatMul(x, Transpose(W))). A Transpose of the computed value would move the batch, which the
/// float graph does not do, so it is refused.
/// Before: MatMul(x, Transpose[perm=1,0](W)). After: MatMul(x, W^T) with W^T a constant.
/// </summary>
internal sealed partial class OnnxLowering
{
    private void Transpose(NodeProto node)
    {
        if (!HasInput(node, 0) || TryConstant(node.Input[0]) is not { } c)
        {
            throw Problem(node, "onnx-transpose", "a Transpose of the computed value is not supported; cimc folds Transpose of constants (weights) only");
        }

        int rank = c.Dims.Length;
        AttributeProto? permAttribute = Attribute(node, "perm");
        long[] perm = permAttribute is null ? [.. Enumerable.Range(0, rank).Reverse().Select(i => (long)i)] : [.. permAttribute.Ints];
        if (perm.Length != rank || perm.Any(p => p < 0 || p >= rank) || perm.Distinct().Count() != rank)
        {
            throw Problem(node, "onnx-transpose", $"perm [{string.Join(",", perm)}] is not a permutation of the {rank} axes of {c.ShapeText}");
        }

        ImmutableArray<long> dims = [.. perm.Select(p => c.Dims[(int)p])];
        int[] source = SourceIndices(c.Dims, perm);
        _constants[node.Output[0]] = c.Floats is { } f
            ? c with { Dims = dims, Floats = [.. source.Select(i => f[i])], Dequantized = null }
            : c with { Dims = dims, Ints = [.. source.Select(i => c.Ints![i])], Dequantized = null };
    }

    /// <summary>For each element of the transposed tensor (row-major), its index in the original.</summary>
    private static int[] SourceIndices(ImmutableArray<long> dims, long[] perm)
    {
        int rank = dims.Length;
        var strides = new long[rank];
        long stride = 1;
        for (int d = rank - 1; d >= 0; d--)
        {
            strides[d] = stride;
            stride *= dims[d];
        }

        var result = new int[stride];
        var index = new long[rank];
        for (int n = 0; n < result.Length; n++)
        {
            long at = 0;
            for (int d = 0; d < rank; d++)
            {
                at += index[d] * strides[perm[d]];
            }

            result[n] = (int)at;
            for (int d = rank - 1; d >= 0; d--)
            {
                if (++index[d] < dims[(int)perm[d]])
                {
                    break;
                }

                index[d] = 0;
            }
        }

        return result;
    }
}
