using System.Collections.Immutable;
using Cimc.Isa;

namespace Cimc.Performance;

/// <summary>Messages over the network, the busiest resource and the critical path.</summary>
public sealed partial class TimingSimulator
{
    /// <summary>
    /// Moves a message injected at <paramref name="inject"/> along its route and returns when its
    /// last bit arrives. Each resource is held while the message serializes over it (bits / width
    /// cycles: the tile bus twice within a tile, written to the buffer and read back); the head moves
    /// on after the resource's latency (hop_latency_cycles per link, one cycle per bus, the buffer's
    /// access latency within a tile); a later message waits for a resource an earlier one holds.
    /// </summary>
    private double Transfer(Message m, double inject)
    {
        Mesh mesh = analysis.Mesh;
        double head = inject, tail = inject;
        foreach (int r in m.Route.Resources)
        {
            bool bus = mesh.IsBus(r);
            double width = bus ? arch.Tile.BusBits : arch.Chip.Noc.LinkBits;
            double serialize = Math.Ceiling(m.Bits / width) * cycle * (m.Route.SameTile ? 2 : 1);
            double latency = m.Route.SameTile ? 2 * input.Costs.TileBuffer.AccessLatencyNs
                : bus ? cycle : arch.Chip.Noc.HopLatencyCycles * cycle;
            double start = Math.Max(head, resourceFree[r]);
            double done = Math.Max(start + serialize, tail);
            resourceFree[r] = done;
            resourceBusy[r] += serialize;
            head = start + latency;
            tail = done;
        }

        return Math.Max(head, tail);
    }

    private (string Name, double Utilization) Busiest(ImmutableArray<CoreProgram> cores, double[] coreBusy, double[,] xbBusy, double makespan)
    {
        (string Name, double Busy) best = ("none", 0);
        void Consider(string name, double busy)
        {
            if (busy > best.Busy)
            {
                best = (name, busy);
            }
        }

        for (int s = 0; s < cores.Length; s++)
        {
            Consider($"core {cores[s].Core} pipeline", coreBusy[s]);
            for (int x = 0; x < xbBusy.GetLength(1); x++)
            {
                Consider($"core {cores[s].Core} crossbar {x}", xbBusy[s, x]);
            }
        }

        for (int r = 0; r < resourceBusy.Length; r++)
        {
            Consider(analysis.Mesh.Name(r), resourceBusy[r]);
        }

        return (best.Name, makespan > 0 ? best.Busy / makespan : 0);
    }

    /// <summary>
    /// Walks back from the event that finished the first inference through whatever each event
    /// waited for (the previous instruction, a crossbar, a message), and merges consecutive events of
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
        _ => "transfer",
    };
}
