namespace Cimc.Architectures;

/// <summary>
/// The node: <see cref="Chips"/> identical chips joined by chip-to-chip links (PUMA's node of
/// chips, ISAAC's HyperTransport). A network larger than one chip is partitioned over the chips
/// (src/Cimc/Placement/ChipPartition.cs); cores are numbered globally, chip c holding cores
/// <c>c x cores_per_chip</c> to <c>(c + 1) x cores_per_chip - 1</c>. <see cref="Link"/> is null for a
/// chip without links (one chip only). A file without a <c>node</c> key is one chip.
/// </summary>
public sealed record NodeSpec(int Chips, ChipTopology Topology, ChipLinkSpec? Link)
{
    /// <summary>One chip and no chip-to-chip links: what a file without a <c>node</c> key describes.</summary>
    public static NodeSpec Single { get; } = new(1, ChipTopology.Ring, null);

    /// <summary>Link traversals from chip <paramref name="from"/> to chip <paramref name="to"/>: 0 on one chip, 1 all-to-all, the shorter way round a ring.</summary>
    public int ChipHops(int from, int to)
    {
        if (from == to)
        {
            return 0;
        }

        int forward = ((to - from) % Chips + Chips) % Chips;
        return Topology == ChipTopology.AllToAll ? 1 : Math.Min(forward, Chips - forward);
    }

    /// <summary>
    /// The chips a message passes from <paramref name="from"/> to <paramref name="to"/>, both ends
    /// included: straight across all-to-all; round a ring the shorter way (ties clockwise, towards
    /// higher chip numbers).
    /// </summary>
    public IReadOnlyList<int> ChipPath(int from, int to)
    {
        var path = new List<int> { from };
        if (from == to)
        {
            return path;
        }

        if (Topology == ChipTopology.AllToAll)
        {
            path.Add(to);
            return path;
        }

        int forward = ((to - from) % Chips + Chips) % Chips;
        int step = forward <= Chips - forward ? 1 : -1;
        for (int c = from; c != to;)
        {
            c = (c + step + Chips) % Chips;
            path.Add(c);
        }

        return path;
    }

    /// <summary>Directed chip-to-chip links of the node: 2 per chip on a ring (one each way to each neighbour; 1 pair for 2 chips), chips x (chips - 1) all-to-all.</summary>
    public int DirectedLinks => Chips == 1 ? 0 : Topology == ChipTopology.AllToAll || Chips == 2 ? Chips * (Chips - 1) : 2 * Chips;

    /// <summary>The index (0 to <see cref="DirectedLinks"/> - 1) of the directed link from chip <paramref name="from"/> to its neighbour <paramref name="to"/>.</summary>
    public int LinkIndex(int from, int to)
    {
        if (Topology == ChipTopology.AllToAll || Chips == 2)
        {
            return (from * (Chips - 1)) + (to < from ? to : to - 1);
        }

        return (2 * from) + (to == (from + 1) % Chips ? 0 : 1);
    }
}

/// <summary>How the chips of a node are wired.</summary>
public enum ChipTopology
{
    /// <summary>Each chip linked to its two neighbours, chip c to c - 1 and c + 1 (mod chips).</summary>
    Ring,

    /// <summary>Every pair of chips linked directly.</summary>
    AllToAll,
}

/// <summary>
/// One chip-to-chip link, each direction: bandwidth in GB/s (bytes per ns), the latency a message's
/// head takes across it, and the energy per bit it carries.
/// </summary>
public sealed record ChipLinkSpec(double BandwidthGBps, double LatencyNs, double EnergyPjPerBit)
{
    /// <summary>Time to push <paramref name="bits"/> through the link.</summary>
    public double SerializeNs(long bits) => bits / 8.0 / BandwidthGBps;
}
