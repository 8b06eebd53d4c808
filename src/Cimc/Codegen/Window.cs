using Cimc.Ir;
using Cimc.Quantization;

namespace Cimc.Codegen;

/// <summary>
/// Which codes of an HWC map fill a layer's input rows at one output pixel. Row r of a convolution
/// is kernel cell (kh, kw) and channel c, r = ((kh * KW) + kw) * Cin + c; its code sits at map index
/// ((iy * W) + ix) * Cin + c, so with dilation 1 the rows of one kh are contiguous in the map as long
/// as the window stays inside it. A dense layer (no geometry) reads row r at map index r.
/// </summary>
internal static class Window
{
    /// <summary>
    /// Rows [lo, hi) at output pixel (oy, ox) as runs (first row, length, map index or -1 for the
    /// padding), contiguous runs merged: one load (or one zero-point copy) each.
    /// </summary>
    public static List<(int Row, int Len, int Src)> Pieces(ConvGeometry? conv, MapShape input, int lo, int hi, int oy, int ox)
    {
        var pieces = new List<(int Row, int Len, int Src)>();
        if (conv is null)
        {
            pieces.Add((lo, hi - lo, lo));
            return pieces;
        }

        Window2d w = conv.Window;
        int cin = input.Channels;
        for (int r = lo; r < hi;)
        {
            int cell = r / cin, c = r % cin, kh = cell / w.KernelW, kw = cell % w.KernelW;
            int len = Math.Min(hi, r + (cin - c)) - r;
            int iy = (oy * w.StrideH) - w.PadTop + (kh * w.DilationH), ix = (ox * w.StrideW) - w.PadLeft + (kw * w.DilationW);
            int src = iy >= 0 && iy < input.Height && ix >= 0 && ix < input.Width ? input.IndexOf(c, iy, ix) : -1;
            if (pieces.Count > 0 && pieces[^1] is var (pr, pl, ps) && (ps < 0 ? src < 0 : src == ps + pl))
            {
                pieces[^1] = (pr, pl + len, ps);
            }
            else
            {
                pieces.Add((r, len, src));
            }

            r += len;
        }

        return pieces;
    }

    /// <summary>The cells (iy, ix) of the pooling window at output pixel (oy, ox) that lie inside the map.</summary>
    public static IEnumerable<(int Y, int X)> Cells(Window2d w, MapShape input, int oy, int ox)
    {
        for (int kh = 0; kh < w.KernelH; kh++)
        {
            int iy = (oy * w.StrideH) - w.PadTop + (kh * w.DilationH);
            for (int kw = 0; kw < w.KernelW; kw++)
            {
                int ix = (ox * w.StrideW) - w.PadLeft + (kw * w.DilationW);
                if (iy >= 0 && iy < input.Height && ix >= 0 && ix < input.Width)
                {
                    yield return (iy, ix);
                }
            }
        }
    }

    /// <summary>
    /// Cells of the pooling window at (oy, ox) inside the map or its declared padding: the divisor of
    /// an average pool that counts padding (a ceil-mode window may reach past the padding; those cells never count).
    /// </summary>
    public static int CountWithPadding(Window2d w, MapShape input, int oy, int ox)
    {
        int n = 0;
        for (int kh = 0; kh < w.KernelH; kh++)
        {
            int iy = (oy * w.StrideH) - w.PadTop + (kh * w.DilationH);
            for (int kw = 0; kw < w.KernelW; kw++)
            {
                int ix = (ox * w.StrideW) - w.PadLeft + (kw * w.DilationW);
                n += iy >= -w.PadTop && iy < input.Height + w.PadBottom && ix >= -w.PadLeft && ix < input.Width + w.PadRight ? 1 : 0;
            }
        }

        return n;
    }
}
