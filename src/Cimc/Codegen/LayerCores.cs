using System.Collections.Immutable;
using Cimc.Isa;
using Cimc.Mapping;
using Cimc.Placement;

namespace Cimc.Codegen;

/// <summary>What one core of a layer touches: input rows [RowLo, RowHi) and output columns [ColLo, ColHi).</summary>
internal sealed record CoreSpan(int Core, int Tile, int RowLo, int RowHi, int ColLo, int ColHi);

/// <summary>
/// A column block of a layer and the cores holding its crossbars (ascending). Their accumulators for
/// [ColStart, ColStart + ColCount) are partial sums of the same outputs; the first core is the root,
/// which receives their sum and runs the output stage.
/// </summary>
internal sealed record ColumnBlock(int Index, int ColStart, int ColCount, ImmutableArray<int> Cores)
{
    public int Root => Cores[0];

    public int ColEnd => ColStart + ColCount;
}

/// <summary>The cores of a placed layer seen by the schedule: who needs which inputs, who shares which outputs.</summary>
internal sealed class LayerCores
{
    /// <param name="spreadRoots">
    /// Column block k whose cores span several tiles lists them from its (k mod tiles)-th tile on (the
    /// spread-roots pass), so consecutive blocks have their roots, and their reductions' last
    /// levels, on different tiles: the partial sums crossing between tiles go both ways instead of
    /// all into the first tile's injection link.
    /// </param>
    public LayerCores(int index, PlacedLayer layer, ArchHeader arch, bool spreadRoots = false)
    {
        Index = index;
        Layer = layer;
        // One lookup of each core's blocks: a filter per core was quadratic in the layer's crossbars (65,536 at 16,384 x 16,384).
        byCore = layer.Blocks.ToLookup(pb => pb.Core, pb => pb.Block);
        Cores = [.. layer.Cores.Select(core =>
        {
            var mine = byCore[core].ToList();
            return new CoreSpan(core, arch.TileOf(core),
                mine.Min(b => b.RowStart), mine.Max(b => b.RowStart + b.RowCount),
                mine.Min(b => b.ColStart), mine.Max(b => b.ColStart + b.ColCount));
        })];
        ColumnBlocks = [.. layer.Blocks.GroupBy(pb => pb.Block.ColBlock).OrderBy(g => g.Key).Select((g, k) => new ColumnBlock(
            g.Key, g.First().Block.ColStart, g.First().Block.ColCount, RootFirst([.. g.Select(pb => pb.Core).Distinct().Order()], spreadRoots ? k : 0, arch)))];
    }

    /// <summary>The cores ascending, rotated to start at the first core of their (<paramref name="k"/> mod tiles)-th tile.</summary>
    private static ImmutableArray<int> RootFirst(ImmutableArray<int> cores, int k, ArchHeader arch)
    {
        int[] tiles = [.. cores.Select(arch.TileOf).Distinct()];
        int start = cores.IndexOf(cores.First(c => arch.TileOf(c) == tiles[k % tiles.Length]));
        return [.. cores.Skip(start), .. cores.Take(start)];
    }

    private readonly ILookup<int, CrossbarBlock> byCore;

    public int Index { get; }

    public PlacedLayer Layer { get; }

    public string Name => Layer.Mapped.Layer.Name;

    public ImmutableArray<CoreSpan> Cores { get; }

    public ImmutableArray<ColumnBlock> ColumnBlocks { get; private set; }

    /// <summary>
    /// Orders each column block's cores by when their input is complete (<paramref name="rank"/>,
    /// then core): the earliest becomes the root and the others follow in that order, so a chain
    /// reduction (the reduce-arrival pass) adds the partial sums as they are ready and the last
    /// core's sum is the one add left after its mvms.
    /// </summary>
    public void OrderByArrival(Func<int, int> rank) =>
        ColumnBlocks = [.. ColumnBlocks.Select(b => b with { Cores = [.. b.Cores.OrderBy(rank).ThenBy(c => c)] })];

    /// <summary>The crossbar blocks placed on <paramref name="core"/>.</summary>
    public IReadOnlyList<CrossbarBlock> BlocksOf(int core) => [.. byCore[core]];

    /// <summary>The layer's cores grouped by tile, tiles ascending, cores ascending within a tile.</summary>
    public IEnumerable<ImmutableArray<CoreSpan>> ByTile() =>
        Cores.GroupBy(c => c.Tile).OrderBy(g => g.Key).Select(g => g.OrderBy(c => c.Core).ToImmutableArray());
}
