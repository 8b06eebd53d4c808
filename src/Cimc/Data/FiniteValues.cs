using System.Globalization;
using Cimc.Diagnostics;

namespace Cimc.Data;

/// <summary>
/// NaN and infinity in inputs or calibration data are refused: the host would quantize them to some
/// code (docs/quantization.md section 2) and the answer would look like any other.
/// </summary>
public static class FiniteValues
{
    /// <summary>Returns <paramref name="x"/>, or throws one line naming <paramref name="what"/> and the first bad value.</summary>
    public static NdArray Check(NdArray x, string what)
    {
        int i = FirstNonFinite(x.Data);
        if (i < 0)
        {
            return x;
        }

        int row = x.RowLength == 0 ? 0 : i / x.RowLength, col = x.RowLength == 0 ? 0 : i % x.RowLength;
        string value = float.IsNaN(x.Data[i]) ? "NaN" : x.Data[i] > 0 ? "+inf" : "-inf";
        throw new CimcException("not-finite", what, string.Create(CultureInfo.InvariantCulture,
            $"value {col} of row {row} is {value}; inputs and calibration data must be finite numbers"));
    }

    private static int FirstNonFinite(float[] data)
    {
        for (int i = 0; i < data.Length; i++)
        {
            if (!float.IsFinite(data[i]))
            {
                return i;
            }
        }

        return -1;
    }
}
