using Cimc.Architectures;
using Cimc.Codegen;
using Cimc.Isa;
using Cimc.Mapping;
using Cimc.Placement;
using Cimc.Quantization;

namespace Cimc.Performance;

/// <summary>
/// One walk of <see cref="Estimator"/> through a convolutional network's program as
/// Codegen/GraphCodeGenerator.cs emits it, without emitting it: the row steps in the wavefront order
/// (<see cref="GraphWavefront"/>: a layer's output row after the input rows its windows reach), in
/// each layer's step per output pixel (window) every core of the copy that computes it (copy
/// x mod k) clears its accumulators, loads its window rows from its tile's map copy (one load per
/// contiguous piece, <see cref="Window.Pieces"/>; padding copied from the zero point), runs one mvm
/// per crossbar, reduces and requantizes as a dense layer, and the roots hand the pixel to the
/// consumers' map copies (a store on the hub, or a message the hub receives and stores). Pools and
/// adds work pixel by pixel on their cores (a load and a vector instruction per window cell); hubs
/// signal their tile's other readers before each step that reaches new rows, and ring readers
/// release rows after each step (Codegen/MapDelivery.cs). Every core's clock moves in that one
/// global order, each receive waiting for its message, each mvm by the timing model's pipeline rule
/// (<see cref="EstimateMvms"/>), the tile buses and links through the simulator's calendar
/// (<see cref="EstimateTally"/>). What it leaves out: the memory-range waits inside a core beyond
/// in-order issue, the widths of values the program analysis infers (codes move at their bits,
/// partial sums at the accumulator width), and a pool's or add's channel groups when its core's
/// memory cannot hold whole pixels.
/// </summary>
internal sealed class GraphEstimateWalk
{
    private readonly Architecture arch;
    private readonly GraphPlan plan;
    private readonly GraphWavefront wave;
    private readonly QuantizedGraph graph;
    private readonly EstimateTally tally;
    private readonly EstimateMvms mvms;
    private readonly bool tree, biasFirst, offset;
    private readonly int staging;
    private readonly Dictionary<LayerCores, CopyWork> work = [];
    private readonly Dictionary<(int Map, int Tile, int Core), int> announced = [];
    private readonly Dictionary<(int Map, int Tile, int Core), int> released = [];
    private readonly Dictionary<(int Map, int Tile, int Core), Queue<(int Done, double Arrival)>> releases = [];
    private readonly Dictionary<(int Map, int Tile, int Core), int> heard = [];
    private readonly List<double> finish = [];
    private readonly Dictionary<int, List<MapTarget>> targetsOf = [];
    private readonly Dictionary<int, List<(MapCopy Copy, int Reader)>> readsOf = [];
    private readonly Dictionary<(int Map, int Tile), List<int>> otherReaders = [];
    private readonly Dictionary<(int Core, int Block), double> acc = [];
    private readonly Dictionary<(Opcode Op, long Len), (long Memory, long Adds, long Muls, long Lookups)> opEvents = [];
    private EventCounts? counts;
    private double[]? firstFinish;

    public GraphEstimateWalk(Architecture arch, PlacedModel placed, GraphPlan plan, GraphWavefront wave)
    {
        this.arch = arch;
        this.plan = plan;
        this.wave = wave;
        graph = plan.Graph;
        tally = new EstimateTally(arch, (int)arch.TotalCores);
        mvms = new EstimateMvms(arch, (int)arch.TotalCores);
        tree = placed.Lowering.ReductionTree;
        biasFirst = placed.Lowering.BiasFirst;
        offset = placed.Mapped.Encoding == SignedWeightEncoding.Offset;
        staging = Math.Max(arch.Core.Crossbar.Rows, arch.Core.Crossbar.Cols);
        foreach (LayerCores copy in plan.Copies.SelectMany(c => c))
        {
            work[copy] = CopyWork.Of(copy, AccumulatorBits(copy));
        }

        Used = [.. plan.Copies.SelectMany(c => c).SelectMany(c => c.Cores.Select(s => s.Core)).Concat(plan.Exec.Values.SelectMany(cores => cores)).Distinct().Order()];
    }

    /// <summary>The cores the program runs on: every copy's, and the pools' and adds'.</summary>
    public IReadOnlyList<int> Used { get; }

    /// <summary>Walks <paramref name="iterations"/> inferences one after another (each core runs its stream again); events are the first's.</summary>
    public void Run(int iterations)
    {
        for (int k = 0; k < iterations; k++)
        {
            Iteration();
            finish.Add(Used.Max(c => tally.Clock[c]));
            if (k == 0)
            {
                counts = tally.Counts();
                firstFinish = [.. tally.Clock];
                tally.Counting = false;
            }
        }
    }

    /// <summary>Each layer's load for the replicate search: the busiest of its cores' pipelines, crossbars and ADC groups in the walk (one copy, every window).</summary>
    public IReadOnlyList<LayerLoad> LayerLoads(MappedModel mapped, int perCore) =>
        [.. plan.Layers.Select((l, i) => new LayerLoad(l.Cores.Max(c => Math.Max(tally.Busy[c.Core], mvms.Work(c.Core))), Placer.SlotsOf(mapped.Layers[i], perCore) * perCore))];

    public Estimate Result(int batch, double ops, int crossbars) =>
        EstimateFigures.Of(arch, tally, finish, counts!, firstFinish!, Used, batch, ops, crossbars);

    private void Iteration()
    {
        announced.Clear();
        released.Clear();
        releases.Clear();
        heard.Clear();
        foreach ((int n, int row) in wave.Steps)
        {
            if (n == QuantizedGraph.NetworkInput)
            {
                SpreadInputRow(row);
                continue;
            }

            BeforeStep(n, row);
            switch (graph.Nodes[n])
            {
                case LayerNode node:
                    LayerRow(n, node, row);
                    break;
                case ConcatNode:
                    break;
                default:
                    VectorRow(n, row);
                    break;
            }

            AfterStep(n, row);
        }

        foreach (int core in Used)
        {
            tally.Run(core, mvms.Done[core], tally.Cycle); // halt waits for the core's mvms
            tally.Instructions++;
        }

        tally.Forget();
    }

    /// <summary>GraphCodeGenerator's layer row: per output pixel, its copy's cores load, multiply, reduce, requantize and deliver.</summary>
    private void LayerRow(int n, LayerNode node, int oy)
    {
        MapShape input = plan.ShapeOf(node.Inputs[0]);
        int inBits = node.Inputs[0] == QuantizedGraph.NetworkInput ? plan.InputQuant.Bits : graph.Nodes[node.Inputs[0]].Output.Bits;
        for (int ox = 0; ox < node.Shape.Width; ox++)
        {
            LayerCores copy = plan.CopyFor(node.Layer, ox);
            CopyWork w = work[copy];
            QuantizedLayer q = copy.Layer.Mapped.Layer;
            acc.Clear();
            foreach (CoreSpan c in copy.Cores)
            {
                Op(c.Core, Opcode.VClear, c.ColHi - c.ColLo);
                foreach (ColumnBlock block in biasFirst ? copy.ColumnBlocks.Where(b => b.Root == c.Core) : [])
                {
                    Op(c.Core, Opcode.VCopy, block.ColCount);
                }

                foreach ((int lo, int hi) in w.Runs[c.Core])
                {
                    foreach ((_, int len, int src) in Window.Pieces(node.Conv, input, lo, hi, oy, ox))
                    {
                        if (src < 0)
                        {
                            Op(c.Core, Opcode.VCopy, len);
                        }
                        else
                        {
                            tally.Transfer(c.Core, len, inBits);
                        }
                    }
                }
            }

            foreach (PlacedBlock pb in copy.Layer.Blocks)
            {
                double end = mvms.Run(tally, pb.Core, pb.Crossbar, pb.Block.RowCount, pb.Block.ColCount, copy.Layer.Mapped.InputBits, q.RowsPerRead);
                acc[(pb.Core, pb.Block.ColBlock)] = Math.Max(acc.GetValueOrDefault((pb.Core, pb.Block.ColBlock)), end);
            }

            foreach ((int core, int cb, int rows, int cols) in offset ? w.Offsets : [])
            {
                Op(core, Opcode.VSum, rows);
                Op(core, Opcode.VAxpy, cols, acc.GetValueOrDefault((core, cb)));
            }

            foreach (ColumnBlock block in copy.ColumnBlocks)
            {
                Reduce(block, w.AccumulatorBits);
                Output(q, block, acc.GetValueOrDefault((block.Root, block.Index)));
                Deliver(block.Root, n, oy, ox, block.ColCount, q.OutputsAccumulator ? 32 : node.Output.Bits);
            }
        }
    }

    /// <summary>Reduction.Emit: the block's partial sums meet at its root (a binomial tree, or a chain).</summary>
    private void Reduce(ColumnBlock block, int bits)
    {
        int n = block.Cores.Length, cols = block.ColCount;
        void Add(int receiver, int sender)
        {
            double arrival = tally.Send(sender, receiver, cols, bits, acc.GetValueOrDefault((sender, block.Index)));
            tally.Receive(receiver, cols, arrival);
            Op(receiver, Opcode.VAdd, cols, acc.GetValueOrDefault((receiver, block.Index)));
            acc[(receiver, block.Index)] = 0;
        }

        if (!tree)
        {
            for (int i = 1; i < n; i++)
            {
                Add(block.Cores[0], block.Cores[i]);
            }

            return;
        }

        for (int s = 1; s < n; s *= 2)
        {
            for (int i = 0; i + s < n; i += 2 * s)
            {
                Add(block.Cores[i], block.Cores[i + s]);
            }
        }
    }

    /// <summary>OutputStage.Emit on the root: bias (unless folded), requantization, activation.</summary>
    private void Output(QuantizedLayer q, ColumnBlock block, double ready)
    {
        int root = block.Root, len = block.ColCount;
        if (!biasFirst)
        {
            Op(root, Opcode.VAdd, len, ready);
            ready = 0;
        }

        if (q.OutputsAccumulator)
        {
            return;
        }

        Op(root, Opcode.VRequant, len, ready);
        if (q.PreActivation is not null)
        {
            Op(root, Opcode.VAct, len);
        }
    }

    /// <summary>VectorNodes: a pool's or add's output row, pixel by pixel, on its core.</summary>
    private void VectorRow(int n, int oy)
    {
        QuantizedNode node = graph.Nodes[n];
        int[] cores = plan.Exec[n];
        int c = node.Shape.Channels;
        MapShape input = plan.ShapeOf(node.Inputs[0]);
        int bits = node.Inputs[0] == QuantizedGraph.NetworkInput ? plan.InputQuant.Bits : graph.Nodes[node.Inputs[0]].Output.Bits;
        for (int ox = 0; ox < node.Shape.Width; ox++)
        {
            int core = cores[ox % cores.Length]; // split pools and adds: core j of k computes the columns x mod k = j
            switch (node)
            {
                case MaxPoolNode pool:
                    Cells(core, Window.Cells(pool.Window, input, oy, ox).Count(), Opcode.VMaxV);
                    break;
                case AvgPoolNode pool:
                    Cells(core, Window.Cells(pool.Window, input, oy, ox).Count(), Opcode.VAdd);
                    Op(core, Opcode.VAxpy, c);
                    Op(core, Opcode.VRequant, c);
                    break;
                case AddNode:
                    for (int k = 0; k < 2; k++)
                    {
                        tally.Transfer(core, c, bits);
                        Op(core, Opcode.VAxpy, c);
                        Op(core, Opcode.VRequant, c);
                    }

                    Op(core, Opcode.VAdd, c);
                    Op(core, Opcode.VRequant, c);
                    break;
            }

            Deliver(core, n, oy, ox, c, node.Output.Bits);
        }

        void Cells(int core, int cells, Opcode combine)
        {
            tally.Transfer(core, c, bits);
            for (int k = 1; k < cells; k++)
            {
                tally.Transfer(core, c, bits);
                Op(core, combine, c);
            }
        }
    }

    /// <summary>MapDelivery.Deliver: the pixel's channels to every copy of the map (and the network output).</summary>
    private void Deliver(int core, int map, int y, int x, int words, int bits)
    {
        if (!targetsOf.TryGetValue(map, out List<MapTarget>? targets))
        {
            targets = [.. plan.Targets(map)];
            if (map == graph.Nodes.Length - 1)
            {
                targets.Add(new MapTarget(plan.Output, 0, plan.ShapeOf(map).Channels));
            }

            targetsOf[map] = targets;
        }

        foreach (MapTarget t in targets)
        {
            Free(t.Copy, y);
            Put(core, t.Copy.Hub, words, bits);
        }
    }

    /// <summary>MapDelivery.SpreadInputRow: the input's first hub loads each pixel and hands it to the other copies the host does not write (input-tiles).</summary>
    private void SpreadInputRow(int y)
    {
        MapCopy first = plan.Input;
        MapShape shape = graph.InputShape;
        var targets = plan.Targets(QuantizedGraph.NetworkInput).Where(t => t.Copy != first && !t.Copy.HostWritten).ToList();
        if (targets.Count == 0)
        {
            return;
        }

        targets.ForEach(t => Free(t.Copy, y));
        int bits = plan.InputQuant.Bits;
        for (int p = 0; p < shape.Width; p++)
        {
            for (int c0 = 0; c0 < shape.Channels; c0 += staging)
            {
                int len = Math.Min(staging, shape.Channels - c0);
                tally.Transfer(first.Hub, len, bits);
                targets.ForEach(t => Put(first.Hub, t.Copy.Hub, len, bits));
            }
        }
    }

    private void Put(int from, int hub, int words, int bits)
    {
        if (from == hub)
        {
            tally.Transfer(from, words, bits);
            return;
        }

        for (int s = 0; s < words; s += staging)
        {
            int n = Math.Min(staging, words - s);
            double arrival = tally.Send(from, hub, n, bits);
            tally.Receive(hub, n, arrival);
            tally.Transfer(hub, n, bits);
        }
    }

    /// <summary>MapDelivery.BeforeStep: each hub signals its other readers when the step reaches rows not yet announced.</summary>
    private void BeforeStep(int node, int row)
    {
        foreach ((MapCopy copy, int reader) in Reads(node))
        {
            var key = (copy.Map, copy.Tile, reader);
            int hi = GraphWavefront.Needs(graph, node, copy.Map, row).Hi;
            if (hi > announced.GetValueOrDefault(key))
            {
                announced[key] = hi;
                tally.Receive(reader, 1, tally.Send(copy.Hub, reader, 1, 64));
            }
        }
    }

    /// <summary>MapDelivery.AfterStep: each other reader of a ring releases the rows its later windows no longer reach.</summary>
    private void AfterStep(int node, int row)
    {
        foreach ((MapCopy copy, int reader) in Reads(node).Where(r => r.Copy.IsRing))
        {
            var key = (copy.Map, copy.Tile, reader);
            int done = row == graph.Nodes[node].Shape.Height - 1 ? copy.Height : GraphWavefront.Needs(graph, node, copy.Map, row + 1).Lo;
            done = Math.Min(done, copy.Height - copy.Rows);
            if (done > released.GetValueOrDefault(key))
            {
                released[key] = done;
                (releases.TryGetValue(key, out var q) ? q : releases[key] = new()).Enqueue((done, tally.Send(reader, copy.Hub, 1, 64)));
            }
        }
    }

    /// <summary>MapDelivery.Free: before the hub stores row y of a ring, it hears the releases of the row that had the slot.</summary>
    private void Free(MapCopy copy, int y)
    {
        if (!copy.IsRing || y < copy.Rows)
        {
            return;
        }

        int need = y - copy.Rows + 1;
        if (!otherReaders.TryGetValue((copy.Map, copy.Tile), out List<int>? readers))
        {
            otherReaders[(copy.Map, copy.Tile)] = readers = [.. plan.ReadersOf(copy).Select(r => r.Core).Where(c => c != copy.Hub).Distinct()];
        }

        foreach (int reader in readers)
        {
            var key = (copy.Map, copy.Tile, reader);
            while (heard.GetValueOrDefault(key) < need && releases.TryGetValue(key, out var q) && q.Count > 0)
            {
                (int done, double arrival) = q.Dequeue();
                heard[key] = done;
                tally.Receive(copy.Hub, 1, arrival);
            }
        }
    }

    /// <summary>The copies node <paramref name="node"/> reads that another core stores, with each reader core that is not their hub.</summary>
    private List<(MapCopy Copy, int Reader)> Reads(int node) => readsOf.TryGetValue(node, out var r) ? r : readsOf[node] = [.. ReadsOf(node)];

    private IEnumerable<(MapCopy Copy, int Reader)> ReadsOf(int node)
    {
        foreach (int map in graph.Nodes[node].Inputs.Distinct())
        {
            foreach (int core in plan.Runners(node).Order())
            {
                MapCopy copy = plan.CopyOf(map, plan.TileOfCore(core));
                if (core != copy.Hub && !copy.HostWritten)
                {
                    yield return (copy, core);
                }
            }
        }
    }

    /// <summary>A vector instruction on its core, counted by the ISA table's local-memory words and ALU work as the event counter counts it (once per opcode and length).</summary>
    private void Op(int core, Opcode op, long len, double ready = 0)
    {
        if (!opEvents.TryGetValue((op, len), out (long Memory, long Adds, long Muls, long Lookups) e))
        {
            Instruction i = op switch
            {
                Opcode.VClear => Instruction.VClear(0, len),
                Opcode.VCopy => Instruction.VCopy(0, 0, len),
                Opcode.VSum => Instruction.VSum(0, 0, len),
                Opcode.VAxpy => Instruction.VAxpy(0, 0, 1, len),
                Opcode.VAdd => Instruction.VAdd(0, 0, 0, len),
                Opcode.VMaxV => Instruction.VMaxV(0, 0, 0, len),
                Opcode.VRequant => Instruction.VRequant(0, 0, 0, len),
                _ => Instruction.VAct(0, 0, 0, len, 0),
            };
            long memory = MemoryAccesses.Of(i).Sum(m => m.Space != MemorySpace.Local ? 0 : m.Kind is AccessKind.ReadWrite or AccessKind.Accumulate ? 2 * m.Len : m.Len);
            opEvents[(op, len)] = e = (memory, i.Spec.Work.Adds * len, i.Spec.Work.Muls * len, i.Spec.Work.Lookups * len);
        }

        tally.Vector(core, len, ready);
        tally.Memory += e.Memory;
        tally.Adds += e.Adds;
        tally.Muls += e.Muls;
        tally.Lookups += e.Lookups;
    }

    /// <summary>ProgramAnalysis's accumulator width for the copy's widest core: adc_bits + max shift + ibits + ceil(log2 mvms) + 1, at most 64.</summary>
    private int AccumulatorBits(LayerCores copy)
    {
        MappedLayer m = copy.Layer.Mapped;
        int shift = copy.Layer.Blocks.Max(b => b.Block.Shift), most = copy.Layer.Blocks.GroupBy(b => b.Core).Max(g => g.Count());
        return (int)Math.Min(64, arch.Core.Adc.Bits + shift + m.InputBits + IntMath.BitLength(most - 1) + 1);
    }

    /// <summary>What a copy's cores do at every pixel: the runs of input rows each loads, and the offset correction's (core, column block, rows, columns).</summary>
    private sealed record CopyWork(Dictionary<int, List<(int Lo, int Hi)>> Runs, List<(int Core, int Block, int Rows, int Cols)> Offsets, int AccumulatorBits)
    {
        public static CopyWork Of(LayerCores copy, int accumulatorBits)
        {
            var runs = new Dictionary<int, List<(int, int)>>();
            foreach (CoreSpan c in copy.Cores)
            {
                runs[c.Core] = Merge(copy.BlocksOf(c.Core).Select(b => (b.RowStart, b.RowStart + b.RowCount)));
            }

            // OutputStage.OffsetCorrection: the owner of each row block's first crossbar, per run of row blocks it owns.
            var offsets = new List<(int, int, int, int)>();
            var owners = copy.Layer.Blocks.GroupBy(pb => (pb.Block.ColBlock, pb.Block.RowBlock)).Select(g => g.First());
            foreach (var group in owners.GroupBy(pb => (pb.Core, pb.Block.ColBlock)).OrderBy(g => g.Key))
            {
                int cols = group.First().Block.ColCount;
                foreach ((int lo, int hi) in Merge(group.Select(pb => (pb.Block.RowStart, pb.Block.RowStart + pb.Block.RowCount))))
                {
                    offsets.Add((group.Key.Core, group.Key.ColBlock, hi - lo, cols));
                }
            }

            return new CopyWork(runs, offsets, accumulatorBits);
        }

        private static List<(int Lo, int Hi)> Merge(IEnumerable<(int Lo, int Hi)> spans)
        {
            var merged = new List<(int Lo, int Hi)>();
            foreach ((int lo, int hi) in spans.Distinct().OrderBy(s => s.Lo))
            {
                if (merged.Count > 0 && merged[^1].Hi >= lo)
                {
                    merged[^1] = (merged[^1].Lo, Math.Max(merged[^1].Hi, hi));
                }
                else
                {
                    merged.Add((lo, hi));
                }
            }

            return merged;
        }
    }
}
