namespace Cimc.Performance;

/// <summary>
/// The busy intervals of the shared buses and links. A transfer takes the earliest gap that holds
/// it, so a message that needs a bus later does not block one that needs it now (the timing
/// simulation reserves a message's whole route when it is sent). Intervals never overlap: a
/// resource does one thing at a time, which is what the resource bounds count on.
/// </summary>
internal sealed class ResourceCalendar(int resources)
{
    private readonly List<(double Start, double End)>?[] busy = new List<(double Start, double End)>?[resources]; // made on first use: most of a large mesh stays idle

    /// <summary>Busy time of each resource so far.</summary>
    public double[] BusyNs { get; } = new double[resources];

    /// <summary>
    /// Reserves <paramref name="resource"/> from the earliest start at or after
    /// <paramref name="earliest"/> at which it is free until <c>max(start + hold, until)</c>, and
    /// returns that interval.
    /// </summary>
    public (double Start, double End) Reserve(int resource, double earliest, double hold, double until = 0)
    {
        List<(double Start, double End)> list = busy[resource] ??= [];
        double start = earliest;
        int k = 0;
        while (k < list.Count && list[k].End <= start)
        {
            k++;
        }

        for (; k < list.Count; k++)
        {
            if (Math.Max(start + hold, until) <= list[k].Start)
            {
                break; // fits in the gap before interval k
            }

            start = Math.Max(start, list[k].End);
        }

        double end = Math.Max(start + hold, until);
        list.Insert(k, (start, end));
        BusyNs[resource] += hold;
        return (start, end);
    }

    /// <summary>Forgets the intervals that end before <paramref name="horizon"/>: no later request can start before it.</summary>
    public void Forget(double horizon)
    {
        foreach (List<(double Start, double End)>? list in busy)
        {
            if (list is null)
            {
                continue;
            }

            int done = 0;
            while (done < list.Count && list[done].End <= horizon)
            {
                done++;
            }

            list.RemoveRange(0, done);
        }
    }
}
