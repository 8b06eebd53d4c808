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
///   tile hubs when <see cref="Lowering.RingBroadcast"/> is on, else straight from each producer);</item>
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
        MappedModel mapped = placed.Mapped;
        CrossbarGeometry g = mapped.Geometry;
        var em = new Emitter();
        var layers = placed.Layers.Select((layer, l) => new LayerCores(l, layer, arch)).ToImmutableArray();

        // Tile buffers: the network input first (address 0), then the output, then the shared layer inputs.
        PlacedLayer first = placed.Layers[0], last = placed.Layers[^1];
        int inputTile = arch.TileOf(first.Lead), outputTile = arch.TileOf(last.Lead);
        int inF = first.Mapped.Layer.InFeatures, outF = last.Mapped.Layer.OutFeatures;
        var buffers = new TileBuffers(arch.BufferWords);
        int inputAddr = buffers.Allocate(inputTile, "network input", inF);
        int outputAddr = buffers.Allocate(outputTile, "network output", outF);
        bool ring = placed.Lowering.RingBroadcast, tree = placed.Lowering.ReductionTree;
        var inputs = layers.Select(layer => InputBroadcast.Plan(layer, buffers, inputTile, inputAddr, placed.Lowering.ChunkWords > 0 ? Math.Min(arch.Rows, placed.Lowering.ChunkWords) : arch.Rows, ring, placed.Lowering.ChunkSignals)).ToImmutableArray();
        buffers.CheckCapacity();

        // Every core's memory, laid out (and checked against the chip's) before anything is emitted.
        bool landing = OutputGather.NeedsLanding(arch, last.Lead, layers[^1].ColumnBlocks);
        var memory = layers.Select(layer => Layout(layer, inputs[layer.Index], layer.Index == layers.Length - 1 && landing)).ToImmutableArray();
        var output = new OutputGather(arch, last.Lead, outputAddr);

        var pieces = new List<Piece>();
        for (int l = 0; l < layers.Length; l++)
        {
            LayerCores layer = layers[l];
            IReadOnlyDictionary<int, CoreMemoryLayout> mem = memory[l];
            MappedLayer m = layer.Layer.Mapped;
            foreach (CoreSpan c in layer.Cores)
            {
                em[c.Core].Add(Instruction.VClear(mem[c.Core].Acc, c.ColHi - c.ColLo));
                foreach (ColumnBlock block in placed.Lowering.BiasFirst ? layer.ColumnBlocks.Where(b => b.Root == c.Core) : [])
                {
                    // The fold-bias pass: the root's accumulators start at the bias, off the critical path.
                    em[c.Core].Add(Instruction.VCopy(mem[c.Core].AccAddr(block.ColStart), mem[c.Core].ConstantsOf(block.Index).Bias, block.ColCount));
                }
            }

            if (l == 0)
            {
                pieces = inputs[0].LoadNetworkInput(em, mem) is { } fromLead ? [fromLead] : [];
            }

            inputs[l].Receive(em, mem, pieces);

            foreach (PlacedBlock pb in layer.Layer.Blocks)
            {
                CrossbarBlock b = pb.Block;
                CoreMemoryLayout core = mem[pb.Core];
                em[pb.Core].Add(Instruction.Mvm(pb.Crossbar, core.InputAddr(b.RowStart), core.AccAddr(b.ColStart),
                    b.RowCount, b.ColCount, m.InputBits, b.Shift, b.Polarity < 0, m.Layer.RowsPerRead, m.Layer.AdcShift));
            }

            if (mapped.Encoding == SignedWeightEncoding.Offset)
            {
                OutputStage.OffsetCorrection(em, layer, mem);
            }

            IVectorSink next = l + 1 < layers.Length ? inputs[l + 1] : output;
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

        output.Finish(em, memory[^1][last.Lead].Staging);

        QuantizedModel model = mapped.Model;
        ActivationQuant input = model.Input;
        (ImmutableArray<double> scales, ImmutableArray<long> zeros) = model.OutputDequantization();
        // The weight image shares the mapped blocks' levels (immutable from here on) rather than copying them.
        var crossbars = placed.Layers.SelectMany(l => l.Blocks)
            .Select(pb => new KeyValuePair<CrossbarId, byte[]>(new CrossbarId(pb.Core, pb.Crossbar), pb.Block.Levels));
        return em.Build(
            arch,
            new InputSpec(inputTile, inputAddr, inF, input.Scale, input.ZeroPoint, 0, input.Max),
            new OutputSpec(outputTile, outputAddr, outF, scales, zeros),
            WeightImage.Wrap(g.Rows, g.Cols, g.CellBits, crossbars));

        IReadOnlyDictionary<int, CoreMemoryLayout> Layout(LayerCores layer, InputBroadcast broadcast, bool lands)
        {
            QuantizedLayer q = layer.Layer.Mapped.Layer;
            var result = new Dictionary<int, CoreMemoryLayout>();
            foreach (CoreSpan c in layer.Cores)
            {
                IReadOnlyList<CrossbarBlock> blocks = layer.BlocksOf(c.Core);
                var held = blocks.Select(b => (b.RowStart, b.RowStart + b.RowCount)).Distinct().ToList();
                int partials = layer.ColumnBlocks.Where(b => b.Cores.Contains(c.Core) && Reduction.Receives(b.Cores.IndexOf(c.Core), b.Cores.Length, tree))
                    .Select(b => b.ColCount).DefaultIfEmpty(0).Max();
                bool staging = broadcast.NeedsStaging(c.Core, held) || (lands && c.Core == layer.Layer.Lead);
                var needs = new CoreMemoryLayout.Needs(c, blocks, partials, mapped.Encoding == SignedWeightEncoding.Offset,
                    staging ? Math.Max(arch.Rows, arch.Cols) : 0, [.. layer.ColumnBlocks.Where(b => b.Root == c.Core)], q.PreActivation is not null);
                result[c.Core] = CoreMemoryLayout.For(needs, arch.LocalWords, q.Name, memoryOwner);
            }

            return result;
        }
    }
}
