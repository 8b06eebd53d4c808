using System.Globalization;

namespace Cimc.Isa;

/// <summary>The functions of <c>vact</c>'s <c>fn</c> field.</summary>
public enum ActivationFunction
{
    Sigmoid = 0,
    Tanh = 1,
    LeakyRelu = 2,
}

/// <summary>
/// The parameter block of <c>vact</c>, seven 64-bit words at <c>mem[params]</c>:
/// <c>[z_t, umax_t, s_t, z_y, umax_y, s_y, alpha]</c>, zero points and ranges as integers, scales
/// and the leaky-relu slope as IEEE-754 doubles stored bit for bit.
/// </summary>
public readonly record struct ActivationParams(long InputZero, long InputMax, double InputScale, long OutputZero, long OutputMax, double OutputScale, double Alpha)
{
    public const int Words = 7;

    /// <summary>Largest magnitude of a zero point or range: keeps t - z_t and round(..) + z_y exact in a double.</summary>
    public const long Limit = 1L << 52;

    public static ActivationParams Read(ReadOnlySpan<long> words) => new(
        words[0], words[1], BitConverter.Int64BitsToDouble(words[2]),
        words[3], words[4], BitConverter.Int64BitsToDouble(words[5]),
        BitConverter.Int64BitsToDouble(words[6]));

    public long[] ToWords() =>
    [
        InputZero, InputMax, BitConverter.DoubleToInt64Bits(InputScale),
        OutputZero, OutputMax, BitConverter.DoubleToInt64Bits(OutputScale),
        BitConverter.DoubleToInt64Bits(Alpha),
    ];

    /// <summary>Why the block cannot be used (docs/isa.md, vact), or null if it can.</summary>
    public string? Problem()
    {
        return Range("umax_t", InputMax, 0) ?? Range("umax_y", OutputMax, 0) ?? Range("z_t", InputZero, -Limit) ?? Range("z_y", OutputZero, -Limit)
            ?? Scale("s_t", InputScale) ?? Scale("s_y", OutputScale)
            ?? (double.IsFinite(Alpha) ? null : string.Create(CultureInfo.InvariantCulture, $"alpha = {Alpha} must be finite"));

        static string? Range(string name, long v, long min) => v >= min && v <= Limit ? null : string.Create(CultureInfo.InvariantCulture, $"{name} = {v} is outside [{min}, 2^52]");

        static string? Scale(string name, double s) => double.IsFinite(s) && s > 0 ? null : string.Create(CultureInfo.InvariantCulture, $"{name} = {s} must be finite and > 0");
    }
}

/// <summary>
/// The special-function unit behind <c>vact</c> (docs/isa.md): per element, in IEEE-754 double,
/// <c>y = clamp(round(f(s_t * (t - z_t)) / s_y) + z_y, 0, umax_y)</c>, the activation formula of
/// docs/quantization.md section 5. It models PUMA's vector functional unit, which evaluates
/// sigmoid and tanh in hardware (Ankit et al., ASPLOS 2019), instead of a lookup table in memory.
/// Both simulators call it; the golden model computes the formula on its own.
/// </summary>
public static class SpecialFunction
{
    public static bool IsDefined(long fn) => fn is >= 0 and <= (long)ActivationFunction.LeakyRelu;

    /// <summary>
    /// One element; expects a block without <see cref="ActivationParams.Problem"/> and t in [0, umax_t].
    /// Order: x = s_t * (double)(t - z_t); f(x); q = round_half_away(f / s_y) + (double)z_y; NaN gives
    /// z_y; then clamp to [0, umax_y].
    /// </summary>
    public static long Evaluate(ActivationFunction fn, in ActivationParams p, long t)
    {
        double x = p.InputScale * (double)(t - p.InputZero);
        double f = fn switch
        {
            ActivationFunction.Sigmoid => 1.0 / (1.0 + Math.Exp(-x)),
            ActivationFunction.Tanh => Math.Tanh(x),
            _ => x >= 0 ? x : p.Alpha * x,
        };
        double q = Math.Round(f / p.OutputScale, MidpointRounding.AwayFromZero) + (double)p.OutputZero;
        return double.IsNaN(q) ? Math.Clamp(p.OutputZero, 0, p.OutputMax)
            : q <= 0 ? 0
            : q >= p.OutputMax ? p.OutputMax
            : (long)q;
    }
}
