using Cimc.Architectures;
using Cimc.Codegen;
using Cimc.Diagnostics;
using Cimc.Isa;
using Cimc.Mapping;
using Cimc.Placement;
using Cimc.Quantization;

namespace Cimc.Performance;

/// <summary>
/// Latency, throughput, energy and area of a quantized model on a chip without compiling it or
/// simulating: it walks the program the compiler would emit (linear placement) with the timing
/// model's durations and the cost model's energies (<see cref="CostModel"/>, <see cref="ComponentCosts"/>,
/// so the two cannot drift); microseconds for a dense chain, a fraction of a second for ResNet-18,
/// where compiling and simulating take seconds (the screening fidelity of `cimc explore`).
/// A chain of dense layers (Codegen/CodeGenerator.cs) is walked layer by layer from the layers'
/// shapes alone (<see cref="EstimateWalk"/>):
/// <list type="number">
/// <item>each core clears its accumulators and gets its input rows: the first layer loads them from
///   the input tile (or, per tile, from its own tile's part of the input); later layers' hubs receive chunks of the previous layer's outputs around the
///   ring of tiles (or straight from each producer), store what their tile shares and signal their
///   peers, which load their rows;</item>
/// <item>each core issues one mvm per crossbar it holds; crossbars run at once, an ADC group's
///   crossbars take turns on its converters (the simulator's pipeline rule);</item>
/// <item>per column block, partial sums meet in a binomial tree (or a chain) at the root, which adds
///   the bias, requantizes, applies the activation and sends the codes on.</item>
/// </list>
/// A convolutional network (Codegen/GraphCodeGenerator.cs) is cut into crossbars and placed as the
/// map and place passes do, with the replicate pass's copies, and walked window by window in the
/// wavefront order (<see cref="GraphEstimateWalk"/>): each convolution's crossbars run once per
/// output window (a copy's, its ceil(W / k) windows a row), a layer's row waits for the input rows
/// its windows reach, pools and adds work pixel by pixel on their cores. With the replicate pass the
/// copies go where the place-copies pass puts them (its own decision), and from -O2 the network input
/// is written per tile, as delivery-best chooses for a convolutional network.
/// What it leaves out: contention between messages on links (a tile's bus is queued), the
/// placement passes other than linear (-O2's and -O3's search, --placement), and memory
/// overflow (a point that fits the crossbars but not the core memories is found out by
/// simulation; a convolutional network's tile buffers are checked as the schedule pass checks them).
/// Crossbars, cores and chip area are exact. EstimatorTests and EstimatorConvTests measure the agreement.
/// </summary>
public static class Estimator
{
    /// <summary>Inferences of a batch walked one after another; the rest keep the pace of the last two.</summary>
    public const int StreamedInferences = 2;

    /// <param name="ring">The broadcast-ring pass is on (-O1 and up).</param>
    /// <param name="tree">The reduce-tree pass is on (-O1 and up).</param>
    /// <param name="delivery">
    /// The delivery-best pass is on (-O2 and up): the schedule as placed and the one with the network
    /// input written per tile and chunks along a chain of hubs are both walked, and the one with the
    /// lower single-inference latency is kept, as the pass keeps the faster by the timing model.
    /// </param>
    /// <param name="foldBias">The fold-bias pass is on (-O2 and up): a convolutional network's roots start their accumulators at the bias.</param>
    /// <param name="replication">A convolutional network's copies (the replicate passes; balance at -O3).</param>
    /// <param name="budget">The crossbars the copies may fill (the whole chip when not given).</param>
    public static Estimate Of(QuantizedModel model, Architecture arch, int batch = 1, bool ring = true, bool tree = true, bool delivery = false,
        bool foldBias = false, ReplicationChoice replication = ReplicationChoice.None, ReplicationBudget? budget = null)
    {
        if (arch.Costs is null)
        {
            throw new CimcException(PerformanceInput.Code, "--arch", $"architecture '{arch.Name}' has no costs object, so it has no energy, latency or area figures");
        }

        if (model.Graph is not null)
        {
            // A convolutional network's layer may hold fewer crossbars a core than the chip has, so
            // that its blocks' core memory fits (Codegen/CoreCrossbars.cs, decided by the map pass
            // from the blocks' shapes): cut it the same way.
            MappedModel mapped = CoreCrossbars.Choose(CrossbarMapper.Map(model, Compiler.Geometry(arch)),
                arch.Core.Crossbars, arch.Core.LocalMemoryWords, Math.Max(arch.Core.Crossbar.Rows, arch.Core.Crossbar.Cols));
            // delivery-best's one choice for a convolutional network is input-tiles (Passes/PassCatalog.cs).
            return Graph(mapped, arch, batch, new Lowering(ring, tree) { BiasFirst = foldBias, InputPerTile = delivery }, replication, budget ?? ReplicationBudget.WholeChip);
        }

        var layers = new List<EstimatedLayer>(model.Layers.Length);
        int next = 0;
        for (int l = 0; l < model.Layers.Length; l++)
        {
            EstimatedLayer e = EstimatedLayer.Of(model.Layers[l], arch, model.Options.SignedWeights, next, arch.Core.Crossbars, RowCut.PositionRows(model, l));
            layers.Add(e);
            next += e.Slots;
        }

        if (next > arch.TotalCores)
        {
            throw Placer.TooManyCores(layers.Sum(l => l.Blocks), next, arch.Core.Crossbars, 0, Compiler.Shape(arch));
        }

        // An input wider than a tile buffer is written per tile at every level (CodeGenerator's split input).
        bool split = model.Layers[0].InFeatures > arch.Tile.BufferWords;
        Estimate Walk(bool perTile, bool chain)
        {
            var walk = new EstimateWalk(arch, layers, model.Options.SignedWeights, ring, tree, perTile, chain);
            walk.Run(Math.Min(batch, StreamedInferences));
            return walk.Result(batch, model.Layers.Sum(l => (long)l.InFeatures * l.OutFeatures));
        }

        Estimate placed = Walk(split, chain: false);
        if (!delivery)
        {
            return placed;
        }

        Estimate delivered = Walk(perTile: true, chain: ring);
        return delivered.LatencyNs < placed.LatencyNs ? delivered : placed;
    }

    /// <summary>
    /// A convolutional network: placed linearly as the place pass does (with the replicate pass's
    /// copies when asked), its maps laid out in the tile buffers as the schedule pass lays them
    /// (<see cref="GraphPlan"/>), and its program walked window by window (<see cref="GraphEstimateWalk"/>).
    /// The copies come from each layer's load in a walk of the unreplicated network with the tree and
    /// ring shapes, the busiest of its cores' pipelines, crossbars and ADC groups, as the replicate
    /// pass takes them from the emitted program's per-layer bounds.
    /// </summary>
    private static Estimate Graph(MappedModel mapped, Architecture arch, int batch, Lowering lowering, ReplicationChoice replication, ReplicationBudget budget)
    {
        ChipShape chip = Compiler.Shape(arch);
        ArchHeader header = Compiler.Header(arch);
        MappedModel plain = Replication.Apply(mapped, [.. mapped.Layers.Select(_ => 1)]);
        MappedModel chosen = replication == ReplicationChoice.None || arch.Chips > 1 || Placer.CoresNeeded(plain, chip.CrossbarsPerCore) > chip.Cores
            ? plain
            : Replication.ApplyWindows(plain, Walked(plain, arch, new Lowering(true, true), 1).LayerLoads(plain, chip.CrossbarsPerCore), budget.Of(chip.Crossbars),
                (chip.Cores - Placer.VectorCores(plain)) * chip.CrossbarsPerCore, replication == ReplicationChoice.Max ? Replication.WindowMax : Replication.WindowGreedy,
                copies => GraphCodeGenerator.MapsFit(Placer.Place(Replication.Apply(plain, copies), chip), header));
        return Priced(Walked(chosen, arch, lowering, Math.Min(batch, StreamedInferences), placeCopies: replication != ReplicationChoice.None), chosen, batch);
    }

    /// <summary>A convolutional network's estimate with the copies <paramref name="mapped"/> has (its <see cref="MappedLayer.Replicas"/>), placed linearly.</summary>
    internal static Estimate OfGraph(MappedModel mapped, Architecture arch, int batch, Lowering lowering) =>
        Priced(Walked(mapped, arch, lowering, Math.Min(batch, StreamedInferences)), mapped, batch);

    /// <param name="placeCopies">
    /// The place-copies pass runs (with a replicate pass): the copies go where it puts them, and the
    /// pools and adds split as it splits them, by its own decision (Codegen/CopyPlacement.cs), except
    /// that a candidate's fit is the tile buffers' check alone, not a trial schedule.
    /// </param>
    private static GraphEstimateWalk Walked(MappedModel m, Architecture arch, Lowering lowering, int iterations, bool placeCopies = false)
    {
        ArchHeader header = Compiler.Header(arch);
        PlacedModel placed = Placer.Place(m, Compiler.Shape(arch)) with { Lowering = lowering };
        if (placeCopies)
        {
            placed = CopyPlacement.Place(placed, header, p => GraphCodeGenerator.MapsFit(p, header));
        }

        GraphPlan plan = GraphPlan.Make(placed, m.Model.Graph!, header);
        GraphWavefront wave = GraphWavefront.Of(m.Model.Graph!);
        var buffers = new TileBuffers(header.BufferWords);
        plan.Allocate(buffers, wave);
        buffers.CheckCapacity();
        var walk = new GraphEstimateWalk(arch, placed, plan, wave);
        walk.Run(iterations);
        return walk;
    }

    private static Estimate Priced(GraphEstimateWalk walk, MappedModel mapped, int batch)
    {
        double ops = 2.0 * mapped.Model.Graph!.Nodes.OfType<LayerNode>()
            .Sum(n => (long)n.Shape.Height * n.Shape.Width * mapped.Model.Layers[n.Layer].InFeatures * mapped.Model.Layers[n.Layer].OutFeatures);
        return walk.Result(batch, ops, mapped.Layers.Sum(l => l.Crossbars * l.Replicas));
    }
}
