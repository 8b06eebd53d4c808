using System.Collections.Immutable;
using Cimc.Diagnostics;
using Cimc.Ir;
using Cimc.Isa;
using Cimc.Mapping;
using Cimc.Placement;
using Cimc.Quantization;
using Cimc.Scheduling;

namespace Cimc.Codegen;

/// <summary>
/// The schedule pass for a quantized graph (<see cref="QuantizedModel.Graph"/>: convolutions, pooling,
/// residual adds, concats): a spatial pipeline in which every crossbar layer stays resident on its
/// cores and feature maps live in tile buffers (<see cref="GraphPlan"/>), HWC, so that a window row
/// of kw pixels is kw * Cin contiguous codes; whole, or as rings of rows on tiles where they do not
/// fit whole. Work is emitted in row steps in the wavefront order (<see cref="GraphWavefront"/>); in
/// a layer's row step, per output pixel, every core of the layer
/// <list type="number">
/// <item>loads the window rows it holds (the im2col rows of its crossbar row blocks, row
///   r = ((kh * KW) + kw) * Cin + c) from its tile's copy of the input map, one load per run of
///   contiguous codes, and copies the input zero point into rows that fall in the padding;</item>
/// <item>runs its mvms, the offset correction, the reduction and the output stage exactly as for a
///   dense layer (<see cref="Reduction"/>, <see cref="OutputStage"/>), pixel after pixel;</item>
/// <item>each column block's root hands the pixel's codes to the consumers' map copies (<see cref="MapDelivery"/>,
///   which also keeps each copy's readers in step with its hub row by row).</item>
/// </list>
/// A dense layer reads its whole input map as one window. Pooling and adds run on the vector unit of
/// a core of their own (<see cref="VectorNodes"/>). Guarantees: the program computes the integer
/// semantics of docs/quantization.md ("Convolutional networks") exactly; it is deadlock-free because
/// every core's operations follow one global order of row steps in which each receive comes after
/// its send. A replicated layer's copies share each row step, copy c computing the pixels x with
/// x mod k = c (<see cref="GraphPlan.CopyFor"/>); each copy's cores read the input map like any other
/// reader (signals and releases per core), so the copies of one row run in parallel. Maps whose rings
/// do not fit a tile buffer are refused in one line.
/// </summary>
internal static class GraphCodeGenerator
{
    public static Schedule Schedule(PlacedModel placed, ArchHeader arch, string memoryOwner)
    {
        MappedModel mapped = placed.Mapped;
        QuantizedModel model = mapped.Model;
        QuantizedGraph graph = model.Graph!;
        CrossbarGeometry g = mapped.Geometry;
        var buffers = new TileBuffers(arch.BufferWords);
        GraphPlan plan = GraphPlan.Make(placed, graph, arch);
        GraphWavefront wave = GraphWavefront.Of(graph);
        plan.Allocate(buffers, wave);
        buffers.CheckCapacity();
        int staging = Math.Max(arch.Rows, arch.Cols);
        bool tree = placed.Lowering.ReductionTree;

        // Core memories: a layer's cores as for a dense layer (plus a staging area on hubs, and the
        // input zero point where windows reach into padding), the vector cores their own.
        var memory = new Dictionary<int, CoreMemoryLayout>();
        var padding = new Dictionary<int, (int Addr, int Words)>();
        var em = new Emitter { Nearest = true };
        foreach (LayerCores layer in plan.Copies.SelectMany(c => c))
        {
            QuantizedLayer q = layer.Layer.Mapped.Layer;
            ConvGeometry? conv = graph.NodeOf(layer.Index).Conv;
            foreach (CoreSpan c in layer.Cores)
            {
                IReadOnlyList<CrossbarBlock> blocks = layer.BlocksOf(c.Core);
                int partials = CodeGenerator.PartialWords(layer, c.Core, tree);
                var needs = new CoreMemoryLayout.Needs(c, blocks, partials, mapped.Encoding == SignedWeightEncoding.Offset,
                    plan.Stagers.Contains(c.Core) ? staging : 0, [.. layer.ColumnBlocks.Where(b => b.Root == c.Core)], q.PreActivation is not null);
                CoreMemoryLayout mem = CoreMemoryLayout.For(needs, arch.LocalWords, q.Name, memoryOwner);
                memory[c.Core] = mem;
                if (conv is not null && HasPadding(conv.Window))
                {
                    // As wide as the widest run of rows a padding piece can cover, or what memory is left (pieces then copy in parts).
                    int widest = Math.Min(mem.InputRuns.Max(r => r.Hi - r.Lo), arch.LocalWords - mem.Words);
                    Fits(mem.Words + Math.Max(widest, 1), arch.LocalWords, q.Name, c.Core, memoryOwner);
                    padding[c.Core] = (mem.Words, widest);
                    em.Data(c.Core, mem.Words, Enumerable.Repeat(q.Input.ZeroPoint, widest));
                }
            }
        }

        var vectors = new VectorNodes(plan, em, arch, staging, memoryOwner);
        var delivery = new MapDelivery(plan, em, staging, core => memory.TryGetValue(core, out var m) ? (m.Staging, m.Signal) : vectors.Scratch(core));
        var rows = new Dictionary<int, Action<int>> { [QuantizedGraph.NetworkInput] = delivery.SpreadInputRow };
        for (int n = 0; n < graph.Nodes.Length; n++)
        {
            // A concat has no steps: its inputs' producers write its copies.
            if (graph.Nodes[n] is not ConcatNode)
            {
                rows[n] = graph.Nodes[n] is LayerNode node ? LayerRows(n, node) : vectors.Begin(n, delivery);
            }
        }

        foreach ((int n, int row) in wave.Steps)
        {
            if (n != QuantizedGraph.NetworkInput)
            {
                delivery.BeforeStep(n, row);
            }

            rows[n](row);
            if (n != QuantizedGraph.NetworkInput)
            {
                delivery.AfterStep(n, row);
            }
        }

        ImmutableArray<IoPart> parts = plan.InputParts();
        ActivationQuant input = model.Input;
        QuantizedNode last = graph.Nodes[^1];
        (ImmutableArray<double> scales, ImmutableArray<long> zeros) = last is LayerNode { Layer: var ll } && model.Layers[ll].OutputsAccumulator
            ? model.OutputDequantization()
            : ([.. Enumerable.Repeat(last.Output.Scale, last.Shape.Size)], [.. Enumerable.Repeat(last.Output.ZeroPoint, last.Shape.Size)]);
        var crossbars = placed.AllReplicas.SelectMany(l => l.Blocks)
            .Select(pb => new KeyValuePair<CrossbarId, byte[]>(new CrossbarId(pb.Core, pb.Crossbar), pb.Block.Levels));
        return em.Build(
            arch,
            new InputSpec(parts.IsEmpty ? plan.Input.Tile : parts[0].Tile, parts.IsEmpty ? plan.Input.Addr : parts[0].Addr, graph.InputShape.Size, input.Scale, input.ZeroPoint, 0, input.Max) { Parts = parts },
            new OutputSpec(plan.Output.Tile, plan.Output.Addr, last.Shape.Size, scales, zeros),
            WeightImage.Wrap(g.Rows, g.Cols, g.CellBits, crossbars));

        Action<int> LayerRows(int n, LayerNode node)
        {
            int inMap = node.Inputs[0];
            MapShape inShape = plan.ShapeOf(inMap);
            var activationLoaded = new HashSet<int>();
            return oy =>
            {
                for (int ox = 0; ox < node.Shape.Width; ox++)
                {
                    // Copy ox mod k computes the pixel: the copies share the row step, each its columns.
                    LayerCores layer = plan.CopyFor(node.Layer, ox);
                    foreach (CoreSpan c in layer.Cores)
                    {
                        CoreMemoryLayout mem = memory[c.Core];
                        em[c.Core].Add(Instruction.VClear(mem.Acc, c.ColHi - c.ColLo));
                        foreach (ColumnBlock block in placed.Lowering.BiasFirst ? layer.ColumnBlocks.Where(b => b.Root == c.Core) : [])
                        {
                            em[c.Core].Add(Instruction.VCopy(mem.AccAddr(block.ColStart), mem.ConstantsOf(block.Index).Bias, block.ColCount));
                        }

                        MapCopy copy = plan.CopyOf(inMap, c.Tile);
                        foreach ((int lo, int hi) in mem.InputRuns)
                        {
                            foreach ((int row, int len, int src) in Window.Pieces(node.Conv, inShape, lo, hi, oy, ox))
                            {
                                if (src < 0)
                                {
                                    (int zeros, int words) = padding[c.Core];
                                    for (int k = 0; k < len; k += words)
                                    {
                                        em[c.Core].Add(Instruction.VCopy(mem.InputAddr(row + k), zeros, Math.Min(words, len - k)));
                                    }

                                    continue;
                                }

                                plan.Load(copy, src, len);
                                foreach ((int off, int addr, int run) in copy.Runs(src, len))
                                {
                                    em[c.Core].Add(Instruction.Load(mem.InputAddr(row + off), addr, run));
                                }
                            }
                        }
                    }

                    CodeGenerator.Mvms(em, layer, memory, mapped.Encoding);

                    foreach (ColumnBlock block in layer.ColumnBlocks)
                    {
                        Reduction.Emit(em, node.Layer, block, memory, tree);
                        int result = OutputStage.Emit(em, layer, block, memory[block.Root], activationLoaded: !activationLoaded.Add(block.Root), biasAdded: placed.Lowering.BiasFirst);
                        delivery.Deliver(block.Root, n, oy, ox, block.ColStart, block.ColEnd, result);
                    }
                }
            };
        }
    }

    /// <summary>
    /// Whether the maps of <paramref name="placed"/> (a convolutional network) fit its tile buffers,
    /// whole or in rings, without emitting code: the replicate passes ask before they keep copies,
    /// whose cores add map copies to more tiles.
    /// </summary>
    public static bool MapsFit(PlacedModel placed, ArchHeader arch)
    {
        QuantizedGraph graph = placed.Mapped.Model.Graph!;
        var buffers = new TileBuffers(arch.BufferWords);
        GraphPlan.Make(placed, graph, arch).Allocate(buffers, GraphWavefront.Of(graph));
        return buffers.Fit;
    }

    private static bool HasPadding(Window2d w) => w.PadTop > 0 || w.PadLeft > 0 || w.PadBottom > 0 || w.PadRight > 0;

    internal static void Fits(long words, int localWords, string what, int core, string memoryOwner)
    {
        if (words > localWords)
        {
            throw new CimcException("does-not-fit", $"node '{what}'",
                $"needs {words} words of core local memory on core {core} but {memoryOwner} have {localWords}");
        }
    }
}
