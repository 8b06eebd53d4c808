using System.Buffers;
using System.Runtime.Intrinsics;
using Cimc.Data;
using Cimc.Diagnostics;
using Cimc.Isa;

namespace Cimc.Simulation;

/// <summary>
/// <see cref="InputSpec.Quantize"/> over a row, four values at a time. The scalar version was a
/// fifth of the batched path's time on Fashion-MNIST. Each step is the scalar's in the same IEEE
/// double operations, so the codes are the same bit for bit:
/// - x / Scale is one correctly rounded double division in both;
/// - round half away from zero is t = trunc(v) plus sign(v) where |v - t| >= 0.5 (v - t is exact);
/// - when QMin - ZeroPoint and QMax - ZeroPoint are small enough to be exact doubles, clamping before
///   adding the zero point is clamping after it, and no saturation can occur in between.
/// Rows with a NaN, and specs outside that range, take the scalar path (which reports the NaN).
/// Every host quantizes here, so an input image given NCHW reaches the chip HWC (<see cref="InputImage"/>)
/// whichever simulator or command runs it.
/// </summary>
internal static class InputQuantizer
{
    private const long Exact = 1L << 50;

    /// <summary>One sample's codes in the chip's order: quantized, then reordered when the input is an image.</summary>
    public static void QuantizeRow(InputSpec spec, ReadOnlySpan<float> row, Span<long> dst)
    {
        if (spec.Image is not { } image)
        {
            QuantizeInOrder(spec, row, dst);
            return;
        }

        if (row.Length != image.Size)
        {
            throw new CimcException("bad-input", "input", $"the program takes {image} images ({image.Size} values), a sample has {row.Length}");
        }

        long[] fileOrder = ArrayPool<long>.Shared.Rent(row.Length);
        try
        {
            QuantizeInOrder(spec, row, fileOrder.AsSpan(0, row.Length));
            image.ToChipOrder<long>(fileOrder.AsSpan(0, row.Length), dst);
        }
        finally
        {
            ArrayPool<long>.Shared.Return(fileOrder);
        }
    }

    /// <summary>
    /// Inputs a program takes: rows of .input len values; for an input image, [N, C, H, W] with the
    /// image's shape or [N, C*H*W] rows already flat in NCHW order (an image stored HWC, [N, H, W, C],
    /// would be read in the wrong order and is refused).
    /// </summary>
    public static void CheckShape(InputSpec spec, NdArray inputs)
    {
        bool ok = spec.Image is { } image
            ? (inputs.Rank == 2 && inputs.RowLength == spec.Len)
              || (inputs.Rank == 4 && inputs.Shape[1] == image.Channels && inputs.Shape[2] == image.Height && inputs.Shape[3] == image.Width)
            : inputs.Rank > 0 && inputs.RowLength == spec.Len;
        if (!ok)
        {
            string takes = spec.Image is { } im ? $"{im} images (N x C x H x W, channels first)" : $"{spec.Len} values per sample";
            throw new CimcException("bad-input", "input", $"the program takes {takes}, the inputs have shape [{string.Join(", ", inputs.Shape)}]");
        }
    }

    private static void QuantizeInOrder(InputSpec spec, ReadOnlySpan<float> row, Span<long> dst)
    {
        bool vector = Vector256.IsHardwareAccelerated && Small(spec.QMin) && Small(spec.QMax) && Small(spec.ZeroPoint);
        int j = 0;
        if (vector)
        {
            long lo = spec.QMin - spec.ZeroPoint, hi = spec.QMax - spec.ZeroPoint;
            Vector256<double> scale = Vector256.Create(spec.Scale), half = Vector256.Create(0.5);
            Vector256<double> vlo = Vector256.Create((double)lo), vhi = Vector256.Create((double)hi);
            Vector256<long> zp = Vector256.Create(spec.ZeroPoint);
            for (; j + 4 <= row.Length; j += 4)
            {
                Vector256<double> v = Vector256.WidenLower(Vector128.Create(row.Slice(j, 4)).ToVector256Unsafe()) / scale;
                if (!Vector256.EqualsAll(v, v))
                {
                    break;
                }

                Vector256<double> t = Vector256.Truncate(v);
                Vector256<double> step = Vector256.ConditionalSelect(
                    Vector256.GreaterThanOrEqual(Vector256.Abs(v - t), half), Vector256.CopySign(Vector256<double>.One, v), Vector256<double>.Zero);
                Vector256<double> r = Vector256.Min(Vector256.Max(t + step, vlo), vhi);
                (Vector256.ConvertToInt64(r) + zp).CopyTo(dst[j..]);
            }
        }

        for (; j < row.Length; j++)
        {
            dst[j] = spec.Quantize(row[j]);
        }
    }

    private static bool Small(long v) => v > -Exact && v < Exact;
}
