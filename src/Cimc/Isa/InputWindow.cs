using System.Collections.Immutable;

namespace Cimc.Isa;

/// <summary>
/// The input bits one mvm converts (its <c>ilo</c> and <c>lower</c> fields, docs/isa.md): bits
/// [<see cref="Low"/>, <see cref="Low"/> + <see cref="Bits"/>) of each input. <see cref="Lower"/> marks a
/// window below the input's top, whose higher bits another mvm converts; the default is the whole input.
/// </summary>
public readonly record struct InputWindow(int Low, int Bits, bool Lower)
{
    /// <summary>The whole input: the mvm's ibits from bit 0 (the fields an mvm had before windows existed).</summary>
    public static InputWindow Whole => default;

    public bool IsWhole => Low == 0 && Bits == 0 && !Lower;

    /// <summary>
    /// An input of <paramref name="ibits"/> bits cut into at most <paramref name="copies"/> windows of
    /// whole DAC slices, as even as slices allow, lowest first; the last is the top window. One
    /// window is <see cref="Whole"/>. Fewer windows than asked when there are fewer slices.
    /// </summary>
    public static ImmutableArray<InputWindow> Split(int ibits, int dacBits, int copies)
    {
        int slices = (ibits + dacBits - 1) / dacBits;
        int per = (slices + copies - 1) / Math.Max(copies, 1);
        int windows = per == 0 ? 1 : (slices + per - 1) / per;
        if (windows <= 1)
        {
            return [Whole];
        }

        return [.. Enumerable.Range(0, windows).Select(j =>
        {
            int low = j * per * dacBits;
            return new InputWindow(low, Math.Min(per * dacBits, ibits - low), j < windows - 1);
        })];
    }
}
