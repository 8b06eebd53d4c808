using System.Collections.Immutable;
using Cimc.Isa;
using Cimc.Mapping;
using Cimc.Placement;
using Cimc.Quantization;

namespace Cimc.Codegen;

/// <summary>
/// The schedule + emit pass: one instruction stream per core, synchronized by send/receive, plus
/// the crossbar weight image. Per layer, every core
/// <list type="number">
/// <item>clears the accumulator columns it writes (before waiting, so it costs no latency);</item>
/// <item>gets the input rows it reads by broadcast through tile buffers (<see cref="InputBroadcast"/>);</item>
/// <item>runs one mvm per crossbar it holds into its own accumulators, then, for the offset
///   encoding, its share of the input-sum correction (<see cref="OutputStage.OffsetCorrection"/>);</item>
/// <item>per column block it holds, in column order: joins that block's reduction tree
///   (<see cref="Reduction"/>); the block's root adds the bias, requantizes and looks up the
///   activation for the block's columns (<see cref="OutputStage"/>) and hands the codes to the
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
    public static (ProgramImage Program, WeightImage Weights) Generate(PlacedModel placed, ArchHeader arch)
    {
        MappedModel mapped = placed.Mapped;
        CrossbarGeometry g = mapped.Geometry;
        var em = new Emitter();
        var layers = placed.Layers.Select((layer, l) => new LayerCores(l, layer, arch)).ToImmutableArray();
        var memory = layers.Select(Layout).ToImmutableArray();

        // Tile buffers: the network input first (address 0), then the output, then the shared layer inputs.
        PlacedLayer first = placed.Layers[0], last = placed.Layers[^1];
        int inputTile = arch.TileOf(first.Lead), outputTile = arch.TileOf(last.Lead);
        int inF = first.Mapped.Layer.InFeatures, outF = last.Mapped.Layer.OutFeatures;
        var buffers = new TileBuffers(arch.BufferWords);
        int inputAddr = buffers.Allocate(inputTile, "network input", inF);
        int outputAddr = buffers.Allocate(outputTile, "network output", outF);
        var inputs = layers.Select(layer => InputBroadcast.Plan(layer, buffers, inputTile, inputAddr, arch.Rows)).ToImmutableArray();
        buffers.CheckCapacity();
        var output = new OutputGather(arch, last.Lead, outputAddr, memory[^1].Result);

        var pieces = new List<Piece>();
        for (int l = 0; l < layers.Length; l++)
        {
            LayerCores layer = layers[l];
            CoreMemoryLayout mem = memory[l];
            MappedLayer m = layer.Layer.Mapped;
            foreach (CoreSpan c in layer.Cores)
            {
                em[c.Core].Add(Instruction.VClear(mem.Acc + c.ColLo, c.ColHi - c.ColLo));
            }

            if (l == 0)
            {
                pieces = inputs[0].LoadNetworkInput(em, mem) is { } fromLead ? [fromLead] : [];
            }

            inputs[l].Receive(em, mem, pieces);

            foreach (PlacedBlock pb in layer.Layer.Blocks)
            {
                CrossbarBlock b = pb.Block;
                em[pb.Core].Add(Instruction.Mvm(pb.Crossbar, mem.Input + b.RowStart, mem.Acc + b.ColStart,
                    b.RowCount, b.ColCount, m.InputBits, b.Shift, b.Polarity < 0, m.Layer.RowsPerRead, m.Layer.AdcShift));
            }

            if (mapped.Encoding == SignedWeightEncoding.Offset)
            {
                OutputStage.OffsetCorrection(em, layer, mem);
            }

            IVectorSink next = l + 1 < layers.Length ? inputs[l + 1] : output;
            pieces = [];
            var tables = new HashSet<int>();
            foreach (ColumnBlock block in layer.ColumnBlocks)
            {
                Reduction.Emit(em, l, block, mem);
                int result = OutputStage.Emit(em, layer, block, mem, tableLoaded: !tables.Add(block.Root));
                next.Deliver(em, block.Root, block.ColStart, block.ColEnd, result);
                pieces.Add(new Piece(block.Root, block.ColStart, block.ColEnd));
            }
        }

        output.Finish(em);

        QuantizedModel model = mapped.Model;
        ActivationQuant input = model.Input;
        (ImmutableArray<double> scales, ImmutableArray<long> zeros) = model.OutputDequantization();
        var program = new ProgramImage(
            arch,
            new InputSpec(inputTile, inputAddr, inF, input.Scale, input.ZeroPoint, 0, input.Max),
            new OutputSpec(outputTile, outputAddr, outF, scales, zeros),
            em.Programs());
        program.Validate();

        var crossbars = placed.Layers.SelectMany(l => l.Blocks)
            .Select(pb => new KeyValuePair<CrossbarId, byte[]>(new CrossbarId(pb.Core, pb.Crossbar), pb.Block.Levels));
        return (program, new WeightImage(g.Rows, g.Cols, g.CellBits, crossbars));

        CoreMemoryLayout Layout(LayerCores layer)
        {
            QuantizedLayer q = layer.Layer.Mapped.Layer;
            return CoreMemoryLayout.For(q.InFeatures, q.OutFeatures, layer.ColumnBlocks.Length,
                layer.ColumnBlocks.Max(b => b.ColCount), q.Lut.Length, arch.LocalWords, q.Name);
        }
    }
}
