using Cimc.Architectures;

namespace Cimc.Performance;

/// <summary>
/// The running account of an <see cref="Estimator"/> walk: each core's clock, the buses and links
/// (the simulator's <see cref="ResourceCalendar"/>: a transfer takes the earliest gap that holds it),
/// the event counts, and the routers messages pass. Durations are the timing model's
/// (<see cref="TimingPlan"/>: vector work, bus and link beats, the head of a message); events are
/// counted as <see cref="EventCounter"/> counts them.
/// </summary>
internal sealed class EstimateTally
{
    private readonly Architecture arch;
    private readonly Mesh mesh;
    private readonly double step;
    private readonly int accessBits;
    private readonly ResourceCalendar calendar;
    private readonly Dictionary<(int From, int To), Route> routes = [];

    public EstimateTally(Architecture arch, int cores)
    {
        this.arch = arch;
        mesh = new Mesh(arch);
        Cycle = arch.CycleNs;
        step = Math.Max(Cycle, arch.Costs!.LocalMemory.AccessLatencyNs);
        BufferLatencyNs = arch.Costs.TileBuffer.AccessLatencyNs;
        accessBits = arch.Costs.TileBuffer.AccessBits;
        Clock = new double[cores];
        Busy = new double[cores];
        calendar = new ResourceCalendar(mesh.ResourceCount);
    }

    public double Cycle { get; }

    public double BufferLatencyNs { get; }

    /// <summary>Per core: when its next instruction can start.</summary>
    public double[] Clock { get; }

    /// <summary>Per core: the least time of the instructions it ran (its pipeline's work).</summary>
    public double[] Busy { get; }


    /// <summary>Whether the walk is in its first inference, whose routers leak (later ones only pace the stream).</summary>
    public bool Counting { get; set; } = true;

    /// <summary>Per router position messages pass: the cores at their ends (it leaks until the last of them finishes).</summary>
    public Dictionary<int, HashSet<int>> RouterUsers { get; } = [];

    public long OffChipMessages, OffChipBits;

    public long Instructions, Mvms, Reads, Dac, SampleHolds, Adc, ShiftAdds, Memory, Buffer, BusBits, Messages, NetMessages, NetBits, Hops, RouterBits, LinkBits, Adds, Muls, Lookups;

    public int TileOf(int core) => mesh.TileOf(core);

    /// <summary>The global router of a tile (<see cref="Mesh.RouterOf"/>): routers of a node's chips are distinct.</summary>
    public int RouterOf(int tile) => mesh.RouterOf(tile);

    /// <summary>One cycle to issue, then len / lanes steps of the local memory.</summary>
    public double VectorNs(long len) => Cycle + (Math.Ceiling((double)len / arch.Core.VectorLanes) * step);

    /// <summary>A vector instruction on <paramref name="core"/> that may start at <paramref name="ready"/> (its operands in place).</summary>
    public void Vector(int core, long len, double ready = 0)
    {
        Run(core, ready, VectorNs(len));
        Instructions++;
    }

    /// <summary>The core's clock moves past an instruction of <paramref name="ns"/> that waits for <paramref name="ready"/>.</summary>
    public double Run(int core, double ready, double ns)
    {
        double start = Math.Max(Clock[core], ready);
        Clock[core] = start + ns;
        Busy[core] += ns;
        return Clock[core];
    }

    /// <summary>A load (tile buffer to local memory) or store of <paramref name="words"/> words of <paramref name="bits"/> each; the tile's bus is taken in turn.</summary>
    public void Transfer(int core, long words, int bits, double ready = 0)
    {
        int tile = TileOf(core);
        long total = words * bits;
        double beats = Beats(total, arch.Tile.BusBits);
        double begin = calendar.Reserve(mesh.Bus(tile), Math.Max(Clock[core], ready), beats).Start;
        Clock[core] = begin + beats + BufferLatencyNs;
        Busy[core] += beats + BufferLatencyNs;
        Instructions++;
        Memory += words;
        Buffer += CeilDiv(total, accessBits);
        BusBits += total;
    }

    /// <summary>A send from <paramref name="from"/> (one cycle on the core) and the time its last bit reaches <paramref name="to"/>, uncontended.</summary>
    public double Send(int from, int to, long words, int bits, double ready = 0)
    {
        double inject = Run(from, ready, Cycle);
        Instructions++;
        Memory += words;
        Route route = RouteOf(from, to);
        long total = words * bits;
        Messages++;
        if (route.SameTile)
        {
            Buffer += 2 * CeilDiv(total, accessBits);
            BusBits += 2 * total;
        }
        else
        {
            NetMessages++;
            NetBits += total;
            Hops += route.Hops;
            RouterBits += total * route.Routers;
            LinkBits += total * route.Hops;
            OffChipMessages += route.ChipHops > 0 ? 1 : 0;
            OffChipBits += total * route.ChipHops;
            BusBits += 2 * total;
            foreach (int r in Counting ? route.RouterPositions : [])
            {
                HashSet<int> users = RouterUsers.TryGetValue(r, out HashSet<int>? u) ? u : RouterUsers[r] = [];
                users.Add(from);
                users.Add(to);
            }
        }

        // TimingSimulator.Transfer: the head passes each resource after its latency, the tail follows
        // by the resource's beats, each taking the earliest gap; the last bus is written as the tail arrives.
        double head = inject, tail = inject;
        for (int k = 0; k < route.Resources.Length; k++)
        {
            int r = route.Resources[k];
            bool bus = mesh.IsBus(r), chipLink = mesh.IsChipLink(r);
            double serialize = chipLink ? mesh.ChipLink!.SerializeNs(total) : Beats(total, bus ? arch.Tile.BusBits : arch.Chip.Noc.LinkBits) * (route.SameTile ? 2 : 1);
            bool inbound = !route.SameTile && k == route.Resources.Length - 1;
            (double start, double done) = inbound ? calendar.Reserve(r, Math.Max(head, tail - serialize), serialize) : calendar.Reserve(r, head, serialize, tail);
            tail = done;
            head = start + (route.SameTile ? 2 * BufferLatencyNs : bus ? Cycle : chipLink ? mesh.ChipLink!.LatencyNs : arch.Chip.Noc.HopLatencyCycles * Cycle);
        }

        return Math.Max(head, tail);
    }

    /// <summary>A receive on <paramref name="core"/> of <paramref name="words"/> that arrive at <paramref name="arrival"/>.</summary>
    public void Receive(int core, long words, double arrival)
    {
        Run(core, arrival, Cycle);
        Instructions++;
        Memory += words;
    }

    /// <summary>Drops the bus and link intervals no later transfer can meet: every one starts at or after some core's clock.</summary>
    public void Forget() => calendar.Forget(Clock.Min());

    public EventCounts Counts() => new(Instructions, Mvms, Reads, Dac, SampleHolds, Adc, ShiftAdds, Memory, Buffer, BusBits, Messages, NetMessages,
        CeilDiv(NetBits, 8), Hops, RouterBits, LinkBits, Adds, Muls, Lookups)
    {
        OffChipMessages = OffChipMessages,
        OffChipBits = OffChipBits,
    };

    private Route RouteOf(int from, int to)
    {
        (int, int) key = (TileOf(from), TileOf(to));
        if (!routes.TryGetValue(key, out Route? route))
        {
            route = mesh.RouteBetween(from, to);
            routes[key] = route;
        }

        return route;
    }

    private double Beats(long bits, int width) => Math.Ceiling((double)bits / width) * Cycle;

    private static long CeilDiv(long a, long b) => (a + b - 1) / b;
}
