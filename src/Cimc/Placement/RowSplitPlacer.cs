using Cimc.Mapping;

namespace Cimc.Placement;

/// <summary>
/// The place-rows pass: each layer's slots split by input rows into two halves, each half on tiles
/// of its own, so that a tile reads only half of the layer's input. Why: with linear placement a
/// tile holds whole column blocks (every row block of a few columns) and so must receive the whole
/// layer input over its one ejection link (MLP-L4 on puma: 1,024 16-bit codes, 512 ns on a 32-bit
/// link, per layer); halving the rows per tile halves that, at the price of one level of each
/// column block's reduction crossing tiles (partial sums are wider than codes). It pays when the
/// input dominates (docs/optimizations.md gives the measurements); with the broadcast-tree pass a
/// chunk goes only to the tiles reading it.
/// Slot s of a layer (its blocks in the mapper's order, one core) belongs to the lower half when its
/// first row is below the layer's middle row block; each layer starts on a fresh tile, its lower
/// half first (the lead, slot 0, stays the first core: the network input sits on its tile), each
/// half fills its tiles' cores in order, and the halves' tiles alternate (lower k-th, upper k-th,
/// ...), so the two tiles of a column block are neighbours: the same router of a concentrated mesh
/// whose router blocks are two tiles wide (puma, isaac), where their partial sums cross no mesh
/// link (tiles of two halves far apart all crossed the same links between them). Expects a mapped model that fits; guarantees every
/// block placed once and layers on disjoint cores. Falls back to linear placement on a node of
/// several chips or when the halves need more tiles than the chip has. Deterministic.
/// <code>
/// linear:     tile 4 = layer 1, columns 0..255 x rows 0..1023
/// place-rows: tile 4 = layer 1, columns 0..511 x rows 0..511; tile 5 = columns 0..511 x rows 512..1023
/// </code>
/// </summary>
public static class RowSplitPlacer
{
    public static PlacedModel Place(MappedModel mapped, ChipShape chip) => Placer.Assign(mapped, chip, Cores(mapped, chip));

    /// <summary>The core of each slot (slots numbered layer by layer, as <see cref="Placer.Assign"/> takes them).</summary>
    public static int[] Cores(MappedModel mapped, ChipShape chip)
    {
        int[] linear = Placer.LinearCores(mapped, chip); // also refuses a network that does not fit
        if (chip.Chips > 1)
        {
            return linear;
        }

        int perCore = chip.CrossbarsPerCore, tile = 0;
        var cores = new List<int>(linear.Length);
        foreach (MappedLayer layer in mapped.Layers)
        {
            int slots = Placer.SlotsOf(layer, perCore);
            int[] rowStarts = [.. layer.Blocks.Select(b => b.RowStart).Distinct().Order()];
            int middle = rowStarts[rowStarts.Length / 2];
            bool[] upper = [.. Enumerable.Range(0, slots).Select(s => middle > 0 && FirstRow(layer, s * layer.PerCore(perCore), layer.PerCore(perCore)) >= middle)];

            // Each half's slots cut into tiles of cores; the halves' k-th tiles side by side.
            List<int[]>[] halves = [.. new[] { false, true }.Select(half => Enumerable.Range(0, slots).Where(s => upper[s] == half).Chunk(chip.CoresPerTile).ToList())];
            var assigned = new int[slots];
            for (int k = 0; k < Math.Max(halves[0].Count, halves[1].Count); k++)
            {
                foreach (List<int[]> half in halves.Where(h => k < h.Count))
                {
                    for (int i = 0; i < half[k].Length; i++)
                    {
                        assigned[half[k][i]] = (tile * chip.CoresPerTile) + i;
                    }

                    tile++;
                }
            }

            cores.AddRange(assigned);
        }

        return tile <= chip.Tiles ? [.. cores] : linear;
    }

    /// <summary>The lowest input row of the blocks [first, first + count) of a layer.</summary>
    private static int FirstRow(MappedLayer layer, int first, int count)
    {
        int row = int.MaxValue;
        for (int i = first; i < Math.Min(first + count, layer.Blocks.Length); i++)
        {
            row = Math.Min(row, layer.Blocks[i].RowStart);
        }

        return row;
    }
}
