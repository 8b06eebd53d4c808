using System.Collections.Immutable;
using Cimc.Isa;
using Cimc.Mapping;
using Cimc.Placement;
using Cimc.Quantization;
using Cimc.Scheduling;

namespace Cimc.Codegen;

/// <summary>
/// The schedule pass: the straight lowering of a placed model into the schedule IR (one ordered
/// operation list per core, synchronized by messages), plus the crossbar weight image; the emit
/// pass (<see cref="ScheduleLowering"/>) turns it into the ISA. Per layer, every core
/// <list type="number">
/// <item>clears the accumulator columns it writes (before waiting, so it costs no latency);</item>
/// <item>gets the input rows it reads through tile buffers (<see cref="InputBroadcast"/>: a ring of
///   tile hubs when <see cref="Lowering.RingBroadcast"/> is on, a tree over the hubs reading each chunk with
///   <see cref="Lowering.TreeBroadcast"/>, else straight from each producer);</item>
/// <item>runs one mvm per crossbar it holds into its own accumulators, then, for the offset
///   encoding, its share of the input-sum correction (<see cref="OutputStage.OffsetCorrection"/>);</item>
/// <item>per column block it holds, in column order: joins that block's reduction (<see cref="Reduction"/>:
///   a tree when <see cref="Lowering.ReductionTree"/> is on, else a chain into the root); the block's root adds the bias, requantizes and runs the
///   activation (vact) over the block's columns (<see cref="OutputStage"/>) and hands the codes to the
///   next layer's tiles, or to the network output (<see cref="OutputGather"/>).</item>
/// </list>
/// Tile buffers hold the network input at address 0 of the first layer's lead tile, the output
/// after it (on the last layer's lead tile), and one region per (layer, tile) that shares an input;
/// regions never overlap and a tile that needs more than its buffer is a does-not-fit diagnostic.
/// Guarantees: the program computes docs/quantization.md section 6 exactly (integer additions
/// reordered only), is deadlock-free (every receive's send precedes it in a topological order of
/// layers, column blocks and tree levels) and is deterministic (cores, tiles, blocks in ascending order).
/// </summary>
public static class CodeGenerator
{
    /// <summary>Schedules and lowers in one go: the program and weight image of the straight schedule.</summary>
    public static (ProgramImage Program, WeightImage Weights) Generate(PlacedModel placed, ArchHeader arch, string memoryOwner = "cores")
    {
        Schedule schedule = Schedule(placed, arch, memoryOwner);
        return (ScheduleLowering.Lower(schedule), schedule.Weights);
    }

    /// <param name="memoryOwner">How a does-not-fit message names the cores' memory size ("isaac cores").</param>
    public static Schedule Schedule(PlacedModel placed, ArchHeader arch, string memoryOwner = "cores")
    {
        if (placed.Mapped.Model.Graph is { } graph)
        {
            // The host is given the input image NCHW (as model files and data files hold it) and the
            // chip reads maps HWC: the program says so when the two orders differ.
            Schedule scheduled = GraphCodeGenerator.Schedule(placed, arch, memoryOwner);
            var image = new InputImage(graph.InputShape.Channels, graph.InputShape.Height, graph.InputShape.Width);
            return image.Reorders ? scheduled with { Input = scheduled.Input with { Image = image } } : scheduled;
        }

        MappedModel mapped = placed.Mapped;
        CrossbarGeometry g = mapped.Geometry;
        var em = new Emitter();
        int period = mapped.Period;
        // layers[l][r]: replica r of layer l, which serves the samples n with n mod (its replica count) = r.
        var layers = placed.Layers.Select((_, l) => placed.Replicas(l).Select(replica => new LayerCores(l, replica, arch, placed.Lowering.SpreadRoots)).ToImmutableArray()).ToImmutableArray();

        // Tile buffers: the network input first (address 0), then the output, then the shared layer
        // inputs; a replicated first (last) layer has an input (output) region per replica, in its lead's tile.
        ImmutableArray<LayerCores> firsts = layers[0], lasts = layers[^1];
        int inF = placed.Layers[0].Mapped.Layer.InFeatures, outF = placed.Layers[^1].Mapped.Layer.OutFeatures;
        var buffers = new TileBuffers(arch.BufferWords);
        var inputIo = new (int Tile, int Addr)[firsts.Length];
        var outputIo = new (int Tile, int Addr)[lasts.Length];
        // A vector wider than one tile buffer is split into parts, one per tile that reads (writes) its values.
        // The input-tiles pass splits it by choice, only in a program without copies: a split input
        // has one sample slot, and a replicated program has one per sample of its period.
        bool splitIn = inF > arch.BufferWords || (placed.Lowering.InputPerTile && placed.ExtraReplicas.IsEmpty), splitOut = outF > arch.BufferWords;
        if ((splitIn && firsts.Length > 1) || (splitOut && lasts.Length > 1))
        {
            throw new Diagnostics.CimcException("does-not-fit", $"layer '{(splitIn ? firsts : lasts)[0].Name}'",
                "a replicated layer cannot read the network input or write its output when that is wider than a tile buffer (compile without replication)");
        }

        for (int r = 0; r < Math.Max(firsts.Length, lasts.Length); r++)
        {
            if (splitIn && r == 0)
            {
                inputIo[0] = (-1, -1);
            }
            else if (r < firsts.Length)
            {
                int tile = arch.TileOf(firsts[r].Layer.Lead);
                inputIo[r] = (tile, buffers.Allocate(tile, "network input", inF));
            }

            if (splitOut)
            {
                outputIo[0] = (-1, -1);
            }
            else if (r < lasts.Length)
            {
                int tile = arch.TileOf(lasts[r].Layer.Lead);
                outputIo[r] = (tile, buffers.Allocate(tile, "network output", outF));
            }
        }

        bool tree = placed.Lowering.ReductionTree && !placed.Lowering.ArrivalOrder;
        var inputs = layers.Select(replicas => replicas.Select((layer, r) =>
            InputBroadcast.Plan(layer, buffers, inputIo[r % inputIo.Length].Tile, inputIo[r % inputIo.Length].Addr,
                placed.Lowering.ChunkWords > 0 ? Math.Min(arch.Rows, placed.Lowering.ChunkWords) : arch.Rows, placed.Lowering.Broadcast, placed.Lowering.ChunkSignals, placed.Lowering.GroupRings, placed.Lowering.ChainBroadcast)).ToImmutableArray()).ToImmutableArray();
        for (int l = 0; l < layers.Length && placed.Lowering.ArrivalOrder; l++)
        {
            for (int r = 0; r < layers[l].Length; r++)
            {
                layers[l][r].OrderByArrival(inputs[l][r].ArrivalRank);
            }
        }

        ImmutableArray<IoPart> outputParts = splitOut ? OutputGather.PlanParts(arch, lasts[0], buffers) : [];
        buffers.CheckCapacity();

        // Every core's memory, laid out (and checked against the chip's) before anything is emitted.
        var memory = layers.Select((replicas, l) => replicas.Select((layer, r) =>
        {
            bool landing = l == layers.Length - 1 && !splitOut && OutputGather.NeedsLanding(arch, layer.Layer.Lead, layer.ColumnBlocks);
            return Layout(layer, inputs[l][r], landing);
        }).ToImmutableArray()).ToImmutableArray();
        var outputs = lasts.Select((layer, r) => new OutputGather(arch, layer.Layer.Lead, outputIo[r].Addr, outputParts)).ToImmutableArray();

        // One period: sample slot j runs through replica j mod k of each layer. Each core's
        // instructions for slot j form a section (docs/isa.md, "Replicated programs"); with one slot
        // there are no sections and the stream is the single-sample schedule.
        for (int j = 0; j < period; j++)
        {
            em.Slot = period > 1 ? j : -1;
            EmitSample(j);
        }

        QuantizedModel model = mapped.Model;
        ActivationQuant input = model.Input;
        (ImmutableArray<double> scales, ImmutableArray<long> zeros) = model.OutputDequantization();
        // The weight image computes the mapped blocks' levels when it is written (or read), rather than holding them.
        var crossbars = placed.AllReplicas.SelectMany(l => l.Blocks)
            .Select(pb => new KeyValuePair<CrossbarId, ICellLevels>(new CrossbarId(pb.Core, pb.Crossbar), pb.Block.Levels));
        ImmutableArray<IoPart> inputParts = splitIn ? inputs[0][0].InputParts : [];
        (int inTile0, int inAddr0) = splitIn ? (inputParts[0].Tile, inputParts[0].Addr) : inputIo[0];
        (int outTile0, int outAddr0) = splitOut ? (outputParts[0].Tile, outputParts[0].Addr) : outputIo[0];
        return em.Build(
            arch,
            new InputSpec(inTile0, inAddr0, inF, input.Scale, input.ZeroPoint, 0, input.Max) { Parts = inputParts },
            new OutputSpec(outTile0, outAddr0, outF, scales, zeros) { Parts = outputParts },
            WeightImage.Computed(g.Rows, g.Cols, g.CellBits, crossbars)) with
        {
            ExtraSlots = [.. Enumerable.Range(1, period - 1).Select(j =>
            {
                (int inTile, int inAddr) = inputIo[j % inputIo.Length];
                (int outTile, int outAddr) = outputIo[j % outputIo.Length];
                return new SlotIo(inTile, inAddr, outTile, outAddr);
            })],
        };

        void EmitSample(int j)
        {
            var pieces = new List<Piece>();
            for (int l = 0; l < layers.Length; l++)
            {
                int r = j % layers[l].Length;
                LayerCores layer = layers[l][r];
                InputBroadcast broadcast = inputs[l][r];
                IReadOnlyDictionary<int, CoreMemoryLayout> mem = memory[l][r];
                // Accumulators start cleared (or at the bias) before the layer's input arrives, off the
                // critical path; a core whose staging area is its accumulators starts them after.
                StartAccumulators(layer, mem, staged: false);
                if (l == 0)
                {
                    broadcast.StartSample();
                    pieces = broadcast.LoadNetworkInput(em, mem) is { } fromLead ? [fromLead] : [];
                }

                broadcast.Receive(em, mem, pieces);
                StartAccumulators(layer, mem, staged: true);

                Mvms(em, layer, mem, mapped.Encoding);

                IVectorSink next = l + 1 < layers.Length ? inputs[l + 1][j % layers[l + 1].Length] : outputs[j % outputs.Length];
                if (next is InputBroadcast following)
                {
                    following.StartSample();
                }

                pieces = [];
                var activationLoaded = new HashSet<int>();
                foreach (ColumnBlock block in layer.ColumnBlocks)
                {
                    Reduction.Emit(em, l, block, mem, tree);
                    int result = OutputStage.Emit(em, layer, block, mem[block.Root], activationLoaded: !activationLoaded.Add(block.Root), biasAdded: placed.Lowering.BiasFirst);
                    next.Deliver(em, block.Root, block.ColStart, block.ColEnd, result);
                    pieces.Add(new Piece(block.Root, block.ColStart, block.ColEnd));
                }
            }

            int rl = j % lasts.Length;
            outputs[rl].Finish(em, memory[^1][rl][lasts[rl].Layer.Lead].Staging);
        }

        void StartAccumulators(LayerCores layer, IReadOnlyDictionary<int, CoreMemoryLayout> mem, bool staged)
        {
            foreach (CoreSpan c in layer.Cores.Where(c => mem[c.Core].StagingOnAccumulators == staged))
            {
                em[c.Core].Add(Instruction.VClear(mem[c.Core].Acc, c.ColHi - c.ColLo));
                foreach (ColumnBlock block in placed.Lowering.BiasFirst ? layer.ColumnBlocks.Where(b => b.Root == c.Core) : [])
                {
                    // The fold-bias pass: the root's accumulators start at the bias, off the critical path.
                    em[c.Core].Add(Instruction.VCopy(mem[c.Core].AccAddr(block.ColStart), mem[c.Core].ConstantsOf(block.Index).Bias, block.ColCount));
                }
            }
        }

        IReadOnlyDictionary<int, CoreMemoryLayout> Layout(LayerCores layer, InputBroadcast broadcast, bool lands)
        {
            QuantizedLayer q = layer.Layer.Mapped.Layer;
            var result = new Dictionary<int, CoreMemoryLayout>();
            foreach (CoreSpan c in layer.Cores)
            {
                IReadOnlyList<CrossbarBlock> blocks = layer.BlocksOf(c.Core);
                var held = blocks.Select(b => (b.RowStart, b.RowStart + b.RowCount)).Distinct().ToList();
                int partials = PartialWords(layer, c.Core, tree);
                bool staging = broadcast.NeedsStaging(c.Core, held) || (lands && c.Core == layer.Layer.Lead);
                var needs = new CoreMemoryLayout.Needs(c, blocks, partials, mapped.Encoding == SignedWeightEncoding.Offset,
                    staging ? Math.Max(arch.Rows, arch.Cols) : 0, [.. layer.ColumnBlocks.Where(b => b.Root == c.Core)], q.PreActivation is not null);
                result[c.Core] = CoreMemoryLayout.For(needs, arch.LocalWords, q.Name, memoryOwner);
            }

            return result;
        }
    }

    /// <summary>Every core's mvms of the layer into its accumulators, then (offset encoding) the input-sum correction.</summary>
    internal static void Mvms(Emitter em, LayerCores layer, IReadOnlyDictionary<int, CoreMemoryLayout> memory, SignedWeightEncoding encoding)
    {
        MappedLayer m = layer.Layer.Mapped;
        foreach (PlacedBlock pb in layer.Layer.Blocks)
        {
            CrossbarBlock b = pb.Block;
            CoreMemoryLayout core = memory[pb.Core];
            em[pb.Core].Add(Instruction.Mvm(pb.Crossbar, core.InputAddr(b.RowStart), core.AccAddr(b.ColStart),
                b.RowCount, b.ColCount, m.InputBits, b.Shift, b.Polarity < 0, m.Layer.RowsPerRead, m.Layer.AdcShift, b.Window));
        }

        if (encoding == SignedWeightEncoding.Offset)
        {
            OutputStage.OffsetCorrection(em, layer, memory);
        }
    }

    /// <summary>Words of partial sums <paramref name="core"/> receives at once: the widest column block it adds others' sums into.</summary>
    internal static int PartialWords(LayerCores layer, int core, bool tree) =>
        layer.ColumnBlocks.Where(b => b.Cores.Contains(core) && Reduction.Receives(b.Cores.IndexOf(core), b.Cores.Length, tree))
            .Select(b => b.ColCount).DefaultIfEmpty(0).Max();
}
