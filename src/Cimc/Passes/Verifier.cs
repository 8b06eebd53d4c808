using System.Collections.Immutable;
using Cimc.Isa;
using Cimc.Mapping;
using Cimc.Placement;
using Cimc.Quantization;
using Cimc.Scheduling;

namespace Cimc.Passes;

/// <summary>
/// The checks between stages: after a pass, the IR it produced must be well formed. A failure is a
/// compiler bug (an <see cref="InvalidOperationException"/> naming the pass), not a user error.
/// <list type="bullet">
/// <item>quantized: layers chain (each layer's inputs are the previous layer's outputs);</item>
/// <item>mapped: every block fits a crossbar; each layer has rows x columns x slices x polarities blocks;</item>
/// <item>placed: every block placed exactly once on an existing crossbar; no two blocks share a crossbar; layers on disjoint cores;</item>
/// <item>scheduled: every message has one send on its sender and one receive of its length on its
///   receiver; tags are unique between two cores; every operation comes after those it depends on;
///   running the sends and receives alone finishes (no deadlock);</item>
/// <item>program: every receive is matched by a send on its channel (from, to, tag) of the same length,
///   in order, and no message is left unreceived; running the sends and receives alone (sends
///   buffered, as the machine does) finishes, so the program cannot deadlock.</item>
/// </list>
/// </summary>
public static class Verifier
{
    public static void Check(Compilation c, IrStage stage, string pass)
    {
        string? problem = stage switch
        {
            IrStage.Quantized => Quantized(c.Quantized!),
            IrStage.Mapped => Mapped(c.Mapped!),
            IrStage.Placed => Placed(c.Placed!),
            IrStage.Scheduled => Scheduled(c.Schedule!),
            IrStage.Program => Program(c.Program!),
            _ => null,
        };
        if (problem is not null)
        {
            throw new InvalidOperationException($"verifier after pass '{pass}': {problem}");
        }
    }

    private static string? Quantized(QuantizedModel q)
    {
        if (q.Graph is { } graph)
        {
            return QuantizedGraphProblem(q, graph);
        }

        for (int l = 1; l < q.Layers.Length; l++)
        {
            if (q.Layers[l].InFeatures != q.Layers[l - 1].OutFeatures)
            {
                return $"layer {q.Layers[l].Name} reads {q.Layers[l].InFeatures} features but {q.Layers[l - 1].Name} writes {q.Layers[l - 1].OutFeatures}";
            }
        }

        return q.Layers.IsEmpty ? "no layers" : null;
    }

    /// <summary>A graph's layers read what their input maps hold: a conv its window, a dense the whole map.</summary>
    private static string? QuantizedGraphProblem(QuantizedModel q, QuantizedGraph graph)
    {
        foreach (LayerNode node in graph.Nodes.OfType<LayerNode>())
        {
            QuantizedLayer layer = q.Layers[node.Layer];
            MapShape input = node.Inputs[0] == QuantizedGraph.NetworkInput ? graph.InputShape : graph.Nodes[node.Inputs[0]].Shape;
            int reads = node.Conv?.PatchSize ?? input.Size;
            if (layer.InFeatures != reads || layer.OutFeatures != node.Shape.Channels)
            {
                return $"layer {layer.Name} is {layer.InFeatures} -> {layer.OutFeatures} but its node reads {reads} and writes {node.Shape.Channels} channels";
            }
        }

        return q.Layers.IsEmpty ? "no layers" : null;
    }

    private static string? Mapped(MappedModel m)
    {
        CrossbarGeometry g = m.Geometry;
        foreach (MappedLayer l in m.Layers)
        {
            if (l.Blocks.Any(b => b.RowCount > g.Rows || b.ColCount > g.Cols || b.RowCount < 1 || b.ColCount < 1))
            {
                return $"layer {l.Layer.Name} has a block that does not fit a {g.Rows}x{g.Cols} crossbar";
            }

            if (l.Blocks.Length != l.RowBlocks * l.ColBlocks * l.Slices * l.Polarities * l.SliceCopies)
            {
                return $"layer {l.Layer.Name} has {l.Blocks.Length} blocks, not {l.RowBlocks} x {l.ColBlocks} x {l.Slices} x {l.Polarities}{(l.SliceCopies > 1 ? $" x {l.SliceCopies} copies" : "")}";
            }

            // A split block's copies convert input windows that cover its input bits once, the top one last.
            if (l.Blocks.GroupBy(b => (b.RowBlock, b.ColBlock, b.Polarity, b.Slice)).Any(cell => !WindowsCover([.. cell.Select(b => b.Window).OrderBy(w => w.Low)], l.InputBits)))
            {
                return $"layer {l.Layer.Name} has a block whose input windows do not cover its {l.InputBits} input bits once";
            }

            // The row cut tiles the input rows in order, and every block reads its row block's rows.
            if (l.RowCut.Select((r, i) => r.Start == (i == 0 ? 0 : l.RowCut[i - 1].End)).Contains(false) || l.RowCut[^1].End != l.Layer.InFeatures
                || l.Blocks.Any(b => b.RowStart != l.RowCut[b.RowBlock].Start || b.RowCount != l.RowCut[b.RowBlock].Count))
            {
                return $"layer {l.Layer.Name} has row blocks that do not cut its {l.Layer.InFeatures} input rows in order";
            }
        }

        return null;
    }

    private static bool WindowsCover(IReadOnlyList<Isa.InputWindow> windows, int bits) =>
        windows is [{ IsWhole: true }]
        || (windows.Count > 1 && windows[0].Low == 0 && windows[^1].Low + windows[^1].Bits == bits
            && windows.Select((w, j) => w.Bits > 0 && w.Lower == (j < windows.Count - 1) && (j == 0 || windows[j - 1].Low + windows[j - 1].Bits == w.Low)).All(ok => ok));

    private static string? Placed(PlacedModel p)
    {
        var crossbars = new HashSet<(int, int)>();
        var owner = new Dictionary<int, (int Layer, int Replica)>();
        bool replicated = p.Mapped.Layers.Any(l => l.Replicas > 1);
        if (replicated != !p.ExtraReplicas.IsEmpty || (replicated && (p.ExtraReplicas.Length != p.Layers.Length
            || p.Mapped.Layers.Select((l, i) => p.ExtraReplicas[i].Length != l.Replicas - 1).Any(b => b))))
        {
            return "the placed replicas are not the mapped replica counts";
        }

        for (int l = 0; l < p.Layers.Length; l++)
        {
            ImmutableArray<PlacedLayer> replicas = p.Replicas(l);
            for (int r = 0; r < replicas.Length; r++)
            {
                PlacedLayer layer = replicas[r];
                if (layer.Blocks.Length != layer.Mapped.Blocks.Length || !layer.Blocks.Select(b => b.Block).SequenceEqual(layer.Mapped.Blocks))
                {
                    return $"layer {layer.Mapped.Layer.Name} replica {r}: placed blocks are not its mapped blocks, each once";
                }

                foreach (PlacedBlock b in layer.Blocks)
                {
                    if (b.Core < 0 || b.Core >= p.Chip.Cores || b.Crossbar < 0 || b.Crossbar >= p.Chip.CrossbarsPerCore)
                    {
                        return $"layer {layer.Mapped.Layer.Name}: core {b.Core} crossbar {b.Crossbar} is not on the chip";
                    }

                    if (!crossbars.Add((b.Core, b.Crossbar)))
                    {
                        return $"core {b.Core} crossbar {b.Crossbar} holds two blocks";
                    }

                    if (!layer.Cores.Contains(b.Core))
                    {
                        return $"layer {layer.Mapped.Layer.Name}: block on core {b.Core}, which is not among its cores";
                    }
                }

                foreach (int core in layer.Cores)
                {
                    if (owner.TryGetValue(core, out var other) && other != (l, r))
                    {
                        return $"core {core} holds layers {p.Layers[other.Layer].Mapped.Layer.Name} (replica {other.Replica}) and {layer.Mapped.Layer.Name} (replica {r})";
                    }

                    owner[core] = (l, r);
                }
            }
        }

        return null;
    }

    private static string? Scheduled(Schedule s)
    {
        if (s.Messages.GroupBy(m => (m.From, m.To, m.Tag)).FirstOrDefault(g => g.Count() > 1) is { } shared)
        {
            return $"messages {string.Join(", ", shared.Select(m => m.Id))} from core {shared.Key.From} to core {shared.Key.To} share tag {shared.Key.Tag}";
        }

        var sends = new int[s.Messages.Length];
        var recvs = new int[s.Messages.Length];
        foreach (CoreSchedule core in s.Cores)
        {
            var seen = new HashSet<int>();
            foreach (ScheduledOp op in core.Ops)
            {
                if (op.After.FirstOrDefault(a => !seen.Contains(a), -1) is int missing and >= 0)
                {
                    return $"core {core.Core} operation {op.Id} runs before operation {missing}, which it depends on (or which is not on its core)";
                }

                seen.Add(op.Id);
                if (!op.IsMessage)
                {
                    continue;
                }

                ScheduledMessage m = s.Messages[op.Message];
                bool send = op.Instruction.Opcode == Opcode.Send;
                if ((send ? m.From : m.To) != core.Core || op.Instruction["core"] != (send ? m.To : m.From) || op.Instruction["len"] != m.Words)
                {
                    return $"core {core.Core} operation {op.Id} {(send ? "sends" : "receives")} message {m.Id} (core {m.From} -> core {m.To}, {m.Words} words) with other cores or length";
                }

                (send ? sends : recvs)[m.Id]++;
            }
        }

        if (Enumerable.Range(0, s.Messages.Length).FirstOrDefault(m => sends[m] != 1 || recvs[m] != 1, -1) is int odd and >= 0)
        {
            return $"message {odd} is sent {sends[odd]} and received {recvs[odd]} times (once each expected)";
        }

        return Deadlock(s);
    }

    /// <summary>Runs the sends and receives alone (sends buffered): a core stuck in a receive whose message is never sent is a deadlock.</summary>
    private static string? Deadlock(Schedule s)
    {
        var sent = new bool[s.Messages.Length];
        var pc = new int[s.Cores.Length];
        bool progress = true;
        while (progress)
        {
            progress = false;
            for (int c = 0; c < s.Cores.Length; c++)
            {
                var ops = s.Cores[c].Ops;
                for (; pc[c] < ops.Length; pc[c]++)
                {
                    ScheduledOp op = ops[pc[c]];
                    if (op.IsMessage && op.Instruction.Opcode == Opcode.Recv && !sent[op.Message])
                    {
                        break;
                    }

                    if (op.IsMessage && op.Instruction.Opcode == Opcode.Send)
                    {
                        sent[op.Message] = true;
                    }

                    progress = true;
                }
            }
        }

        for (int c = 0; c < s.Cores.Length; c++)
        {
            if (pc[c] < s.Cores[c].Ops.Length)
            {
                ScheduledOp op = s.Cores[c].Ops[pc[c]];
                return $"core {s.Cores[c].Core} operation {op.Id} waits for message {op.Message} from core {s.Messages[op.Message].From}, which is never sent (or would deadlock)";
            }
        }

        return null;
    }

    private static string? Program(ProgramImage program)
    {
        var channels = new Dictionary<(long From, long To, long Tag), Queue<long>>();
        var pc = program.Cores.ToDictionary(p => p.Core, _ => 0);
        bool progress = true;
        while (progress)
        {
            progress = false;
            foreach (CoreProgram p in program.Cores)
            {
                for (int i = pc[p.Core]; i < p.Code.Length; i = ++pc[p.Core])
                {
                    Instruction op = p.Code[i];
                    if (op.Opcode == Opcode.Send)
                    {
                        var key = ((long)p.Core, op["core"], op["tag"]);
                        (channels.TryGetValue(key, out var q) ? q : channels[key] = new Queue<long>()).Enqueue(op["len"]);
                    }
                    else if (op.Opcode == Opcode.Recv)
                    {
                        var key = (op["core"], (long)p.Core, op["tag"]);
                        if (!channels.TryGetValue(key, out var q) || q.Count == 0)
                        {
                            break;
                        }

                        if (q.Dequeue() != op["len"])
                        {
                            return $"core {p.Core} instruction {i}: receives {op["len"]} words from core {key.Item1} tag {key.Item3}, but the matching send has another length";
                        }
                    }

                    progress = true;
                }
            }
        }

        if (program.Cores.FirstOrDefault(p => pc[p.Core] < p.Code.Length) is { } stuck)
        {
            Instruction op = stuck.Code[pc[stuck.Core]];
            return $"core {stuck.Core} instruction {pc[stuck.Core]} waits for a message from core {op["core"]} tag {op["tag"]} that is never sent (or would deadlock)";
        }

        return channels.FirstOrDefault(kv => kv.Value.Count > 0) is { Value: not null } left
            ? $"{left.Value.Count} message(s) from core {left.Key.From} to core {left.Key.To} tag {left.Key.Tag} are never received"
            : null;
    }
}
