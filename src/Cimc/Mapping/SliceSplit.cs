using System.Collections.Immutable;
using Cimc.Diagnostics;
using Cimc.Isa;

namespace Cimc.Mapping;

/// <summary>
/// `--slice-split none|auto|K`: copies per crossbar block for the split-slices pass. 1 is none, 0 is
/// auto (the pass chooses), K above 1 asks for K windows of the input's bit slices per block.
/// </summary>
public readonly record struct SliceSplitChoice(int Copies)
{
    public static SliceSplitChoice None => new(1);

    public static SliceSplitChoice Auto => new(0);

    public bool IsAuto => Copies == 0;

    public static SliceSplitChoice Parse(string text) => text switch
    {
        "none" => None,
        "auto" => Auto,
        _ when int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int k) && k is >= 1 and <= 32 => new(k),
        _ => throw new CimcException("bad-option", "--slice-split", $"'{text}' is not none, auto or a copy count from 1 to 32"),
    };

    public override string ToString() => IsAuto ? "auto" : Copies == 1 ? "none" : Copies.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>
/// Input bit-slice parallelism (docs/optimizations.md, "Input bit-slice split"): a layer whose
/// crossbar blocks each get k copies on spare crossbars, copy j converting only the input's bit
/// slices in window j (<see cref="InputWindow.Split"/>: whole DAC slices, lowest first). A copy's
/// codes are the unsplit block's codes of those slices, shifted by the same amounts, so the copies'
/// partial sums, added like any other blocks of the column block, are the unsplit sums bit for bit;
/// each copy's mvm streams ceil(w / dac_bits) slices instead of ceil(ibits / dac_bits).
/// </summary>
public static class SliceSplit
{
    /// <summary>
    /// Each layer's blocks copied per window of its input (<paramref name="copies"/>[l], 1: as
    /// mapped). The order of <see cref="MappedLayer.Blocks"/> is what every placement pass fills
    /// cores with, so it is the placement choice: copies of a block follow it (<paramref name="adjacent"/>:
    /// consecutive, so they share a core, in its other ADC groups, and its accumulators) or, the
    /// default, per column block one whole set of row blocks per window (a window's copies on cores
    /// of their own, reduced across cores with the rest of the column block). Apart measured faster on
    /// MLP-L4 -O2 in 3 of 4 cases (puma k = 2: 8.33 vs 8.40 us, k = 4: 9.84 vs 9.72; isaac k = 2:
    /// 8.66 vs 8.75, k = 4: 7.88 vs 8.93; docs/optimizations.md).
    /// </summary>
    public static MappedModel Apply(MappedModel mapped, IReadOnlyList<int> copies, int dacBits, bool adjacent = false) =>
        mapped with { Layers = [.. mapped.Layers.Select((l, i) => Split(Unsplit(l), copies[i], dacBits, adjacent))] };

    /// <summary>The layer as the map pass cut it (one block per cell and plane): the top window's copies, whole again.</summary>
    public static MappedLayer Unsplit(MappedLayer layer) =>
        layer.SliceCopies == 1 ? layer : layer with { Blocks = [.. layer.Blocks.Where(b => !b.Window.Lower).Select(b => b with { Window = InputWindow.Whole })], SliceCopies = 1 };

    private static MappedLayer Split(MappedLayer layer, int k, int dacBits, bool adjacent)
    {
        ImmutableArray<InputWindow> windows = InputWindow.Split(layer.InputBits, dacBits, k);
        if (windows.Length == 1)
        {
            return layer;
        }

        // Blocks come column block, row block, plane (CrossbarMapper); the copies go in per cell
        // (adjacent) or per column block.
        var blocks = ImmutableArray.CreateBuilder<CrossbarBlock>(layer.Blocks.Length * windows.Length);
        foreach (IGrouping<int, CrossbarBlock> column in layer.Blocks.GroupBy(b => b.ColBlock))
        {
            if (adjacent)
            {
                foreach (IGrouping<int, CrossbarBlock> cell in column.GroupBy(b => b.RowBlock))
                {
                    blocks.AddRange(windows.SelectMany(w => cell.Select(b => b with { Window = w })));
                }
            }
            else
            {
                blocks.AddRange(windows.SelectMany(w => column.Select(b => b with { Window = w })));
            }
        }

        return layer with { Blocks = blocks.MoveToImmutable(), SliceCopies = windows.Length };
    }
}
