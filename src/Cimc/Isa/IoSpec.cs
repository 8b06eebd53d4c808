using System.Collections.Immutable;
using Cimc.Diagnostics;

namespace Cimc.Isa;

/// <summary>
/// Values [Start, Start + Len) of the network input or output, at word <see cref="Addr"/> of tile
/// <see cref="Tile"/>'s buffer: a vector wider than one tile buffer is split into parts on several tiles.
/// </summary>
public sealed record IoPart(int Tile, int Addr, int Start, int Len);

/// <summary>
/// A network input that is an image of Channels x Height x Width given to the host in the model
/// file's order (NCHW: one plane per channel) while the chip reads maps pixel-major (HWC, the
/// quantized graph's layout): the host writes channel c of pixel (y, x) as input value
/// ((y * Width) + x) * Channels + c. A program records it only when the two orders differ (more
/// than one channel and more than one pixel), so every other program reads as before.
/// </summary>
public sealed record InputImage(int Channels, int Height, int Width)
{
    public long Size => (long)Channels * Height * Width;

    /// <summary>Whether the host's order differs from the chip's (else the image need not be recorded).</summary>
    public bool Reorders => Channels > 1 && (long)Height * Width > 1;

    public override string ToString() => $"{Channels}x{Height}x{Width}";

    /// <summary>hwc[((y * W) + x) * C + c] = nchw[((c * H) + y) * W + x] for one sample.</summary>
    public void ToChipOrder<T>(ReadOnlySpan<T> nchw, Span<T> hwc)
    {
        int pixels = Height * Width;
        for (int c = 0; c < Channels; c++)
        {
            ReadOnlySpan<T> plane = nchw.Slice(c * pixels, pixels);
            for (int p = 0; p < plane.Length; p++)
            {
                hwc[(p * Channels) + c] = plane[p];
            }
        }
    }

    internal void Validate(int len, string location)
    {
        if (Channels < 1 || Height < 1 || Width < 1 || Size != len)
        {
            throw new CimcException("bad-program", location, $"input image {this} does not hold the input's {len} values");
        }
    }
}

/// <summary>
/// How the host feeds one sample: q = clamp(round_half_away_from_zero(x / Scale) + ZeroPoint, QMin, QMax),
/// written as Len words to tile <see cref="Tile"/>'s buffer at <see cref="Addr"/>, or, when
/// <see cref="Parts"/> is set, each part's values to its own tile. When <see cref="Image"/> is set the
/// sample comes in NCHW order and its codes go to the chip in HWC order (input value i below is the
/// i-th in the chip's order).
/// </summary>
public sealed record InputSpec(int Tile, int Addr, int Len, double Scale, long ZeroPoint, long QMin, long QMax)
{
    /// <summary>
    /// Where the values go when the input is split (empty: all Len at <see cref="Tile"/>, <see cref="Addr"/>).
    /// Input parts may overlap (the host writes a value to every tile that reads it) and together cover [0, Len).
    /// </summary>
    public ImmutableArray<IoPart> Parts { get; init; } = [];

    /// <summary>Every region the host writes: <see cref="Parts"/>, or the one region of an unsplit input.</summary>
    public ImmutableArray<IoPart> Regions => Parts.IsEmpty ? [new IoPart(Tile, Addr, 0, Len)] : Parts;

    /// <summary>The input image whose NCHW samples the host reorders to HWC (null: samples are written in the order given).</summary>
    public InputImage? Image { get; init; }

    public bool Equals(InputSpec? other) =>
        other is not null && Tile == other.Tile && Addr == other.Addr && Len == other.Len && Scale.Equals(other.Scale) &&
        ZeroPoint == other.ZeroPoint && QMin == other.QMin && QMax == other.QMax && Parts.SequenceEqual(other.Parts) && Image == other.Image;

    public override int GetHashCode() => HashCode.Combine(Tile, Addr, Len, Scale, ZeroPoint, QMin, QMax, Parts.Length);

    public long Quantize(float x)
    {
        double v = Math.Round(x / Scale, MidpointRounding.AwayFromZero);
        if (double.IsNaN(v))
        {
            throw new CimcException("bad-input", "input", "input value is NaN");
        }

        // Clamp in double first so that huge values cannot overflow the conversion.
        const double Bound = 4.0e18;
        long q = (long)Math.Clamp(v, -Bound, Bound);
        long withZp = q > 0 && ZeroPoint > long.MaxValue - q ? long.MaxValue
            : q < 0 && ZeroPoint < long.MinValue - q ? long.MinValue
            : q + ZeroPoint;
        return Math.Clamp(withZp, QMin, QMax);
    }

    internal void Validate(ArchHeader arch, string location)
    {
        IoRange.CheckParts("input", Regions, Len, disjoint: false, arch, location);
        ValidateCodes(location);
        Image?.Validate(Len, location);
    }

    /// <summary>The checks that do not depend on the machine: scale and code range.</summary>
    internal void ValidateCodes(string location)
    {
        if (!double.IsFinite(Scale) || Scale <= 0)
        {
            throw new CimcException("bad-program", location, $"input scale {Scale} must be finite and positive");
        }

        if (QMin > QMax)
        {
            throw new CimcException("bad-program", location, $"input qmin {QMin} > qmax {QMax}");
        }
    }
}

/// <summary>
/// Where the host reads one sample's result once every core has halted: Len words of tile
/// <see cref="Tile"/>'s buffer at <see cref="Addr"/> (or each of <see cref="Parts"/>' values from its
/// own tile), dequantized as y_o = (q_o - ZeroPoints[o]) * Scales[o].
/// </summary>
public sealed record OutputSpec(int Tile, int Addr, int Len, ImmutableArray<double> Scales, ImmutableArray<long> ZeroPoints)
{
    /// <summary>Where the values are read when the output is split (empty: all Len at <see cref="Tile"/>, <see cref="Addr"/>); disjoint, covering [0, Len).</summary>
    public ImmutableArray<IoPart> Parts { get; init; } = [];

    /// <summary>Every region the host reads: <see cref="Parts"/>, or the one region of an unsplit output.</summary>
    public ImmutableArray<IoPart> Regions => Parts.IsEmpty ? [new IoPart(Tile, Addr, 0, Len)] : Parts;

    public float Dequantize(int o, long q) => (float)((q - ZeroPoints[o]) * Scales[o]);

    internal void Validate(ArchHeader arch, string location)
    {
        IoRange.CheckParts("output", Regions, Len, disjoint: true, arch, location);
        if (Scales.IsDefault || ZeroPoints.IsDefault || Scales.Length != Len || ZeroPoints.Length != Len)
        {
            throw new CimcException("bad-program", location,
                $"output has len {Len} but {(Scales.IsDefault ? 0 : Scales.Length)} scales and {(ZeroPoints.IsDefault ? 0 : ZeroPoints.Length)} zero points");
        }

        foreach (double s in Scales)
        {
            if (!double.IsFinite(s))
            {
                throw new CimcException("bad-program", location, $"output scale {s} is not finite");
            }
        }
    }
}

internal static class IoRange
{
    /// <summary>Each region inside its tile's buffer; together they cover [0, len) (exactly once when <paramref name="disjoint"/>).</summary>
    public static void CheckParts(string what, ImmutableArray<IoPart> parts, int len, bool disjoint, ArchHeader arch, string location)
    {
        var covered = new int[Math.Max(0, len)];
        foreach (IoPart p in parts)
        {
            Check(what, p.Tile, p.Addr, p.Len, arch, location);
            if (p.Start < 0 || (long)p.Start + p.Len > len)
            {
                throw new CimcException("bad-program", location, $"{what} part [{p.Start}, {(long)p.Start + p.Len}) is outside the {len} values");
            }

            for (int i = p.Start; i < p.Start + p.Len; i++)
            {
                covered[i]++;
            }
        }

        int gap = Array.FindIndex(covered, c => c == 0), twice = Array.FindIndex(covered, c => c > 1);
        if (gap >= 0 || (disjoint && twice >= 0))
        {
            throw new CimcException("bad-program", location, gap >= 0 ? $"{what} value {gap} is in no part" : $"{what} value {twice} is in two parts");
        }
    }

    public static void Check(string what, int tile, int addr, int len, ArchHeader arch, string location)
    {
        if (tile < 0 || tile >= arch.Tiles)
        {
            throw new CimcException("bad-program", location, $"{what} tile {tile} is outside [0, {arch.Tiles})");
        }

        if (addr < 0 || len < 0 || (long)addr + len > arch.BufferWords)
        {
            throw new CimcException("bad-program", location, $"{what} [{addr}, {(long)addr + len}) is outside the tile buffer of {arch.BufferWords} words");
        }
    }
}
