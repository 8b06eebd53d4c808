using System.Collections.Immutable;
using Cimc.Diagnostics;

namespace Cimc.Isa;

/// <summary>
/// How the host feeds one sample: q = clamp(round_half_away_from_zero(x / Scale) + ZeroPoint, QMin, QMax),
/// written as Len words to tile <see cref="Tile"/>'s buffer at <see cref="Addr"/>.
/// </summary>
public sealed record InputSpec(int Tile, int Addr, int Len, double Scale, long ZeroPoint, long QMin, long QMax)
{
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
        IoRange.Check("input", Tile, Addr, Len, arch, location);
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
/// <see cref="Tile"/>'s buffer at <see cref="Addr"/>, dequantized as y_o = (q_o - ZeroPoints[o]) * Scales[o].
/// </summary>
public sealed record OutputSpec(int Tile, int Addr, int Len, ImmutableArray<double> Scales, ImmutableArray<long> ZeroPoints)
{
    public float Dequantize(int o, long q) => (float)((q - ZeroPoints[o]) * Scales[o]);

    internal void Validate(ArchHeader arch, string location)
    {
        IoRange.Check("output", Tile, Addr, Len, arch, location);
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
