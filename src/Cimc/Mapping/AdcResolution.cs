using System.Collections.Immutable;
using System.Globalization;
using Cimc.Quantization;

namespace Cimc.Mapping;

/// <summary>
/// What ADC a layer's reads need to lose nothing (docs/quantization.md section 6). One read sums
/// `digit * level` over the rows read at once, so the largest column sum any input can produce is
///
///     pbound = rows_at_once * max_digit * max_level
///     rows_at_once = min(rows per read, the layer's largest row block)
///                    (largest row block = min(crossbar rows, in_features), or min(crossbar rows, Cin)
///                     for a convolution mapped per kernel position)
///     max_digit    = min(2^d - 1, umax_x)            (the input codes may have fewer bits than a DAC slice)
///     max_level    = min(2^c - 1, largest stored weight)  (Qw differential, 2 Qw offset, 2^bitlen(Qw) - 1 two's complement)
///
/// and the conversion is exact for every input when the ADC step is 1 (s = 0) and pbound fits in the
/// ADC: `lossless bits = bitlen(pbound)`. A narrower ADC still works (the simulator models it): with
/// s = 0 larger sums saturate, with s > 0 the low s bits are rounded away.
/// </summary>
public sealed record AdcRequirement(
    string Layer,
    int RowsAtOnce,
    int CellBits,
    int DacBits,
    long MaxDigit,
    long MaxLevel,
    long MaxSum,
    int LosslessBits,
    int AdcBits,
    int AdcShift)
{
    /// <summary>True when every read converts exactly: unit step and the largest sum within the ADC.</summary>
    public bool Lossless => AdcShift == 0 && LosslessBits <= AdcBits;

    /// <summary>
    /// Largest sum that converts without clipping: code = min(floor((p + h) / 2^s), 2^a - 1), so sums
    /// from 2^(a+s) - h up clip to the top code.
    /// </summary>
    public long LargestUnclipped => (1L << (AdcBits + AdcShift)) - (AdcShift > 0 ? 1L << (AdcShift - 1) : 0) - 1;

    /// <summary>True when some input makes a read clip at the top code (summary.json adc_can_saturate).</summary>
    public bool CanSaturate => MaxSum > LargestUnclipped;

    /// <summary>One line saying what this layer loses, or null when it loses nothing.</summary>
    public string? Warning()
    {
        if (Lossless)
        {
            return null;
        }

        string loses = AdcShift == 0
            ? $"sums above {LargestUnclipped} saturate"
            : $"ADC step {1L << AdcShift} rounds away the low {Bits(AdcShift)}"
              + (CanSaturate ? $" and sums above {LargestUnclipped} saturate" : "");
        return string.Create(CultureInfo.InvariantCulture,
            $"layer '{Layer}' reads {RowsAtOnce} rows of {CellBits}-bit cells with {DacBits}-bit DACs: lossless needs a {LosslessBits}-bit ADC, the chip has {AdcBits} ({loses})");
    }

    private static string Bits(int n) => n == 1 ? "bit" : $"{n} bits";
}

/// <summary>Computes <see cref="AdcRequirement"/> for the layers of a mapping.</summary>
public static class AdcResolution
{
    /// <summary>The requirement of every layer, in order.</summary>
    public static ImmutableArray<AdcRequirement> Of(MappedModel mapped) =>
        [.. mapped.Layers.Select(l => Of(l, mapped.Geometry, mapped.Encoding))];

    /// <summary>The ADC bits the whole mapping needs to be lossless: the largest over its layers.</summary>
    public static int LosslessBits(MappedModel mapped) => Of(mapped).Select(r => r.LosslessBits).DefaultIfEmpty(1).Max();

    /// <summary>
    /// One line for the whole mapping, or null when every read is exact: the layer that needs the
    /// widest ADC, and how many other layers lose bits as well.
    /// </summary>
    public static string? Warning(MappedModel mapped)
    {
        List<AdcRequirement> lossy = [.. Of(mapped).Where(r => !r.Lossless)];
        if (lossy.Count == 0)
        {
            return null;
        }

        AdcRequirement worst = lossy.MaxBy(r => r.LosslessBits)!;
        int others = lossy.Count - 1;
        return worst.Warning() + (others == 0 ? "" : $"; {others} more {(others == 1 ? "layer" : "layers")} too (adc_lossless_bits per layer in summary.json)");
    }

    public static AdcRequirement Of(MappedLayer layer, CrossbarGeometry g, SignedWeightEncoding encoding)
    {
        QuantizedLayer q = layer.Layer;
        long sum = LargestSum(q, layer.MaxBlockRows, g, encoding, out int rows, out long digit, out long level);
        return new AdcRequirement(q.Name, rows, g.CellBits, g.DacBits, digit, level, sum,
            Math.Max(1, IntMath.BitLength(sum)), g.AdcBits, q.AdcShift);
    }

    /// <summary>The largest column sum one read of the layer can produce on any input (the closed form above).</summary>
    /// <param name="blockRows">the most rows of one of the layer's row blocks (<see cref="MappedLayer.MaxBlockRows"/>)</param>
    public static long LargestSum(QuantizedLayer layer, int blockRows, CrossbarGeometry g, SignedWeightEncoding encoding) =>
        LargestSum(layer, blockRows, g, encoding, out _, out _, out _);

    private static long LargestSum(QuantizedLayer layer, int blockRows, CrossbarGeometry g, SignedWeightEncoding encoding, out int rows, out long digit, out long level)
    {
        int group = layer.RowsPerRead > 0 ? layer.RowsPerRead : g.Rows;
        rows = Math.Min(group, blockRows);
        digit = Math.Min((1L << g.DacBits) - 1, layer.Input.Max);
        long qw = layer.WeightMax;
        long stored = encoding switch
        {
            SignedWeightEncoding.Differential => qw,
            SignedWeightEncoding.Offset => 2 * qw,
            // The low bits of -1 are all ones; the sign slice holds at most 1.
            _ => (1L << IntMath.BitLength(qw)) - 1,
        };
        level = Math.Min((1L << g.CellBits) - 1, stored);
        return rows * digit * level;
    }
}
