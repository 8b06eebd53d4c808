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

public sealed record PlacedModel(MappedModel Mapped, ChipShape Chip, ImmutableArray<PlacedLayer> Layers)
{
    public int CoresUsed => Layers.Sum(l => l.Cores.Length);
}

/// <summary>
/// The place pass: assigns every crossbar block to a crossbar of a core. All weights stay resident
/// (spatial). Each layer takes whole cores, in order, so layers form a pipeline of core groups;
/// consecutive blocks (which share output columns) share a core. A network that does not fit is a
/// diagnostic giving what it needs and what the chip has.
/// </summary>
public static class Placer
{
    public static PlacedModel Place(MappedModel mapped, ChipShape chip)
    {
        int perCore = chip.CrossbarsPerCore;
        int coresNeeded = mapped.Layers.Sum(l => IntDiv(l.Crossbars, perCore));
        if (coresNeeded > chip.Cores)
        {
            throw new CimcException("does-not-fit", "placement",
                $"the network needs {mapped.Crossbars} crossbars ({coresNeeded} cores of {perCore}, one layer per core) but the chip has {chip.Crossbars} crossbars ({chip.Cores} cores)");
        }

        var layers = ImmutableArray.CreateBuilder<PlacedLayer>(mapped.Layers.Length);
        int nextCore = 0;
        foreach (MappedLayer layer in mapped.Layers)
        {
            int cores = IntDiv(layer.Crossbars, perCore);
            var blocks = ImmutableArray.CreateBuilder<PlacedBlock>(layer.Crossbars);
            for (int b = 0; b < layer.Blocks.Length; b++)
            {
                blocks.Add(new PlacedBlock(layer.Blocks[b], nextCore + (b / perCore), b % perCore));
            }

            layers.Add(new PlacedLayer(layer, [.. Enumerable.Range(nextCore, cores)], blocks.MoveToImmutable()));
            nextCore += cores;
        }

        return new PlacedModel(mapped, chip, layers.MoveToImmutable());
    }

    private static int IntDiv(int a, int b) => Math.Max(1, (a + b - 1) / b);
}
