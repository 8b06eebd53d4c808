using System.Collections.Immutable;
using Cimc.Diagnostics;
using Cimc.Mapping;

namespace Cimc.Placement;

/// <summary>How many crossbars the chip has and how they nest: tiles of cores of crossbars.</summary>
public sealed record ChipShape(int Tiles, int CoresPerTile, int CrossbarsPerCore)
{
    public int Cores => Tiles * CoresPerTile;

    public int Crossbars => Cores * CrossbarsPerCore;

    public int TileOf(int core) => core / CoresPerTile;
}

/// <summary>A crossbar block and where it lives: a global core index and a crossbar of that core.</summary>
public sealed record PlacedBlock(CrossbarBlock Block, int Core, int Crossbar);

/// <summary>A layer's blocks on its cores. The first core (the lead) reduces partial sums and applies the output stage.</summary>
public sealed record PlacedLayer(MappedLayer Mapped, ImmutableArray<int> Cores, ImmutableArray<PlacedBlock> Blocks)
{
    public int Lead => Cores[0];
}

/// <summary>
/// How the schedule moves vectors between cores: both off is the straight lowering (each producer
/// sends each tile what it reads; a column block's cores send their partial sums to its root one
/// after another); the passes broadcast-ring and reduce-tree turn on the shapes in
/// Codegen/Broadcast.cs and Codegen/Reduction.cs.
/// </summary>
public sealed record Lowering(bool RingBroadcast, bool ReductionTree)
{
    public static Lowering Straight { get; } = new(false, false);

    /// <summary>Hubs signal their tile's cores chunk by chunk (the signal-chunks pass) instead of once after the last chunk.</summary>
    public bool ChunkSignals { get; init; }

    /// <summary>A column block's root starts its accumulators at the bias (the fold-bias pass) instead of adding it after the reduction.</summary>
    public bool BiasFirst { get; init; }

    /// <summary>Words per broadcast chunk (at most a crossbar's rows); 0: a crossbar's rows.</summary>
    public int ChunkWords { get; init; }
}

public sealed record PlacedModel(MappedModel Mapped, ChipShape Chip, ImmutableArray<PlacedLayer> Layers)
{
    public int CoresUsed => Layers.Sum(l => l.Cores.Length);

    /// <summary>The communication shapes the emitter uses; the straight lowering unless a pass chose otherwise.</summary>
    public Lowering Lowering { get; init; } = Lowering.Straight;
}

/// <summary>
/// The linear place pass: assigns every crossbar block to a crossbar of a core. All weights stay resident
/// (spatial). Each layer takes whole cores, in order, so layers form a pipeline of core groups;
/// consecutive blocks (which share output columns) share a core. A network that does not fit is a
/// diagnostic giving what it needs and what the chip has.
/// </summary>
public static class Placer
{
    public static PlacedModel Place(MappedModel mapped, ChipShape chip)
    {
        int slots = Slots(mapped, chip);
        return Assign(mapped, chip, [.. Enumerable.Range(0, slots)]);
    }

    /// <summary>
    /// The cores the network needs: each layer takes whole cores (its slots), consecutive blocks
    /// filling one core before the next. A network that does not fit is a diagnostic.
    /// </summary>
    public static int Slots(MappedModel mapped, ChipShape chip)
    {
        int perCore = chip.CrossbarsPerCore;
        int coresNeeded = mapped.Layers.Sum(l => SlotsOf(l, perCore));
        return coresNeeded <= chip.Cores ? coresNeeded
            : throw new CimcException("does-not-fit", "placement",
                $"the network needs {mapped.Crossbars} crossbars ({coresNeeded} cores of {perCore}, one layer per core) but the chip has {chip.Crossbars} crossbars ({chip.Cores} cores)");
    }

    /// <summary>The slots of one layer: ceil(crossbars / crossbars per core), at least one.</summary>
    public static int SlotsOf(MappedLayer layer, int perCore) => Math.Max(1, (layer.Crossbars + perCore - 1) / perCore);

    /// <summary>
    /// Builds the placed model from a core for each slot (slots numbered layer by layer):
    /// slot s of a layer holds its blocks [s * perCore, (s + 1) * perCore). Every placement pass
    /// ends here, so they differ only in which core each slot gets.
    /// </summary>
    public static PlacedModel Assign(MappedModel mapped, ChipShape chip, IReadOnlyList<int> coreOfSlot)
    {
        int perCore = chip.CrossbarsPerCore;
        var layers = ImmutableArray.CreateBuilder<PlacedLayer>(mapped.Layers.Length);
        int first = 0;
        foreach (MappedLayer layer in mapped.Layers)
        {
            int slots = SlotsOf(layer, perCore);
            var blocks = ImmutableArray.CreateBuilder<PlacedBlock>(layer.Crossbars);
            for (int b = 0; b < layer.Blocks.Length; b++)
            {
                blocks.Add(new PlacedBlock(layer.Blocks[b], coreOfSlot[first + (b / perCore)], b % perCore));
            }

            layers.Add(new PlacedLayer(layer, [.. Enumerable.Range(first, slots).Select(s => coreOfSlot[s])], blocks.MoveToImmutable()));
            first += slots;
        }

        return new PlacedModel(mapped, chip, layers.MoveToImmutable());
    }
}
