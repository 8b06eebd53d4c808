using System.Collections.Immutable;
using Cimc.Diagnostics;
using Cimc.Mapping;

namespace Cimc.Placement;

/// <summary>
/// How many crossbars the node has and how they nest: chips of tiles of cores of crossbars.
/// <see cref="Tiles"/> counts the whole node; chip c holds tiles and cores in consecutive runs.
/// </summary>
public sealed record ChipShape(int Tiles, int CoresPerTile, int CrossbarsPerCore)
{
    /// <summary>Chips in the node (1: a single chip); they divide <see cref="Tiles"/>.</summary>
    public int Chips { get; init; } = 1;

    public int Cores => Tiles * CoresPerTile;

    public int Crossbars => Cores * CrossbarsPerCore;

    public int CoresPerChip => Cores / Chips;

    public int TilesPerChip => Tiles / Chips;

    public int TileOf(int core) => core / CoresPerTile;

    public int ChipOf(int core) => core / CoresPerChip;

    /// <summary>
    /// Mesh hops between two tiles by the timing model's routes (<see cref="MeshCost.Hops"/>), when
    /// the shape was made from an architecture (<c>Compiler.Shape</c>); null for a bare shape.
    /// </summary>
    public Func<int, int, int>? TileHops { get; init; }
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

    /// <summary>
    /// Each layer-input chunk goes down a binomial tree over the tile hubs that read it (the
    /// broadcast-tree pass) instead of around the ring of all hubs; takes precedence over <see cref="RingBroadcast"/>.
    /// </summary>
    public bool TreeBroadcast { get; init; }

    /// <summary>The broadcast shape the emitter uses.</summary>
    public BroadcastShape Broadcast => TreeBroadcast ? BroadcastShape.Tree : RingBroadcast ? BroadcastShape.Ring : BroadcastShape.Direct;

    /// <summary>Words per broadcast chunk (at most a crossbar's rows); 0: a crossbar's rows.</summary>
    public int ChunkWords { get; init; }

    /// <summary>
    /// The ring broadcast runs one ring per group of tiles reading the same input rows, each chunk
    /// around its group only (the ring-groups pass), when the groups' rows are disjoint.
    /// </summary>
    public bool GroupRings { get; init; }

    /// <summary>
    /// A column block whose cores span several tiles has its root on a different tile for
    /// consecutive blocks (the spread-roots pass), so partial sums cross between tiles both ways.
    /// </summary>
    public bool SpreadRoots { get; init; }

    /// <summary>
    /// Each column block's partial sums are chained into the core whose input is complete first, the
    /// others in the order their inputs complete (the reduce-arrival pass); overrides <see cref="ReductionTree"/>.
    /// </summary>
    public bool ArrivalOrder { get; init; }

    /// <summary>
    /// With the ring broadcast, every chunk enters at the first hub and flows along the hubs in
    /// order, the last keeping it (the chain-broadcast pass), instead of chunk i entering at hub i mod t.
    /// </summary>
    public bool ChainBroadcast { get; init; }

    /// <summary>The host writes the network input into every tile of the first layer that reads it (the input-tiles pass).</summary>
    public bool InputPerTile { get; init; }

    /// <summary>
    /// A convolutional network's pooling and add nodes run on several cores, copy j of k computing the
    /// output columns x mod k = j, k the most copies among the crossbar layers they take (the
    /// place-copies pass; Codegen/GraphPlan.cs).
    /// </summary>
    public bool VectorCopies { get; init; }
}

/// <summary>How a layer's input chunks reach its tiles (Codegen/Broadcast.cs).</summary>
public enum BroadcastShape
{
    /// <summary>Each producer sends each chunk to every tile hub reading it.</summary>
    Direct,

    /// <summary>Each chunk goes around the ring of all the layer's tile hubs.</summary>
    Ring,

    /// <summary>Each chunk goes down a binomial tree over the tile hubs reading it.</summary>
    Tree,
}

public sealed record PlacedModel(MappedModel Mapped, ChipShape Chip, ImmutableArray<PlacedLayer> Layers)
{
    public int CoresUsed => Layers.Sum(l => l.Cores.Length) + ExtraReplicas.Sum(r => r.Sum(l => l.Cores.Length));

    /// <summary>
    /// Replicas 1 .. k - 1 of each layer (empty when nothing is replicated); <see cref="Layers"/> are
    /// the replicas 0, which serve every sample of an unreplicated layer and sample 0 of each period.
    /// </summary>
    public ImmutableArray<ImmutableArray<PlacedLayer>> ExtraReplicas { get; init; } = [];

    /// <summary>Every replica of layer <paramref name="layer"/>, replica 0 first.</summary>
    public ImmutableArray<PlacedLayer> Replicas(int layer) =>
        ExtraReplicas.IsEmpty ? [Layers[layer]] : [Layers[layer], .. ExtraReplicas[layer]];

    /// <summary>Every placed layer replica, layer by layer.</summary>
    public IEnumerable<PlacedLayer> AllReplicas => Enumerable.Range(0, Layers.Length).SelectMany(l => Replicas(l));

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
        _ = Slots(mapped, chip);
        return Assign(mapped, chip, LinearCores(mapped, chip));
    }

    /// <summary>Linear placement: the slots partitioned over the chips (<see cref="ChipPartition"/>), each chip's in order from its first core.</summary>
    public static int[] LinearCores(MappedModel mapped, ChipShape chip) =>
        ChipPartition.LinearCores(ChipPartition.Of(SlotTraffic.Of(mapped, chip.CrossbarsPerCore), chip), chip);

    /// <summary>
    /// The cores the network needs: each layer takes whole cores (its slots), consecutive blocks
    /// filling one core before the next. A network that does not fit is a diagnostic.
    /// </summary>
    public static int Slots(MappedModel mapped, ChipShape chip)
    {
        int perCore = chip.CrossbarsPerCore;
        int coresNeeded = CoresNeeded(mapped, perCore), vector = VectorCores(mapped);
        if (coresNeeded <= chip.Cores)
        {
            return coresNeeded - vector;
        }

        throw TooManyCores(mapped.Crossbars, coresNeeded - vector, perCore, vector, chip, ReloadNeed(mapped, chip));
    }

    /// <summary>
    /// The refusal of a network that needs more cores than the node has (the place pass's, and the
    /// estimator's, which has no mapped model to offer weight reloading from: <paramref name="more"/> is empty there).
    /// </summary>
    public static CimcException TooManyCores(long crossbars, int layerCores, int perCore, int vector, ChipShape chip, string more = "")
    {
        int needed = layerCores + vector;
        string has = chip.Chips == 1 ? $"the chip has {chip.Crossbars} crossbars ({chip.Cores} cores)"
            : $"the node of {chip.Chips} chips has {chip.Crossbars} crossbars ({chip.Cores} cores)";
        return new CimcException("does-not-fit", "placement",
            $"the network needs {crossbars} crossbars ({layerCores} cores of {perCore}, one layer per core{(vector > 0 ? $", and {vector} more cores for its pooling and add nodes, {needed} in all" : "")}) but {has}; it needs {ChipsFor(needed, chip.CoresPerChip)} chips (--chips {ChipsFor(needed, chip.CoresPerChip)} or --chips auto){more}");
    }

    /// <summary>What `--when-too-large reload` would need on this node: its segments, or why it cannot.</summary>
    private static string ReloadNeed(MappedModel mapped, ChipShape chip) =>
        mapped.Model.Graph is not null ? ""
        : Reload.Segmentation.Count(mapped, chip.CrossbarsPerCore, chip.Cores) is int segments
            ? $"; --when-too-large multichip adds them, --when-too-large reload cuts it into {segments} segments with weight reloading on this {(chip.Chips == 1 ? "chip" : "node")}"
            : "; --when-too-large multichip adds them; weight reloading cannot split a layer larger than the node";

    /// <summary>
    /// Cores the network takes: each layer whole cores of <paramref name="perCore"/> crossbars (its
    /// slots), and for a convolutional network one more per pooling or add node, which runs on a
    /// core no layer uses (Codegen/GraphPlan.cs).
    /// </summary>
    public static int CoresNeeded(MappedModel mapped, int perCore) => mapped.Layers.Sum(l => SlotsOf(l, perCore)) + VectorCores(mapped);

    /// <summary>The cores a convolutional network's pooling and add nodes take, one each (0 for a dense chain).</summary>
    public static int VectorCores(MappedModel mapped) =>
        mapped.Model.Graph?.Nodes.Count(n => n is Quantization.MaxPoolNode or Quantization.AvgPoolNode or Quantization.AddNode) ?? 0;

    /// <summary>The fewest chips of <paramref name="coresPerChip"/> cores that hold <paramref name="cores"/> slots: contiguous runs pack them exactly.</summary>
    public static int ChipsFor(long cores, int coresPerChip) => (int)Math.Max(1, (cores + coresPerChip - 1) / coresPerChip);

    /// <summary>The slots of one layer: ceil(crossbars / crossbars per core, or the layer's own limit), at least one.</summary>
    public static int SlotsOf(MappedLayer layer, int perCore) => Math.Max(1, (layer.Crossbars + layer.PerCore(perCore) - 1) / layer.PerCore(perCore));

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
            layers.Add(Layer(layer, perCore, [.. Enumerable.Range(first, slots).Select(s => coreOfSlot[s])]));
            first += slots;
        }

        var placed = new PlacedModel(mapped, chip, layers.MoveToImmutable());
        return mapped.Layers.All(l => l.Replicas == 1) ? placed : placed with { ExtraReplicas = PlaceReplicas(mapped, chip, [.. coreOfSlot.Take(first)]) };
    }

    /// <summary>A layer's blocks on the given cores, <paramref name="perCore"/> consecutive blocks a core.</summary>
    internal static PlacedLayer Layer(MappedLayer layer, int perCore, ImmutableArray<int> cores)
    {
        int mine = layer.PerCore(perCore);
        return new(layer, cores, [.. layer.Blocks.Select((b, i) => new PlacedBlock(b, cores[i / mine], i % mine))]);
    }

    /// <summary>
    /// Replicas 1 .. k - 1 of every layer on the free cores, in ascending core order, layer by layer:
    /// the replicas 0 keep the cores the place pass chose, so sample 0 (and a batch of one) runs
    /// exactly as without replication. A chip without enough free cores is a diagnostic.
    /// </summary>
    private static ImmutableArray<ImmutableArray<PlacedLayer>> PlaceReplicas(MappedModel mapped, ChipShape chip, HashSet<int> used)
    {
        int perCore = chip.CrossbarsPerCore;
        int needed = mapped.Layers.Sum(l => SlotsOf(l, perCore) * (l.Replicas - 1));
        var free = new Queue<int>(Enumerable.Range(0, chip.Cores).Where(c => !used.Contains(c)));
        if (needed > free.Count)
        {
            throw new CimcException("does-not-fit", "replication",
                $"the replicas need {needed} more cores but the chip has {free.Count} free (of {chip.Cores})");
        }

        return [.. mapped.Layers.Select(layer => Enumerable.Range(1, layer.Replicas - 1)
            .Select(_ => Layer(layer, perCore, [.. Enumerable.Range(0, SlotsOf(layer, perCore)).Select(_ => free.Dequeue())]))
            .ToImmutableArray())];
    }
}
