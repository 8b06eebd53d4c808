namespace Cimc.Performance;

/// <summary>
/// The busy intervals of the shared buses and links. A transfer takes the earliest gap that holds
/// it, so a message that needs a bus later does not block one that needs it now (the timing
/// simulation reserves a message's whole route when it is sent). Intervals never overlap: a
/// resource does one thing at a time, which is what the resource bounds count on.
/// </summary>
internal sealed class ResourceCalendar(int resources)
{
    private readonly Lane?[] busy = new Lane?[resources]; // made on first use: most of a large mesh stays idle

    /// <summary>Busy time of each resource so far.</summary>
    public double[] BusyNs { get; } = new double[resources];

    /// <summary>
    /// Reserves <paramref name="resource"/> from the earliest start at or after
    /// <paramref name="earliest"/> at which it is free until <c>max(start + hold, until)</c>, and
    /// returns that interval.
    /// </summary>
    public (double Start, double End) Reserve(int resource, double earliest, double hold, double until = 0)
    {
        Lane lane = busy[resource] ??= new Lane();
        double start = earliest;
        int k = lane.FirstEndingAfter(start);
        for (; k < lane.Count; k++)
        {
            if (Math.Max(start + hold, until) <= lane.StartAt(k))
            {
                break; // fits in the gap before interval k
            }

            start = Math.Max(start, lane.EndAt(k));
        }

        double end = Math.Max(start + hold, until);
        lane.Insert(k, start, end);
        BusyNs[resource] += hold;
        return (start, end);
    }

    /// <summary>Forgets the intervals that end before <paramref name="horizon"/>: no later request can start before it.</summary>
    public void Forget(double horizon)
    {
        foreach (Lane? lane in busy)
        {
            lane?.DropEndingBy(horizon);
        }
    }

    /// <summary>
    /// One resource's intervals in time order (their starts and, as they never overlap, their ends
    /// both ascend), in an array whose forgotten head is skipped rather than moved, so that finding
    /// the first interval that matters is a binary search and forgetting costs nothing per interval.
    /// </summary>
    private sealed class Lane
    {
        private (double Start, double End)[] items = new (double, double)[8];
        private int head;
        private int tail;

        public int Count => tail - head;

        public double StartAt(int k) => items[head + k].Start;

        public double EndAt(int k) => items[head + k].End;

        /// <summary>The index of the first interval that ends after <paramref name="t"/> (<see cref="Count"/> if none).</summary>
        public int FirstEndingAfter(double t)
        {
            int lo = head, hi = tail;
            while (lo < hi)
            {
                int mid = (lo + hi) >>> 1;
                if (items[mid].End <= t)
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid;
                }
            }

            return lo - head;
        }

        public void Insert(int k, double start, double end)
        {
            if (tail == items.Length)
            {
                // Compact the forgotten head away, and grow if that leaves less than half free.
                int count = Count;
                var target = count * 2 >= items.Length ? new (double, double)[items.Length * 2] : items;
                Array.Copy(items, head, target, 0, count);
                (items, head, tail) = (target, 0, count);
            }

            int at = head + k;
            if (at < tail)
            {
                Array.Copy(items, at, items, at + 1, tail - at); // most reservations go at the end
            }

            items[at] = (start, end);
            tail++;
        }

        public void DropEndingBy(double horizon)
        {
            head += FirstEndingAfter(horizon);
        }
    }
}
