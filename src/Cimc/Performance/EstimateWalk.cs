using Cimc.Architectures;
using Cimc.Isa;
using Cimc.Quantization;

namespace Cimc.Performance;

/// <summary>
/// One walk of <see cref="Estimator"/> through the schedule of CodeGenerator, layer by layer, core by
/// core, in the order the emitter appends instructions to each core's stream; each core's clock
/// moves as its instructions would in the timing simulation without contention.
/// </summary>
/// <param name="perTile">The network input is written into every first-layer tile (the input-tiles pass, or an input wider than a tile buffer).</param>
/// <param name="chain">Every ring chunk enters at the first hub and flows along the hubs in order (the broadcast-chain pass).</param>
internal sealed class EstimateWalk(Architecture arch, IReadOnlyList<EstimatedLayer> layers, SignedWeightEncoding encoding, bool ring, bool tree,
    bool perTile = false, bool chain = false)
{
    private readonly EstimateTally tally = new(arch, layers.Sum(l => l.Slots));
    private readonly EstimateMvms mvms = new(arch, layers.Sum(l => l.Slots));
    private readonly (List<Group> Hubs, List<Group> Direct, (int Lo, int Hi) Rows)?[] plans = new (List<Group>, List<Group>, (int, int))?[layers.Count];
    private readonly List<(int Root, int Words, double Arrival, int Bits)> outputs = [];
    private readonly List<double> finish = [];
    private EventCounts? counts;
    private double[]? firstFinish;

    /// <summary>A layer's cores on one tile: the hub (lowest core) receives the tile's rows [Lo, Hi).</summary>
    private sealed record Group(int Hub, List<int> Cores, int Lo, int Hi)
    {
        public bool Shares => Cores.Count > 1;
    }

    /// <summary>A chunk of a layer's input in delivery order, and who sent it.</summary>
    private sealed record Chunk(int Producer, int Lo, int Hi);

    /// <summary>
    /// Walks <paramref name="iterations"/> inferences one after another (each core runs its stream
    /// again, as the timing simulation does for a batch); events are those of the first.
    /// </summary>
    public void Run(int iterations)
    {
        for (int k = 0; k < iterations; k++)
        {
            Iteration();
            finish.Add(tally.Clock.Max());
            if (k == 0)
            {
                counts = tally.Counts();
                firstFinish = [.. tally.Clock];
                tally.Counting = false;
            }
        }
    }

    private void Iteration()
    {
        outputs.Clear();
        List<Chunk> chunks = [];
        for (int l = 0; l < layers.Count; l++)
        {
            EstimatedLayer layer = layers[l];
            for (int core = layer.First; core < layer.First + layer.Slots; core++)
            {
                (int lo, int hi) = layer.ColsOf(core);
                Vector(core, hi - lo, 0, mem: hi - lo);
            }

            (List<Group> hubs, List<Group> direct, (int Lo, int Hi) rows) = plans[l] ??= Plan(l);
            if (l == 0)
            {
                chunks = LoadNetworkInput(layer, hubs, direct, rows);
            }

            Receive(layer, hubs, chunks);
            var acc = new AccumulatorsReady(layer);
            for (int core = layer.First; core < layer.First + layer.Slots; core++)
            {
                Mvms(layer, core, acc);
            }

            if (encoding == SignedWeightEncoding.Offset)
            {
                OffsetCorrection(layer, acc);
            }

            (List<Group> nextHubs, _, (int Lo, int Hi) nextRows) = l + 1 < layers.Count ? plans[l + 1] ??= Plan(l + 1) : ([], null, (0, 0));
            chunks = [];
            for (int cb = 0; cb < layer.ColBlocks; cb++)
            {
                int root = Reduce(layer, cb, acc);
                int c0 = cb * layer.Cols, n = layer.ColCount(cb);
                Output(layer, root, n, acc[root, cb]);
                if (l + 1 < layers.Count)
                {
                    foreach ((int lo, int hi) in Cut(c0, c0 + n, nextRows))
                    {
                        chunks.Add(new Chunk(root, lo, hi));
                        Deliver(root, chunks, nextHubs, layers[l + 1].InputBits);
                    }
                }
                else
                {
                    Gather(layer, root, n);
                }
            }

            tally.Forget();
        }

        foreach ((int root, int words, double arrival, int bits) in outputs)
        {
            tally.Receive(layers[^1].Lead, words, arrival);
            tally.Transfer(layers[^1].Lead, words, bits);
        }

        for (int core = 0; core < mvms.Done.Length; core++)
        {
            tally.Run(core, mvms.Done[core], tally.Cycle); // halt waits for the core's mvms
            tally.Instructions++;
        }
    }

    /// <summary>
    /// The figures: latency from the first inference; the makespan of <paramref name="batch"/> from the
    /// walked ones, the rest at the pace of the last two.
    /// </summary>
    public Estimate Result(int batch, long macs) =>
        EstimateFigures.Of(arch, tally, finish, counts!, firstFinish!, [.. Enumerable.Range(0, mvms.Done.Length)], batch, 2.0 * macs, layers.Sum(l => l.Blocks));

    /// <summary>
    /// InputBroadcast.Plan: the layer's cores by tile; the first layer's cores on the input tile (on
    /// every tile, when the input is written per tile) load straight from the input.
    /// </summary>
    private (List<Group> Hubs, List<Group> Direct, (int Lo, int Hi) Rows) Plan(int l)
    {
        EstimatedLayer layer = layers[l];
        int inputTile = tally.TileOf(layers[0].Lead);
        var hubs = new List<Group>();
        var direct = new List<Group>();
        for (int core = layer.First; core < layer.First + layer.Slots;)
        {
            int tile = tally.TileOf(core);
            var cores = new List<int>();
            int lo = int.MaxValue, hi = 0;
            for (; core < layer.First + layer.Slots && tally.TileOf(core) == tile; core++)
            {
                cores.Add(core);
                (int rlo, int rhi, _, _) = layer.RowsOf(core);
                (lo, hi) = (Math.Min(lo, rlo), Math.Max(hi, rhi));
            }

            var g = new Group(cores[0], cores, lo, hi);
            if (l == 0 && (tile == inputTile || perTile))
            {
                direct.Add(g);
            }
            else
            {
                hubs.Add(g);
            }
        }

        return (hubs, direct, hubs.Count == 0 ? (0, 0) : (hubs.Min(g => g.Lo), hubs.Max(g => g.Hi)));
    }

    /// <summary>The first layer: cores on the input tile load their rows; the lead loads and sends what the other tiles read.</summary>
    private List<Chunk> LoadNetworkInput(EstimatedLayer layer, List<Group> hubs, List<Group> direct, (int Lo, int Hi) rows)
    {
        int bits = layer.InputBits;
        foreach (int core in direct.SelectMany(g => g.Cores))
        {
            Load(layer, core, bits);
        }

        var chunks = new List<Chunk>();
        if (hubs.Count == 0)
        {
            return chunks;
        }

        (int leadLo, int leadHi, _, _) = layer.RowsOf(layer.Lead);
        foreach ((int s, int e) in Cut(rows.Lo, rows.Hi, rows))
        {
            if (s < leadLo || e > leadHi)
            {
                tally.Transfer(layer.Lead, e - s, bits); // into the staging area
            }

            chunks.Add(new Chunk(layer.Lead, s, e));
            Deliver(layer.Lead, chunks, hubs, bits);
        }

        return chunks;
    }

    private void Load(EstimatedLayer layer, int core, int bits, double ready = 0)
    {
        (_, _, int held, int runs) = layer.RowsOf(core);
        for (int r = 0; r < runs; r++)
        {
            int words = (held / runs) + (r < held % runs ? 1 : 0);
            tally.Transfer(core, words, bits, ready);
        }
    }

    /// <summary>Sends the last chunk of <paramref name="chunks"/> from its producer: to its entry hub on the ring (the first hub along the chain), else to every hub whose tile reads it.</summary>
    private void Deliver(int producer, List<Chunk> chunks, List<Group> hubs, int bits)
    {
        if (hubs.Count == 0)
        {
            return;
        }

        int i = chunks.Count - 1;
        Chunk c = chunks[i];
        var arrivals = new Dictionary<int, double>();
        for (int j = ring && !chain ? i % hubs.Count : 0; j < hubs.Count; j++)
        {
            if (ring || (hubs[j].Lo < c.Hi && c.Lo < hubs[j].Hi))
            {
                arrivals[j] = tally.Send(producer, hubs[j].Hub, c.Hi - c.Lo, bits);
            }

            if (ring)
            {
                break;
            }
        }

        deliveries[i] = arrivals;
    }

    /// <summary>Arrival of chunk i at hub j from its producer.</summary>
    private readonly Dictionary<int, Dictionary<int, double>> deliveries = [];

    /// <summary>
    /// InputBroadcast.Receive: each hub takes the chunks in its order (on the ring: those that entered
    /// at it, then those from one hub back, ...; each forwarded to the next hub and stored for its
    /// tile's peers), then signals its peers, which load their rows. Hubs depend on each other around
    /// the ring, so they advance in turns until every one is through.
    /// </summary>
    private void Receive(EstimatedLayer layer, List<Group> hubs, List<Chunk> chunks)
    {
        int t = hubs.Count, bits = layer.InputBits;
        var forwarded = new Dictionary<(int Hub, int Chunk), double>();
        var plans = hubs.Select((g, j) => Order(j, t, chunks, g).ToList()).ToList();
        var at = new int[t];
        bool progress = true;
        while (progress)
        {
            progress = false;
            for (int j = 0; j < t; j++)
            {
                Group g = hubs[j];
                while (at[j] < plans[j].Count)
                {
                    (int i, int d) = plans[j][at[j]];
                    double arrival;
                    if (d == 0)
                    {
                        arrival = deliveries[i][j];
                    }
                    else if (!forwarded.TryGetValue((j, i), out arrival))
                    {
                        break;
                    }

                    Chunk c = chunks[i];
                    tally.Receive(g.Hub, c.Hi - c.Lo, arrival);
                    if (ring && d + 1 < t)
                    {
                        forwarded[((j + 1) % t, i)] = tally.Send(g.Hub, hubs[(j + 1) % t].Hub, c.Hi - c.Lo, bits);
                    }

                    if (g.Shares && Math.Max(c.Lo, g.Lo) < Math.Min(c.Hi, g.Hi))
                    {
                        tally.Transfer(g.Hub, Math.Min(c.Hi, g.Hi) - Math.Max(c.Lo, g.Lo), bits);
                    }

                    at[j]++;
                    progress = true;
                }
            }
        }

        if (at.Where((a, j) => a < plans[j].Count).Any())
        {
            throw new InvalidOperationException("estimator: the input ring of a layer did not complete");
        }

        foreach (Group g in hubs)
        {
            foreach (int peer in g.Cores.Skip(1))
            {
                double signal = tally.Send(g.Hub, peer, 1, 64);
                tally.Receive(peer, 1, signal);
                Load(layer, peer, bits);
            }
        }

        deliveries.Clear();
    }

    /// <summary>The chunks hub j receives, in its order, with their distance from the hub they entered at.</summary>
    private IEnumerable<(int Chunk, int Distance)> Order(int j, int t, List<Chunk> chunks, Group g)
    {
        if (!ring)
        {
            for (int i = 0; i < chunks.Count; i++)
            {
                if (chunks[i].Lo < g.Hi && g.Lo < chunks[i].Hi)
                {
                    yield return (i, 0);
                }
            }

            yield break;
        }

        if (chain)
        {
            for (int i = 0; i < chunks.Count; i++)
            {
                yield return (i, j); // every chunk entered at hub 0
            }

            yield break;
        }

        for (int d = 0; d < t; d++)
        {
            for (int i = (j - d + t) % t; i < chunks.Count; i += t)
            {
                yield return (i, d);
            }
        }
    }

    /// <summary>One mvm per block on the core, issued a cycle apart; an ADC group's crossbars take turns on its converters.</summary>
    private void Mvms(EstimatedLayer layer, int core, AccumulatorsReady acc)
    {
        (int lo, int hi) = layer.BlocksOn(core);
        for (int b = lo; b < hi; b++)
        {
            int cb = layer.ColBlockOf(b);
            acc.Done(core, cb, mvms.Run(tally, core, (b - lo) % layer.PerCore, layer.RowCount(layer.RowBlockOf(b)), layer.ColCount(cb), layer.InputBits, layer.Layer.RowsPerRead));
        }
    }

    /// <summary>
    /// OutputStage.OffsetCorrection: the owner of each row block's first crossbar subtracts Qw x its
    /// inputs' sum from the block's columns, one vsum and one vaxpy per run of row blocks it owns.
    /// </summary>
    private void OffsetCorrection(EstimatedLayer layer, AccumulatorsReady acc)
    {
        for (int core = layer.First; core < layer.First + layer.Slots; core++)
        {
            for (int cb = 0; cb < layer.ColBlocks; cb++)
            {
                int cols = layer.ColCount(cb), rows = 0;
                for (int rb = 0; rb <= layer.RowBlocks; rb++)
                {
                    if (rb < layer.RowBlocks && layer.CoreOf(((cb * layer.RowBlocks) + rb) * layer.Planes) == core)
                    {
                        rows += layer.RowCount(rb);
                    }
                    else if (rows > 0)
                    {
                        Vector(core, rows, 0, mem: rows + 1, adds: rows);
                        Vector(core, cols, acc[core, cb], mem: (2 * cols) + 1, muls: cols, adds: cols);
                        rows = 0;
                    }
                }
            }
        }
    }

    /// <summary>Reduction.Emit: a column block's partial sums meet at its root (a binomial tree, or a chain); returns the root.</summary>
    private int Reduce(EstimatedLayer layer, int cb, AccumulatorsReady acc)
    {
        (int first, int last) = layer.CoresOf(cb);
        int n = last - first + 1, cols = layer.ColCount(cb);
        void Add(int receiver, int sender)
        {
            double arrival = tally.Send(sender, receiver, cols, AccumulatorBits(layer, sender), acc[sender, cb]);
            tally.Receive(receiver, cols, arrival);
            Vector(receiver, cols, acc[receiver, cb], mem: 3 * cols, adds: cols);
            acc[receiver, cb] = 0;
        }

        if (!tree)
        {
            for (int i = 1; i < n; i++)
            {
                Add(first, first + i);
            }

            return first;
        }

        for (int s = 1; s < n; s *= 2)
        {
            for (int i = 0; i + s < n; i += 2 * s)
            {
                Add(first + i, first + i + s);
            }
        }

        return first;
    }

    /// <summary>OutputStage.Emit on the root: bias, requantization, activation (vact) over the block's columns.</summary>
    private void Output(EstimatedLayer layer, int root, int n, double accReady)
    {
        QuantizedLayer q = layer.Layer;
        Vector(root, n, accReady, mem: 3 * n, adds: n);
        if (q.OutputsAccumulator)
        {
            return;
        }

        Vector(root, n, 0, mem: (4 * n) + 3, muls: n, adds: 2 * n);
        if (q.PreActivation is not null)
        {
            Vector(root, n, 0, mem: (2 * n) + ActivationParams.Words, lookups: n);
        }
    }

    /// <summary>OutputGather: roots on the output tile store their codes; the others send them to the output core.</summary>
    private void Gather(EstimatedLayer layer, int root, int n)
    {
        int bits = layer.Layer.OutputsAccumulator ? AccumulatorBits(layer, root) : layers[0].InputBits;
        if (tally.TileOf(root) == tally.TileOf(layer.Lead))
        {
            tally.Transfer(root, n, bits);
            return;
        }

        outputs.Add((root, n, tally.Send(root, layer.Lead, n, bits), bits));
    }

    private void Vector(int core, long len, double ready, long mem = 0, long adds = 0, long muls = 0, long lookups = 0)
    {
        tally.Vector(core, len, ready);
        tally.Memory += mem;
        tally.Adds += adds;
        tally.Muls += muls;
        tally.Lookups += lookups;
    }

    /// <summary>ProgramAnalysis's accumulator width: adc_bits + max shift + ibits + ceil(log2 mvms) + 1, at most 64.</summary>
    private int AccumulatorBits(EstimatedLayer layer, int core)
    {
        (int lo, int hi) = layer.BlocksOn(core);
        return (int)Math.Min(64, arch.Core.Adc.Bits + layer.MaxShift + layer.InputBits + IntMath.BitLength(hi - lo - 1) + 1);
    }

    /// <summary>Per core and column block of a layer: when the mvms accumulating into its columns end.</summary>
    private sealed class AccumulatorsReady(EstimatedLayer layer)
    {
        private readonly double[] ready = new double[layer.Slots * layer.ColBlocks];

        public double this[int core, int cb]
        {
            get => ready[((core - layer.First) * layer.ColBlocks) + cb];
            set => ready[((core - layer.First) * layer.ColBlocks) + cb] = value;
        }

        public void Done(int core, int cb, double end) => this[core, cb] = Math.Max(this[core, cb], end);
    }

    /// <summary>InputBroadcast.Chunks: the part of [start, end) the hubs read, cut at multiples of a crossbar's rows.</summary>
    private IEnumerable<(int Lo, int Hi)> Cut(int start, int end, (int Lo, int Hi) rows)
    {
        int words = arch.Core.Crossbar.Rows;
        (int lo, int hi) = (Math.Max(start, rows.Lo), Math.Min(end, rows.Hi));
        for (int s = lo; s < hi; s = ((s / words) + 1) * words)
        {
            yield return (s, Math.Min(hi, ((s / words) + 1) * words));
        }
    }
}
