using System.Collections.Immutable;
using Cimc.Diagnostics;
using Cimc.Mapping;

namespace Cimc.Passes;

/// <summary>Optimization levels; -O2 is the default.</summary>
public enum OptLevel
{
    O0,
    O1,
    O2,
    O3,
}

/// <summary>Where the place pass puts a layer's cores: in order, greedily by mesh traffic, or greedy refined by annealing.</summary>
public enum PlacementChoice
{
    Linear,
    Greedy,
    Anneal,
    Rows,
    Best,
}

/// <summary>
/// The pass list of each optimization level, in one place:
/// <list type="bullet">
/// <item>-O0: the straight lowering: cores in order, inputs sent from each producer to each tile, partial sums chained into the root;</item>
/// <item>-O1: -O0 plus reduction trees and the ring broadcast through tile buffers (the schedule cimc emitted before passes existed);</item>
/// <item>-O2 (default): -O1 plus chunk-by-chunk signals in the tile (a core's mvms start as their
///   input rows arrive) and the bias folded into the accumulators' start; both measured faster on
///   the shipped model and MLP-L4 on every preset (docs/optimizations.md); then delivery-best (the
///   network input written into every first-layer tile, and layer inputs along a chain of hubs,
///   when the timing model finds that faster; cimc estimate walks the same choice); then
///   place-copies when replicating (a convolutional network's copies near the tiles holding their
///   maps, when that cuts the deliveries' words x hops, and its pools and adds split like them);</item>
/// <item>-O3: the placement chosen among linear, greedy and annealed, then the reduction and broadcast
///   shapes chosen among tree/chain and ring/direct, both by the timing model, with -O2's chunk
///   signals, folded bias and delivery-best; then place-copies (with copies); then each core's order kept or reordered by critical path
///   (order-critical), whichever the timing model finds faster (slower searches). order-critical is
///   not in -O2: it helps on some chips and models and hurts on others.</item>
/// </list>
/// split-slices (the input bit-slice split, --slice-split) is in no level: at -O3 it takes the
/// crossbars replication streams with (MLP-L4 on puma at batch 64: 1.55 M/s -> 0.95 M/s), at -O2 its
/// auto search costs seconds of compile and 11-42 % more energy for 22-31 % less latency on MLP-L4
/// (docs/optimizations.md, "Input bit-slice split"); --slice-split adds it after map at any level.
/// Why -O2 keeps linear placement: on MLP-L4 on puma the greedy placement cuts traffic x hops
/// by 59 % and the busiest link by 39 %, yet the timing model finds it only 1 % faster for one
/// inference and 5 % slower streamed (batch 64), and the annealed one (lowest mesh objective) 62 %
/// slower: the tile buses and the ring's tile order, which the mesh objective does not see, matter
/// more. Placement by mesh traffic alone is offered by --placement greedy|anneal and searched by
/// the timing model at -O3 (place-best), not the default (docs/optimizations.md).
/// </summary>
public static class Pipelines
{
    public const OptLevel Default = OptLevel.O2;

    public static ImmutableArray<Pass> For(OptLevel level, PlacementChoice? placement = null, ReplicationChoice? replication = null, SliceSplitChoice? sliceSplit = null)
    {
        ImmutableArray<Pass> levelPasses = For(level, placement, replication);
        // split-slices runs after map, before replication: copies for latency take spare crossbars first.
        return sliceSplit is { Copies: not 1 } ? levelPasses.Insert(levelPasses.IndexOf(PassCatalog.Map) + 1, PassCatalog.SplitSlices) : levelPasses;
    }

    private static ImmutableArray<Pass> For(OptLevel level, PlacementChoice? placement, ReplicationChoice? replication)
    {
        Pass place = Place(placement ?? level switch
        {
            OptLevel.O3 => PlacementChoice.Best,
            _ => PlacementChoice.Linear,
        });
        ImmutableArray<Pass> replicate = Replicate(replication ?? (level == OptLevel.O3 ? ReplicationChoice.Balance : ReplicationChoice.None));
        ImmutableArray<Pass> placeCopies = replicate.IsEmpty ? [] : [PassCatalog.PlaceCopies]; // nothing to place without copies
        return level switch
        {
            OptLevel.O0 => [PassCatalog.Quantize, PassCatalog.Map, .. replicate, place, PassCatalog.Schedule, PassCatalog.Emit],
            OptLevel.O1 => [PassCatalog.Quantize, PassCatalog.Map, .. replicate, place, PassCatalog.ReduceTree, PassCatalog.BroadcastRing, PassCatalog.Schedule, PassCatalog.Emit],
            OptLevel.O3 => [PassCatalog.Quantize, PassCatalog.Map, .. replicate, place, PassCatalog.SignalChunks, PassCatalog.FoldBias, PassCatalog.ShapesBest,
                PassCatalog.DeliveryBest, .. placeCopies, PassCatalog.Schedule, PassCatalog.OrderBest, PassCatalog.Emit],
            _ => [PassCatalog.Quantize, PassCatalog.Map, .. replicate, place, PassCatalog.ReduceTree, PassCatalog.BroadcastRing, PassCatalog.SignalChunks, PassCatalog.FoldBias,
                PassCatalog.DeliveryBest, .. placeCopies, PassCatalog.Schedule, PassCatalog.Emit],
        };
    }

    /// <summary>The replicate pass of a choice: balance is replicate-minmax (chosen over replicate-greedy by measurement, docs/optimizations.md).</summary>
    public static ImmutableArray<Pass> Replicate(ReplicationChoice choice) => choice switch
    {
        ReplicationChoice.Balance => [PassCatalog.ReplicateMinMax],
        ReplicationChoice.Max => [PassCatalog.ReplicateMax],
        _ => [],
    };

    public static ReplicationChoice ParseReplication(string text) => text switch
    {
        "none" => ReplicationChoice.None,
        "balance" => ReplicationChoice.Balance,
        "max" => ReplicationChoice.Max,
        _ => throw new CimcException("bad-option", "--replication", $"'{text}' is not a replication (none, balance or max)"),
    };

    public static Pass Place(PlacementChoice choice) => choice switch
    {
        PlacementChoice.Linear => PassCatalog.PlaceLinear,
        PlacementChoice.Greedy => PassCatalog.PlaceGreedy,
        PlacementChoice.Anneal => PassCatalog.PlaceAnneal,
        PlacementChoice.Rows => PassCatalog.PlaceRows,
        _ => PassCatalog.PlaceBest,
    };

    /// <summary>"0".."3" or "O0".."O3" (the -O option's value).</summary>
    public static OptLevel ParseLevel(string text) => text.TrimStart('O', 'o') switch
    {
        "0" => OptLevel.O0,
        "1" => OptLevel.O1,
        "2" => OptLevel.O2,
        "3" => OptLevel.O3,
        _ => throw new CimcException("bad-option", "-O", $"'{text}' is not an optimization level (0, 1, 2 or 3)"),
    };

    public static PlacementChoice ParsePlacement(string text) => text switch
    {
        "linear" => PlacementChoice.Linear,
        "greedy" => PlacementChoice.Greedy,
        "anneal" => PlacementChoice.Anneal,
        "rows" => PlacementChoice.Rows,
        "best" => PlacementChoice.Best,
        _ => throw new CimcException("bad-option", "--placement", $"'{text}' is not a placement (linear, greedy, anneal, rows or best)"),
    };

    /// <summary>
    /// An explicit list ("quantize,map,place-greedy,emit"), each name checked. An emit that follows
    /// a pass leaving the placed IR gets the schedule pass in front of it (lists written before the
    /// schedule IR existed keep working: schedule is the straight lowering).
    /// </summary>
    public static ImmutableArray<Pass> Parse(string list)
    {
        var passes = ImmutableArray.CreateBuilder<Pass>();
        foreach (string name in list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            Pass pass = PassCatalog.Named(name, "--passes");
            if (pass == PassCatalog.Emit && passes.Count > 0 && passes[^1].Produces == IrStage.Placed)
            {
                passes.Add(PassCatalog.Schedule);
            }

            passes.Add(pass);
        }

        return passes.ToImmutable();
    }
}
