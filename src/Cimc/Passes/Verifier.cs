using System.Collections.Immutable;
using Cimc.Isa;
using Cimc.Mapping;
using Cimc.Placement;
using Cimc.Quantization;

namespace Cimc.Passes;

/// <summary>
/// The checks between stages: after a pass, the IR it produced must be well formed. A failure is a
/// compiler bug (an <see cref="InvalidOperationException"/> naming the pass), not a user error.
/// <list type="bullet">
/// <item>quantized: layers chain (each layer's inputs are the previous layer's outputs);</item>
/// <item>mapped: every block fits a crossbar; each layer has rows x columns x slices x polarities blocks;</item>
/// <item>placed: every block placed exactly once on an existing crossbar; no two blocks share a crossbar; layers on disjoint cores;</item>
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
        for (int l = 1; l < q.Layers.Length; l++)
        {
            if (q.Layers[l].InFeatures != q.Layers[l - 1].OutFeatures)
            {
                return $"layer {q.Layers[l].Name} reads {q.Layers[l].InFeatures} features but {q.Layers[l - 1].Name} writes {q.Layers[l - 1].OutFeatures}";
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

            if (l.Blocks.Length != l.RowBlocks * l.ColBlocks * l.Slices * l.Polarities)
            {
                return $"layer {l.Layer.Name} has {l.Blocks.Length} blocks, not {l.RowBlocks} x {l.ColBlocks} x {l.Slices} x {l.Polarities}";
            }
        }

        return null;
    }

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
