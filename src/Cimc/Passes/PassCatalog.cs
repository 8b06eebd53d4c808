using System.Collections.Immutable;
using Cimc.Codegen;
using Cimc.Diagnostics;
using Cimc.Mapping;
using Cimc.Placement;
using Cimc.Quantization;
using Cimc.Scheduling;

namespace Cimc.Passes;

/// <summary>
/// Every pass cimc has, by name (the names `--passes` and `--dump-after` take). Listed explicitly,
/// in pipeline order; <see cref="Pipelines"/> picks from them per optimization level.
/// </summary>
public static class PassCatalog
{
    /// <summary>The shapes -O2 lowers with (tree, ring, chunk signals, bias first; per-tile input and the chain, delivery-best's choice on MLP-L4): how place-best ranks its candidates.</summary>
    private static Lowering O2Shapes { get; } = new Lowering(true, true) { ChunkSignals = true, BiasFirst = true, InputPerTile = true, ChainBroadcast = true };

    public static Pass Quantize { get; } = new("quantize", IrStage.Graph, IrStage.Quantized,
        "calibrate activation ranges and quantize weights and activations (docs/quantization.md)",
        "every layer has integer weights, requantization and activation parameters; layers chain",
        (c, ctx) =>
        {
            // A convolutional network (a DAG) quantizes step by step over its graph; its Chain is
            // its crossbar layers (convolutions as im2col matrices), the graph says how maps flow.
            if (LayerGraph.IsConvolutional(c.Graph))
            {
                (LayerChain layers, QuantizedModel model) = GraphQuantizer.Quantize(c.Graph, ctx.Calibration, ctx.Options);
                return c with { Chain = layers, Quantized = model };
            }

            // A model that carries its own quantization (QDQ) may need no calibration samples; the
            // quantizer says so when one is missing.
            LayerChain chain = LayerChain.FromGraph(c.Graph);
            return c with { Chain = chain, Quantized = Quantizer.Quantize(chain, ctx.Calibration, ctx.Options) };
        });

    public static Pass Map { get; } = MapUsing(CrossbarMapper.Map);

    /// <summary>
    /// The map pass with another way to cut the weights: a design-space exploration cuts each
    /// quantized model once per crossbar shape and hands every chip of that shape the same blocks.
    /// </summary>
    public static Pass MapUsing(Func<QuantizedModel, CrossbarGeometry, MappedModel> cut) => new("map", IrStage.Quantized, IrStage.Mapped,
        "cut each layer's weights into crossbar blocks (slices, polarities, row and column blocks) and choose ADC ranges",
        "every weight bit is in exactly one crossbar cell; blocks fit the crossbar",
        (c, ctx) =>
        {
            // A convolution is mapped as its im2col matrix, a dense layer like any other (Codegen/GraphCodeGenerator.cs).
            if (c.Quantized!.Graph is not null && ctx.Options.AdcRange == AdcRange.Calibrated)
            {
                throw new CimcException("unsupported-for-compile", "--adc-range",
                    "a calibrated ADC range is not supported for convolutional networks yet; use --adc-range full or lossless");
            }

            RowCut.Check(c.Quantized!);
            MappedModel mapped = cut(c.Quantized!, Compiler.Geometry(ctx.Architecture));
            IReadOnlyList<long[][]>? codes = ctx.Options.AdcRange != AdcRange.Calibrated ? null
                : ctx.Calibration is SampleCalibration samples ? AdcRangeSelection.LayerInputCodes(c.Chain!, c.Quantized!, samples.Samples)
                : throw new CimcException("no-calibration", "--adc-range", "a calibrated ADC range needs calibration samples (--calibration-data FILE)");
            mapped = AdcRangeSelection.Apply(mapped, ctx.Options, codes);
            CrossbarGeometry g = mapped.Geometry;
            mapped = Codegen.CoreCrossbars.Choose(mapped, ctx.Architecture.Core.Crossbars, ctx.Architecture.Core.LocalMemoryWords, Math.Max(g.Rows, g.Cols));
            return c with { Quantized = mapped.Model, Mapped = mapped };
        });

    public static Pass SplitSlices { get; } = new("split-slices", IrStage.Mapped, IrStage.Mapped,
        "give every crossbar block k copies, copy j converting only the input's bit slices in window j (bits [j*w, (j+1)*w)), their partial sums added like other blocks of the column block, so each mvm streams about 1/k of the slices; --slice-split K, or auto: the uniform k (1, 2, 4, ...) that fits the chip and that the timing model finds fastest for one inference (Mapping/SliceSplit.cs)",
        "outputs bit-identical to the unsplit program (the same ADC codes, shifted the same); crossbars and cores within the chip's, else a one-line refusal naming those needed and available; a convolutional network is refused with K and left unsplit with auto",
        (c, ctx) =>
        {
            SliceSplitChoice choice = ctx.SliceSplit;
            MappedModel plain = c.Mapped! with { Layers = [.. c.Mapped!.Layers.Select(SliceSplit.Unsplit)] };
            if (plain.Model.Graph is not null)
            {
                return choice.IsAuto || choice.Copies == 1 ? c with { Mapped = plain }
                    : throw new CimcException("unsupported-for-compile", "--slice-split", "the input bit-slice split is for chains of dense layers; a convolutional network is not split (use --slice-split none)");
            }

            ChipShape chip = Compiler.Shape(ctx.Architecture);
            int dac = ctx.Architecture.Core.Dac.Bits, slices = plain.Layers.Max(l => ctx.Architecture.Core.InputSlices(l.InputBits));
            MappedModel Split(int k) => SliceSplit.Apply(plain, [.. plain.Layers.Select(_ => k)], dac);
            bool Fits(MappedModel m) => Placer.CoresNeeded(m, chip.CrossbarsPerCore) <= chip.Cores;
            if (!choice.IsAuto)
            {
                MappedModel split = Split(choice.Copies);
                return Fits(split) ? c with { Mapped = split }
                    : throw new CimcException("does-not-fit", "--slice-split",
                        $"{choice.Copies} copies per crossbar block need {split.Crossbars} crossbars ({Placer.CoresNeeded(split, chip.CrossbarsPerCore)} cores of {chip.CrossbarsPerCore}) but the chip has {chip.Crossbars} crossbars ({chip.Cores} cores); try --slice-split auto");
            }

            // auto: each k that fits, placed linearly and lowered with -O2's shapes, timed for one inference.
            var candidates = Enumerable.Range(0, 6).Select(e => 1 << e).Where(k => k == 1 || k <= slices).Select(Split).Where(Fits).ToList();
            return c with { Mapped = candidates.Count == 1 ? plain : FastestSingle(candidates, c, ctx, chip) };
        });

    /// <summary>The mapped model whose linear placement under -O2's shapes the timing model finds fastest for one inference; ties keep the earlier.</summary>
    private static MappedModel FastestSingle(IReadOnlyList<MappedModel> candidates, Compilation c, PassContext ctx, ChipShape chip)
    {
        var timed = new List<(MappedModel Mapped, double LatencyNs)>();
        foreach (MappedModel m in candidates)
        {
            try
            {
                Compilation program = ToProgram(c with { Mapped = m, Placed = Placer.Place(m, chip) with { Lowering = O2Shapes } }, ctx with { WeightImage = false });
                timed.Add((m, Performance.PerformanceReport.SingleLatencyNs(Performance.PerformanceInputs.For(program, 1))));
            }
            catch (CimcException e) when (e.Diagnostic.Code == "does-not-fit")
            {
                // a candidate whose cores' memories or tile buffers do not hold it is no candidate
            }
        }

        return timed.Count == 0 ? candidates[0] : timed.OrderBy(t => t.LatencyNs).First().Mapped;
    }

    public static Pass ReplicateGreedy { get; } = Replicate("replicate-greedy",
        "PIMCOMP's greedy balance: give the bottleneck layer (time per inference / replicas, from the timing model's per-layer bound) one more replica while it fits the budget",
        Replication.Greedy, Replication.WindowGreedy);

    public static Pass ReplicateMinMax { get; } = Replicate("replicate-minmax",
        "the least slowest stage under the budget (CIM-MLC's search): for each candidate stage time T, replicas ceil(time / T); the smallest T that fits, then the fewest crossbars",
        Replication.MinMax, Replication.WindowGreedy);

    public static Pass ReplicateMax { get; } = Replicate("replicate-max",
        "every layer the same number of replicas, as many as fit the budget",
        Replication.Max, Replication.WindowMax);

    /// <summary>
    /// A replicate pass: the per-layer loads come from the timing model's per-layer bound of the
    /// unreplicated model placed linearly with the tree and ring shapes (Performance/TimingBounds.cs),
    /// a replica costs its layer's whole cores, and <paramref name="search"/> picks the counts.
    /// </summary>
    private static Pass Replicate(string name, string does, Func<IReadOnlyList<LayerLoad>, int, System.Collections.Immutable.ImmutableArray<int>> search,
        Func<IReadOnlyList<LayerLoad>, IReadOnlyList<int>, int, System.Collections.Immutable.ImmutableArray<int>> windowSearch) =>
        new(name, IrStage.Mapped, IrStage.Mapped, does + "; in a convolutional network, copies split each convolution's output columns, balanced by PIMCOMP's greedy (max: the same count per convolution) (Mapping/Replication.cs)",
            "replica counts whose crossbars (whole cores) fit the budget, period (their lcm) at most 16; replica r of a layer serves samples r mod k (a convolution's copy r: output columns r mod k)",
            (c, ctx) =>
            {
                MappedModel plain = Replication.Apply(c.Mapped!, [.. c.Mapped!.Layers.Select(_ => 1)]) with { EstimatedStageNs = null };
                ChipShape chip = Compiler.Shape(ctx.Architecture);
                if (ctx.Architecture.Chips > 1 || Placer.CoresNeeded(plain, chip.CrossbarsPerCore) > chip.Cores)
                {
                    return c with { Mapped = plain }; // copies across chips (or a node still to be sized) are not modelled: no replication
                }

                Compilation estimate = ToProgram(c with { Mapped = plain, Placed = Placer.Place(plain, chip) with { Lowering = new Lowering(true, true) } }, ctx with { WeightImage = false });
                System.Collections.Immutable.ImmutableArray<double> ns = Performance.TimingBounds.LayerLoadsNs(Performance.PerformanceInputs.For(estimate));
                var loads = plain.Layers.Select((l, i) => new LayerLoad(ns[i], Placer.SlotsOf(l, chip.CrossbarsPerCore) * chip.CrossbarsPerCore)).ToList();
                int budget = ctx.ReplicationBudget.Of(chip.Crossbars);
                if (plain.Model.Graph is not null)
                {
                    // Pooling and add nodes each need a core of their own: copies leave them room.
                    return c with
                    {
                        Mapped = Replication.ApplyWindows(plain, loads, budget, (chip.Cores - Placer.VectorCores(plain)) * chip.CrossbarsPerCore, windowSearch,
                            copies => Codegen.GraphCodeGenerator.MapsFit(Placer.Place(Replication.Apply(plain, copies), chip), Compiler.Header(ctx.Architecture))),
                    };
                }

                System.Collections.Immutable.ImmutableArray<int> k = search(loads, budget);
                return c with { Mapped = Replication.Apply(plain, k) with { EstimatedStageNs = Replication.Stage(loads, k) } };
            });

    public static Pass PlaceLinear { get; } = new("place-linear", IrStage.Mapped, IrStage.Placed,
        "each layer takes whole cores in order from core 0 (Placement/Placement.cs)",
        "every block placed once; layers on disjoint cores; capacities respected",
        (c, ctx) => c with { Placed = Placer.Place(c.Mapped!, Compiler.Shape(ctx.Architecture)) });

    public static Pass PlaceGreedy { get; } = new("place-greedy", IrStage.Mapped, IrStage.Placed,
        "slots to the tiles that add the least traffic x hops on the mesh (Placement/GreedyPlacer.cs)",
        "as place-linear, with traffic x hops + busiest link no worse than place-linear's",
        (c, ctx) => c with { Placed = GreedyPlacer.Place(c.Mapped!, ctx.Architecture) });

    public static Pass PlaceAnneal { get; } = new("place-anneal", IrStage.Mapped, IrStage.Placed,
        "greedy placement refined by seeded simulated annealing (Placement/AnnealPlacer.cs)",
        "as place-linear, with traffic x hops + busiest link no worse than place-greedy's",
        (c, ctx) => c with { Placed = AnnealPlacer.Place(c.Mapped!, ctx.Architecture, ctx.Seed) });

    public static Pass PlaceRows { get; } = new("place-rows", IrStage.Mapped, IrStage.Placed,
        "each layer's cores split by input rows into two halves on tiles of their own, so a tile reads half the layer input (Placement/RowSplitPlacer.cs)",
        "as place-linear; linear on a node of several chips or when the halves need more tiles than the chip has",
        (c, ctx) => c with { Placed = RowSplitPlacer.Place(c.Mapped!, Compiler.Shape(ctx.Architecture)) });

    public static Pass PlaceBest { get; } = new("place-best", IrStage.Mapped, IrStage.Placed,
        "try place-linear, place-greedy and place-anneal, emit each with the tree and ring shapes, and keep the one the timing model finds fastest (single-inference latency, then streamed throughput)",
        "as place-linear, with an estimated latency no worse than place-linear's (under the tree and ring shapes)",
        (c, ctx) => Fastest([.. new[] { PlaceLinear, PlaceGreedy, PlaceAnneal }.Select(p => p.Apply(c, ctx))], ctx, placed => placed with { Lowering = O2Shapes }));

    public static Pass ShapesBest { get; } = new("shapes-best", IrStage.Placed, IrStage.Placed,
        "choose the reduction (tree or chain) and the broadcast (ring or direct) shapes by the timing model, trying all four",
        "the shapes with the lowest estimated latency (then the highest throughput); ties keep tree and ring",
        (c, ctx) => Fastest([.. new[] { new Lowering(true, true), new Lowering(true, false), new Lowering(false, true), Lowering.Straight }
            .Select(l => c with { Placed = c.Placed! with { Lowering = c.Placed.Lowering with { RingBroadcast = l.RingBroadcast, ReductionTree = l.ReductionTree } } })], ctx, placed => placed));

    public static Pass ReduceTree { get; } = new("reduce-tree", IrStage.Placed, IrStage.Placed,
        "add a column block's partial sums in a binomial tree instead of a chain into its root (Codegen/Reduction.cs)",
        "no core adds more than ceil(log2 n) partial-sum vectors per column block",
        (c, _) => c with { Placed = c.Placed! with { Lowering = c.Placed.Lowering with { ReductionTree = true } } });

    public static Pass BroadcastRing { get; } = new("broadcast-ring", IrStage.Placed, IrStage.Placed,
        "pass layer inputs around a ring of tile hubs instead of from each producer to every tile (Codegen/Broadcast.cs)",
        "each producer sends each chunk once; each chunk enters each tile of the layer once",
        (c, _) => c with { Placed = c.Placed! with { Lowering = c.Placed.Lowering with { RingBroadcast = true } } });

    public static Pass BroadcastTree { get; } = new("broadcast-tree", IrStage.Placed, IrStage.Placed,
        "send each layer-input chunk down a binomial tree over the tile hubs that read it, instead of around the ring of all hubs (Codegen/Broadcast.cs)",
        "each producer sends each chunk once; each chunk enters each tile reading it once and no other tile; 1 + ceil(log2 n) messages in sequence to reach n tiles",
        (c, _) => c with { Placed = c.Placed! with { Lowering = c.Placed.Lowering with { TreeBroadcast = true } } });

    public static Pass SignalChunks { get; } = new("signal-chunks", IrStage.Placed, IrStage.Placed,
        "a tile hub signals each core of its tile as each input chunk it reads is stored, not once after the last (Codegen/Broadcast.cs)",
        "every core loads each input row once, after the hub stored it; its mvms may start as their rows arrive",
        (c, _) => c with { Placed = c.Placed! with { Lowering = c.Placed.Lowering with { ChunkSignals = true } } });

    public static Pass FoldBias { get; } = new("fold-bias", IrStage.Placed, IrStage.Placed,
        "a column block's root copies the bias into its accumulators before its mvms instead of adding it after the reduction (Codegen/CodeGenerator.cs)",
        "the same sums (integer addition reordered); one vector add fewer after each column block's last mvm",
        (c, _) => c with { Placed = c.Placed! with { Lowering = c.Placed.Lowering with { BiasFirst = true } } });

    public static Pass ReduceArrival { get; } = new("reduce-arrival", IrStage.Placed, IrStage.Placed,
        "chain each column block's partial sums into the core whose input arrives first, the others in the order their inputs arrive by the ring broadcast, instead of a tree over the cores in order (Codegen/LayerCores.cs, Codegen/Reduction.cs)",
        "the same sums (integer addition reordered); after the last core's mvms one partial-sum message and one add remain before the output stage",
        (c, _) => c with { Placed = c.Placed! with { Lowering = c.Placed.Lowering with { ArrivalOrder = true } } });

    public static Pass RingGroups { get; } = new("ring-groups", IrStage.Placed, IrStage.Placed,
        "with the ring broadcast, one ring per group of tiles reading the same input rows, each chunk around its group only, when the groups' rows are disjoint (a row-split placement; Codegen/Broadcast.cs)",
        "each producer sends each chunk once; each chunk enters each tile reading it once and no other tile",
        (c, _) => c with { Placed = c.Placed! with { Lowering = c.Placed.Lowering with { GroupRings = true } } });

    public static Pass SpreadRoots { get; } = new("spread-roots", IrStage.Placed, IrStage.Placed,
        "a column block spanning several tiles has its root on its (k mod tiles)-th tile, so consecutive blocks reduce into different tiles (Codegen/LayerCores.cs)",
        "the same sums (integer addition reordered); partial sums between two tiles cross both ways",
        (c, _) => c with { Placed = c.Placed! with { Lowering = c.Placed.Lowering with { SpreadRoots = true } } });

    public static Pass PlaceCopies { get; } = new("place-copies", IrStage.Placed, IrStage.Placed,
        "a convolutional network's layer copies (replication) each on the free tile that adds the fewest map-delivery words x hops, near the tiles already holding its input maps, its producers and its readers, instead of the free cores in ascending order (Codegen/CopyPlacement.cs)",
        "the copies' cores are free cores; kept only when the code generator's delivery words x hops fall below the ascending placement's and the program fits; copies 0 unchanged",
        (c, ctx) => c with { Placed = CopyPlacement.Place(c.Placed!, Compiler.Header(ctx.Architecture)) });

    public static Pass InputTiles { get; } = new("input-tiles", IrStage.Placed, IrStage.Placed,
        "the host writes the network input into every tile of the first layer that reads it (as for an input wider than a tile buffer) instead of into one tile that forwards it (Codegen/CodeGenerator.cs)",
        "every first-layer core loads its input rows from its own tile's buffer; no network input crosses the mesh (not in a replicated program: its sample slots each have one input region; a convolutional network's copies share one slot, and each tile holding a whole input copy gets the codes its cores load)",
        (c, _) => c with { Placed = c.Placed! with { Lowering = c.Placed.Lowering with { InputPerTile = true } } });

    public static Pass BroadcastChain { get; } = new("broadcast-chain", IrStage.Placed, IrStage.Placed,
        "with broadcast-ring, every layer-input chunk enters at the ring's first hub (its lowest tile) and flows along the hubs in order, the last keeping it, instead of chunk i entering at hub i mod t (Codegen/Broadcast.cs)",
        "each producer sends each chunk once; each chunk enters each tile of the layer once; every hub receives the chunks in order",
        (c, _) => c with { Placed = c.Placed! with { Lowering = c.Placed.Lowering with { ChainBroadcast = true } } });

    public static Pass DeliveryBest { get; } = new("delivery-best", IrStage.Placed, IrStage.Placed,
        "as placed, or with input-tiles and broadcast-chain (broadcast-chain alone in a replicated program), whichever the timing model finds faster for one inference (Passes/PassCatalog.cs)",
        "as the chosen passes; ties keep the earlier candidate (the model as placed first); a convolutional network with input-tiles",
        (c, ctx) =>
        {
            // A convolutional network's code generator (Codegen/GraphCodeGenerator.cs) delivers its
            // maps otherwise (no broadcast shapes to choose); its one choice is input-tiles, which
            // only takes work away (the host's writes cost no core time, and no hub loads and
            // forwards the input or signals its readers), so it is taken without timing runs
            // (measured: docs/optimizations.md, "Replicated convolutions").
            if (c.Quantized!.Graph is not null)
            {
                return InputTiles.Apply(c, ctx);
            }

            // Two candidates, each timed at batch 1 only (the target is latency) by one untraced
            // timing run: a streamed run of each, or the full report, would take MLP-L4's -O2
            // compile past its 1 s budget. broadcast-chain alone never won where measured.
            // A replicated program has a sample slot per copy, and a program whose input is written
            // per tile has one slot (ProgramImage): with copies only the chain is a candidate.
            // input-tiles alone is not a candidate: it helps MLP-L4 on isaac (11.43 -> 11.25 µs) but
            // cimc estimate, walking it too, then agreed with the simulation on fewer points (94 %).
            Compilation[] candidates = [c, BroadcastChain.Apply(c.Placed!.ExtraReplicas.IsEmpty ? InputTiles.Apply(c, ctx) : c, ctx)];
            return candidates.Select((k, i) => (k, i, LatencyNs: Performance.PerformanceReport.SingleLatencyNs(
                    Performance.PerformanceInputs.For(ToProgram(k with { Placed = Unreplicated(k.Placed!) }, ctx with { WeightImage = false }), 1))))
                .OrderBy(x => x.LatencyNs).ThenBy(x => x.i).First().k;
        });

    public static Pass OrderCritical { get; } = new("order-critical", IrStage.Scheduled, IrStage.Scheduled,
        "reorder each core's operations: ready work before blocking receives, longest dependent chain first (Scheduling/CriticalPathOrder.cs)",
        "each core's order respects its dependences; receives keep their order and no send moves after a receive it preceded (deadlock-free)",
        (c, ctx) => c with { Schedule = CriticalPathOrder.Apply(c.Schedule!, ctx.Architecture) });

    public static Pass OrderBest { get; } = new("order-best", IrStage.Scheduled, IrStage.Scheduled,
        "keep the schedule's order or the order-critical one, whichever the timing model finds faster (single-inference latency, then streamed throughput)",
        "as order-critical when it is chosen; ties keep the schedule's order",
        (c, ctx) => Fastest([c, OrderCritical.Apply(c, ctx)], ctx, placed => placed));

    public static Pass Schedule { get; } = new("schedule", IrStage.Placed, IrStage.Scheduled,
        "lower the placed model into the schedule IR: each core's operations in order with their dependences, messages with allocated tags (Codegen/CodeGenerator.cs)",
        "every receive names one send of its length; tags unique between two cores; memories within the chip's; deadlock-free",
        (c, ctx) => c with { Schedule = CodeGenerator.Schedule(c.Placed!, Compiler.Header(ctx.Architecture), $"{ctx.Architecture.Name} cores") });

    public static Pass Emit { get; } = new("emit", IrStage.Scheduled, IrStage.Program,
        "lower the schedule into the ISA program and weight image (Scheduling/ScheduleLowering.cs)",
        "one instruction per operation in the schedule's order, a halt per core; the program's limits checked",
        (c, ctx) => c with { Program = ScheduleLowering.Lower(c.Schedule!), Weights = ctx.WeightImage ? c.Schedule!.Weights : null });

    /// <summary>The program of a compilation at any stage from placement on: a placed model is scheduled straight, then emitted.</summary>
    public static Compilation ToProgram(Compilation c, PassContext ctx) =>
        c.Program is not null ? c
        : c.Schedule is not null ? Emit.Apply(c, ctx)
        : Emit.Apply(Schedule.Apply(c, ctx), ctx);

    /// <summary>
    /// The candidate whose program (its placed model rewritten by <paramref name="shape"/>, then
    /// emitted) the timing model finds fastest: single-inference latency first, then throughput at
    /// batch 16; ties keep the earlier candidate. Returns the candidate as it was, unshaped. A
    /// candidate whose program does not fit the chip (say a placement that crowds several ring
    /// buffers onto one tile) is dropped; when none fits, the first candidate's refusal stands.
    /// </summary>
    private static Compilation Fastest(IReadOnlyList<Compilation> candidates, PassContext ctx, Func<PlacedModel, PlacedModel> shape)
    {
        var timed = new List<(Compilation Candidate, double LatencyNs, double ThroughputPerS, int Index)>();
        CimcException? firstRefusal = null;
        for (int i = 0; i < candidates.Count; i++)
        {
            Compilation candidate = candidates[i];
            Compilation program;
            try
            {
                // Replicas 0 keep the cores the candidate chose and sample 0 runs on them alone, so the
                // candidates are timed without the other replicas (a program of period P costs P times
                // as much to emit and time).
                program = ToProgram(candidate with { Placed = Unreplicated(shape(candidate.Placed!)) }, ctx with { WeightImage = false });
            }
            catch (CimcException e) when (e.Diagnostic.Code == "does-not-fit")
            {
                firstRefusal ??= e;
                continue;
            }

            Performance.PerformanceReport r = Performance.PerformanceReport.Evaluate(Performance.PerformanceInputs.For(program, 16), candidate.Graph.Name);
            timed.Add((candidate, r.LatencyNs, r.ThroughputPerS, i));
        }

        return timed.Count == 0 ? throw firstRefusal!
            : timed.OrderBy(s => s.LatencyNs).ThenByDescending(s => s.ThroughputPerS).ThenBy(s => s.Index).First().Candidate;
    }

    private static PlacedModel Unreplicated(PlacedModel placed) =>
        placed.ExtraReplicas.IsEmpty ? placed : placed with { Mapped = Replication.Apply(placed.Mapped, [.. placed.Layers.Select(_ => 1)]), ExtraReplicas = [] };

    /// <summary>All passes, in pipeline order.</summary>
    public static ImmutableArray<Pass> All { get; } = [Quantize, Map, SplitSlices, ReplicateGreedy, ReplicateMinMax, ReplicateMax, PlaceLinear, PlaceGreedy, PlaceAnneal, PlaceRows, PlaceBest, ShapesBest, ReduceTree, BroadcastRing, BroadcastTree, ReduceArrival, RingGroups, SpreadRoots, InputTiles, BroadcastChain, DeliveryBest, PlaceCopies, SignalChunks, FoldBias, Schedule, OrderCritical, OrderBest, Emit];

    public static Pass Named(string name, string option) =>
        All.FirstOrDefault(p => p.Name == name)
        ?? throw new CimcException("bad-option", option, $"no pass '{name}' (passes: {string.Join(", ", All.Select(p => p.Name))})");
}
