namespace Cimc.Placement;

/// <summary>
/// The partition step every place pass starts with on a node of several chips: which chip each
/// slot goes to. Slots stay in order (layer by layer, a layer's blocks in order), so each chip
/// holds a contiguous run of them: whole layers where they fit, a layer cut only where the words
/// crossing the cut are fewest. The cuts minimise the words that cross chips (an edge from slot a
/// to slot b crossing each cut between them, as a message along a line of chips crosses each link
/// between them), subject to each chip holding at most its cores; chips fill from chip 0, and the
/// last ones stay empty when fewer hold the network.
/// Expects a network that fits the node (<see cref="Placer.Slots"/>); on one chip every slot is on
/// chip 0. The mesh placers then place each chip's slots on its own tiles.
/// <code>
/// 3 chips of 4 cores, slots 0..9, layer boundaries after slots 3 and 7 (where few words cross):
/// chip of slot = 0 0 0 0 | 1 1 1 1 | 2 2   (rather than cutting a layer's partial sums)
/// </code>
/// </summary>
public static class ChipPartition
{
    /// <summary>The chip of each slot: contiguous runs of at most <see cref="ChipShape.CoresPerChip"/> slots minimising the words crossing chips.</summary>
    public static int[] Of(SlotTraffic traffic, ChipShape chip)
    {
        int slots = traffic.Slots, chips = chip.Chips, capacity = chip.CoresPerChip;
        if (chips == 1)
        {
            return new int[slots];
        }

        // crossing[p]: words of the edges that a cut just before slot p separates.
        var crossing = new long[slots + 1];
        foreach (TrafficEdge e in traffic.Edges)
        {
            int lo = Math.Min(e.From, e.To), hi = Math.Max(e.From, e.To);
            crossing[lo + 1] += e.Words;
            crossing[hi + 1] -= e.Words;
        }

        for (int p = 1; p <= slots; p++)
        {
            crossing[p] += crossing[p - 1];
        }

        crossing[0] = 0;
        crossing[slots] = 0;

        // cost[k][p]: least crossing words with slots [0, p) on chips [0, k); from[k][p] where chip k - 1's run starts.
        const long Unreachable = long.MaxValue / 4;
        var cost = new long[chips + 1][];
        var from = new int[chips + 1][];
        cost[0] = Enumerable.Repeat(Unreachable, slots + 1).ToArray();
        cost[0][0] = 0;
        for (int k = 1; k <= chips; k++)
        {
            long[] previous = cost[k - 1];
            cost[k] = new long[slots + 1];
            from[k] = new int[slots + 1];
            var window = new LinkedList<int>(); // starts q in [p - capacity, p - 1], cost ascending
            for (int p = 0; p <= slots; p++)
            {
                if (p >= 1)
                {
                    int q = p - 1;
                    while (window.Count > 0 && previous[window.Last!.Value] >= previous[q])
                    {
                        window.RemoveLast();
                    }

                    window.AddLast(q);
                    while (window.First!.Value < p - capacity)
                    {
                        window.RemoveFirst();
                    }
                }

                // Chip k - 1 holding [q, p) with the cut at p charged once, or, once every slot is
                // placed, empty: chips fill from chip 0 without gaps, so a word crossing j cuts
                // crosses j chips (j links on a line of chips; at most j round a ring).
                (long best, int start) = p == slots ? (previous[p], p) : (Unreachable, p);
                if (window.Count > 0 && previous[window.First!.Value] < Unreachable)
                {
                    long run = previous[window.First.Value] + crossing[p];
                    if (run < best)
                    {
                        (best, start) = (run, window.First.Value);
                    }
                }

                cost[k][p] = best;
                from[k][p] = start;
            }
        }

        if (cost[chips][slots] >= Unreachable)
        {
            throw new InvalidOperationException($"partition: {slots} slots do not fit {chips} chips of {capacity} cores (Placer.Slots should have refused)");
        }

        var chipOf = new int[slots];
        for (int k = chips, p = slots; k >= 1; k--)
        {
            int q = from[k][p];
            for (int s = q; s < p; s++)
            {
                chipOf[s] = k - 1;
            }

            p = q;
        }

        return chipOf;
    }

    /// <summary>Words per inference that cross from one chip to another under <paramref name="chipOf"/> (an edge counted once however many chips apart).</summary>
    public static long CrossingWords(SlotTraffic traffic, IReadOnlyList<int> chipOf) =>
        traffic.Edges.Where(e => chipOf[e.From] != chipOf[e.To]).Sum(e => e.Words);

    /// <summary>Linear placement within the partition: each chip's slots on its cores in order, from its first core.</summary>
    public static int[] LinearCores(IReadOnlyList<int> chipOf, ChipShape chip)
    {
        var next = new int[chip.Chips];
        var core = new int[chipOf.Count];
        for (int s = 0; s < chipOf.Count; s++)
        {
            core[s] = (chipOf[s] * chip.CoresPerChip) + next[chipOf[s]]++;
        }

        return core;
    }
}
