using System.Collections.Immutable;
using Cimc.Architectures;
using Cimc.Isa;
using Cimc.Performance;

namespace Cimc.Scheduling;

/// <summary>
/// The order-critical pass: reorders each core's operations so that work whose inputs are there
/// runs before the core blocks in a receive, most critical first. A core issues in order and a
/// receive waits for its message, so in the straight order an mvm whose input rows have arrived
/// still waits behind the receives of rows it does not read, and a partial sum waits to be sent
/// behind work that does not feed it.
/// List scheduling per core: an operation is ready once the operations it depends on are placed.
/// Ready operations that cannot block the core go first, the one with the longest estimated chain
/// of dependent work after it first (its tail, over the whole program: an mvm counts its crossbar
/// time, vector work its lanes' cycles, a message its beats over a link, anything else a cycle;
/// a send ranks by the chain at its receiver), ties in the old order. Two kinds block an in-order core:
/// a receive (until its message arrives) and an operation on an mvm's outputs (until the crossbar
/// is done, some microseconds); of those, the first in the old order goes when nothing else is ready. Receives keep their order, and every send stays before the receives
/// it came before (it may move earlier, never later), so the program stays deadlock-free: each
/// core waits for no message the old order did not already have sent by then.
/// Expects a verified schedule; guarantees the same operations, dependences and messages, each
/// core's order a topological order of its dependences.
/// <code>
/// before: recv rows 0-127; load; recv rows 128-255; load; mvm xb 0 (rows 0-127); mvm xb 8 (rows 128-255)
/// after:  recv rows 0-127; load; mvm xb 0; recv rows 128-255; load; mvm xb 8
/// </code>
/// </summary>
public static class CriticalPathOrder
{
    public static Schedule Apply(Schedule schedule, Architecture arch)
    {
        var cores = schedule.Cores;
        var preds = cores.Select(c => LocalPreds(c.Ops)).ToArray();
        Dictionary<int, double> tails = Tails(schedule, preds, arch);
        ImmutableArray<CoreSchedule> ordered = [.. cores.Select((core, c) => core with { Ops = Order(core.Ops, preds[c], tails) })];
        return ordered.SequenceEqual(cores) ? schedule : schedule with { Cores = ordered };
    }

    /// <summary>Each operation's predecessors on its core (indices): its dependences, and for a receive the receive before it and the sends in between.</summary>
    private static List<int>[] LocalPreds(ImmutableArray<ScheduledOp> ops)
    {
        var index = new Dictionary<int, int>(ops.Length);
        for (int k = 0; k < ops.Length; k++)
        {
            index[ops[k].Id] = k;
        }

        var preds = ops.Select(op => op.After.Select(a => index[a]).ToList()).ToArray();
        var since = new List<int>();
        for (int k = 0; k < ops.Length; k++)
        {
            if (IsRecv(ops[k]))
            {
                preds[k].AddRange(since.Where(j => !preds[k].Contains(j)));
                since.Clear();
            }

            if (ops[k].IsMessage)
            {
                since.Add(k);
            }
        }

        return preds;
    }

    /// <summary>
    /// Each operation's tail over the whole program: its duration plus the longest tail after it,
    /// on its core or, for a send, at its receive (plus the message's beats over a link), so that
    /// a send feeding another core's chain ranks by that chain.
    /// </summary>
    private static Dictionary<int, double> Tails(Schedule schedule, List<int>[][] preds, Architecture arch)
    {
        var cores = schedule.Cores;
        var receiveOf = new Dictionary<int, int>();
        foreach ((int _, ScheduledOp op) in schedule.Ops().Where(x => IsRecv(x.Op)))
        {
            receiveOf[op.Message] = op.Id;
        }

        // Successors by id; a topological order of the whole program (Kahn), then tails backwards.
        var succs = new Dictionary<int, List<(int Id, double Extra)>>();
        var indegree = new Dictionary<int, int>();
        var byId = new Dictionary<int, ScheduledOp>();
        for (int c = 0; c < cores.Length; c++)
        {
            var ops = cores[c].Ops;
            for (int k = 0; k < ops.Length; k++)
            {
                byId[ops[k].Id] = ops[k];
                succs.TryAdd(ops[k].Id, []);
                indegree[ops[k].Id] = indegree.GetValueOrDefault(ops[k].Id) + preds[c][k].Count;
                foreach (int j in preds[c][k])
                {
                    (succs.TryGetValue(ops[j].Id, out var l) ? l : succs[ops[j].Id] = []).Add((ops[k].Id, 0));
                }

                if (ops[k].IsMessage && !IsRecv(ops[k]))
                {
                    int to = receiveOf[ops[k].Message];
                    double beats = Math.Ceiling(schedule.Messages[ops[k].Message].Words * 32.0 / arch.Chip.Noc.LinkBits);
                    succs[ops[k].Id].Add((to, beats));
                    indegree[to] = indegree.GetValueOrDefault(to) + 1;
                }
            }
        }

        var queue = new Queue<int>(indegree.Where(kv => kv.Value == 0).Select(kv => kv.Key).Order());
        var topological = new List<int>(indegree.Count);
        while (queue.TryDequeue(out int id))
        {
            topological.Add(id);
            foreach ((int s, double _) in succs[id])
            {
                if (--indegree[s] == 0)
                {
                    queue.Enqueue(s);
                }
            }
        }

        var tail = new Dictionary<int, double>(topological.Count);
        for (int t = topological.Count - 1; t >= 0; t--)
        {
            int id = topological[t];
            tail[id] = Duration(byId[id].Instruction, arch) + succs[id].Select(s => s.Extra + tail[s.Id]).DefaultIfEmpty(0).Max();
        }

        return tail;
    }

    private static ImmutableArray<ScheduledOp> Order(ImmutableArray<ScheduledOp> ops, List<int>[] preds, Dictionary<int, double> tails)
    {
        int n = ops.Length;
        var succs = Enumerable.Range(0, n).Select(_ => new List<int>()).ToArray();
        for (int k = 0; k < n; k++)
        {
            preds[k].ForEach(j => succs[j].Add(k));
        }

        var waiting = preds.Select(p => p.Count).ToArray();
        var ready = new PriorityQueue<int, (double, int)>();
        var blocking = new SortedSet<int>();
        for (int k = 0; k < n; k++)
        {
            if (waiting[k] == 0)
            {
                Enqueue(k);
            }
        }

        var order = ImmutableArray.CreateBuilder<ScheduledOp>(n);
        while (order.Count < n)
        {
            int k = ready.Count > 0 ? ready.Dequeue() : blocking.Min;
            blocking.Remove(k);
            order.Add(ops[k]);
            foreach (int s in succs[k])
            {
                if (--waiting[s] == 0)
                {
                    Enqueue(s);
                }
            }
        }

        return order.MoveToImmutable();

        void Enqueue(int k)
        {
            if (IsRecv(ops[k]) || preds[k].Any(j => ops[j].Instruction.Opcode == Opcode.Mvm))
            {
                blocking.Add(k);
            }
            else
            {
                ready.Enqueue(k, (-tails[ops[k].Id], k));
            }
        }
    }

    private static bool IsRecv(ScheduledOp op) => op.Instruction.Opcode == Opcode.Recv;

    /// <summary>A rough time the operation holds its core or crossbar: enough to rank chains, not to time them.</summary>
    private static double Duration(Instruction i, Architecture arch) => i.Opcode switch
    {
        Opcode.Mvm => CostModel.MvmNs(arch, i),
        _ when i.Spec.IndexOf("len") >= 0 && i.Opcode is not (Opcode.Send or Opcode.Recv or Opcode.Load or Opcode.Store) => 1 + Math.Ceiling(i["len"] / (double)arch.Core.VectorLanes),
        _ => 1,
    };
}
