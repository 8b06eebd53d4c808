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
    public LayerCores(int index, PlacedLayer layer, ArchHeader arch)
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
        ColumnBlocks = [.. layer.Blocks.GroupBy(pb => pb.Block.ColBlock).OrderBy(g => g.Key).Select(g => new ColumnBlock(
            g.Key, g.First().Block.ColStart, g.First().Block.ColCount, [.. g.Select(pb => pb.Core).Distinct().Order()]))];
    }

    private readonly ILookup<int, CrossbarBlock> byCore;

    public int Index { get; }

    public PlacedLayer Layer { get; }

    public string Name => Layer.Mapped.Layer.Name;

    public ImmutableArray<CoreSpan> Cores { get; }

    public ImmutableArray<ColumnBlock> ColumnBlocks { get; }

    /// <summary>The crossbar blocks placed on <paramref name="core"/>.</summary>
    public IReadOnlyList<CrossbarBlock> BlocksOf(int core) => [.. byCore[core]];

    /// <summary>The layer's cores grouped by tile, tiles ascending, cores ascending within a tile.</summary>
    public IEnumerable<ImmutableArray<CoreSpan>> ByTile() =>
        Cores.GroupBy(c => c.Tile).OrderBy(g => g.Key).Select(g => g.OrderBy(c => c.Core).ToImmutableArray());
}
