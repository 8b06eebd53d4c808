using Cimc.Isa;

namespace Cimc.Simulation;

/// <summary>
/// The inputs an mvm converts, shared by both simulators: all of an input below 2^ibits, or a
/// window of its bits (docs/isa.md, mvm's <c>ilo</c> and <c>lower</c>). A window's bits are taken
/// down to bit 0 so the bit-serial kernels run unchanged, its codes shifted ilo further.
/// </summary>
internal static class MvmWindow
{
    /// <summary>The first input outside [0, 2^<paramref name="ibits"/>), or -1.</summary>
    public static int FirstOutside(ReadOnlySpan<long> x, int ibits)
    {
        ulong limit = 1UL << ibits;
        for (int i = 0; i < x.Length; i++)
        {
            if ((ulong)x[i] >= limit)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>
    /// into[i] = bits [Low, Low + Bits) of x[i], shifted down to bit 0. Returns the first input the
    /// window does not allow, or -1: a top window needs x below 2^(Low + Bits); a lower window, whose
    /// higher bits another mvm converts, only x &gt;= 0.
    /// </summary>
    public static int Take(ReadOnlySpan<long> x, InputWindow window, Span<long> into)
    {
        int bad = window.Lower ? FirstOutside(x, 63) : FirstOutside(x, window.Low + window.Bits);
        long mask = (1L << window.Bits) - 1;
        for (int i = 0; i < x.Length; i++)
        {
            into[i] = (x[i] >> window.Low) & mask;
        }

        return bad;
    }

    /// <summary>What a window requires of an input, for a fault message: "outside [0, 2^16)", "negative".</summary>
    public static string Outside(InputWindow window) => window.Lower ? "negative (below a lower input window)" : $"outside [0, 2^{window.Low + window.Bits})";
}
