using System.Collections.Immutable;
using Cimc.Isa;

namespace Cimc.Performance;

/// <summary>Messages over the network, the busiest resource and the critical path.</summary>
public sealed partial class TimingSimulator
{
    /// <summary>
    /// Moves a message injected at <paramref name="inject"/> along its route and returns when its
    /// last bit arrives. The head passes each resource after its latency (<see cref="TimingPlan.HeadNs"/>);
    /// a link is held from when the head reaches it until the tail has passed (at least its beats,
    /// <see cref="TimingPlan.SerializeNs"/>); a bus only for its own beats: the source bus as the
    /// words leave, the destination bus as they are written, the last beat when the last bit
    /// arrives (the network interface collects the flits, so the bus is free while they stream in
    /// over the link). Each takes the earliest gap that holds it (<see cref="ResourceCalendar"/>).
    /// </summary>
    private double Transfer(ImmutableArray<Hop> hops, double inject)
    {
        double head = inject, tail = inject;
        foreach (Hop hop in hops)
        {
            (double start, double done) = hop.Inbound
                ? Reserve(hop.Resource, Math.Max(head, tail - hop.SerializeNs), hop.SerializeNs)
                : Reserve(hop.Resource, head, hop.SerializeNs, tail);
            head = start + hop.HeadNs;
            tail = done;
        }

        return Math.Max(head, tail);
    }

    private (string Name, double Utilization) Busiest(ImmutableArray<CoreProgram> cores, double[] coreBusy, double[,] xbBusy, double[,] adcBusy, double makespan)
    {
        // The first resource with the most busy time, in this order: what (0 none, 1 a core's
        // pipeline, 2 a crossbar, 3 an ADC group, 4 a bus or link), whose (core slot) and which;
        // named once found, as naming every candidate took longer than the search.
        (int What, int Slot, int Index) best = (0, 0, 0);
        double most = 0;
        void Consider(double busy, int what, int slot, int index)
        {
            if (busy > most)
            {
                (best, most) = ((what, slot, index), busy);
            }
        }

        for (int s = 0; s < cores.Length; s++)
        {
            Consider(coreBusy[s], 1, s, 0);
            for (int x = 0; x < xbBusy.GetLength(1); x++)
            {
                Consider(xbBusy[s, x], 2, s, x);
            }

            for (int g = 0; g < adcBusy.GetLength(1); g++)
            {
                Consider(adcBusy[s, g], 3, s, g);
            }
        }

        for (int r = 0; r < calendar.BusyNs.Length; r++)
        {
            Consider(calendar.BusyNs[r], 4, 0, r);
        }

        string name = best.What switch
        {
            0 => "none",
            1 => $"core {cores[best.Slot].Core} pipeline",
            2 => $"core {cores[best.Slot].Core} crossbar {best.Index}",
            3 => $"core {cores[best.Slot].Core} ADC group {best.Index}",
            _ => analysis.Mesh.Name(best.Index),
        };
        return (name, makespan > 0 ? most / makespan : 0);
    }

    /// <summary>
    /// Walks back from the event that finished the first inference through whatever each event
    /// waited for (the previous instruction, an mvm's outputs, a crossbar, its ADCs, a message), and merges consecutive events of
    /// one core and kind into a step. Time between an event's cause and its start is waiting for a
    /// shared resource (contention), listed as "wait".
    /// </summary>
    private (ImmutableArray<PathStep> Path, ImmutableDictionary<string, double> ByKind) CriticalPath(int endEvent)
    {
        var chain = new List<Ev>();
        for (int e = endEvent; e >= 0; e = events[e].Pred)
        {
            chain.Add(events[e]);
        }

        chain.Reverse();
        var byKind = new Dictionary<string, double>();
        var steps = new List<PathStep>();
        double previousEnd = 0;
        foreach (Ev e in chain)
        {
            string kind = KindName(e.Kind);
            double start = Math.Max(e.Start, previousEnd);
            byKind[kind] = byKind.GetValueOrDefault(kind) + Math.Max(0, e.End - start);
            if (start > previousEnd + 1e-9)
            {
                byKind["wait"] = byKind.GetValueOrDefault("wait") + (start - previousEnd);
            }

            string where = e.Kind == Kind.Transfer ? $"core {e.Core} -> core {e.To}" : $"core {e.Core}";
            if (steps.Count > 0 && steps[^1].Where == where && steps[^1].What.StartsWith(kind, StringComparison.Ordinal))
            {
                PathStep p = steps[^1];
                int count = p.What.Contains(" x", StringComparison.Ordinal) ? int.Parse(p.What[(p.What.LastIndexOf(" x", StringComparison.Ordinal) + 2)..], System.Globalization.CultureInfo.InvariantCulture) : 1;
                steps[^1] = p with { What = $"{kind} x{count + 1}", EndNs = e.End };
            }
            else
            {
                steps.Add(new PathStep(where, kind, e.Start, e.End));
            }

            previousEnd = Math.Max(previousEnd, e.End);
        }

        return ([.. steps], byKind.ToImmutableDictionary());
    }

    private static string KindName(Kind kind) => kind switch
    {
        Kind.Control => "control",
        Kind.Alu => "alu",
        Kind.Memory => "memory",
        Kind.Mvm => "mvm",
        Kind.Send => "send",
        Kind.Recv => "recv",
        Kind.Issue => "issue",
        _ => "transfer",
    };
}
