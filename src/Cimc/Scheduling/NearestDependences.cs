using System.Collections.Immutable;
using Cimc.Isa;

namespace Cimc.Scheduling;

/// <summary>
/// The dependences of <see cref="Dependences.Of"/> with the same transitive closure but only the
/// nearest edges, found word by word in one pass: an access depends on the last write of each word
/// it touches, a write also on the reads and accumulations since that write (accumulations of one
/// word commute, as in <see cref="Dependences"/>). An operation touching the tile buffer depends on
/// every earlier signal or release receive of the core, a signal send on every earlier store, a
/// release send on the tile-buffer accesses since the core's previous release send and on that send. Why: the full pairwise relation is quadratic in a core's operations, and a convolution
/// runs the same rows and accumulators at every output pixel (LeNet's first layer alone gives a core
/// ~10 k operations), which made scheduling take tens of seconds. Orders and longest paths over it
/// equal those over the full relation.
/// </summary>
public static class NearestDependences
{
    private sealed class Word
    {
        public int LastWrite = -1;
        public List<int> Reads { get; } = [];
        public List<int> Accumulates { get; } = [];
    }

    public static ImmutableArray<ImmutableArray<int>> Of(IReadOnlyList<(int Id, Instruction Instruction, MessageKind? Kind)> ops)
    {
        var words = new Dictionary<long, Word>();
        var result = ImmutableArray.CreateBuilder<ImmutableArray<int>>(ops.Count);
        var after = new SortedSet<int>();
        var signalRecvs = new List<int>();
        var stores = new List<int>();
        var bufferSinceRelease = new List<int>();
        int lastRelease = -1;
        for (int k = 0; k < ops.Count; k++)
        {
            after.Clear();
            Instruction instruction = ops[k].Instruction;
            bool touchesBuffer = false;
            foreach (MemoryAccess a in MemoryAccesses.Of(instruction))
            {
                if (a.Len <= 0)
                {
                    continue;
                }

                touchesBuffer |= a.Space == MemorySpace.TileBuffer;
                for (long w = a.Addr; w < a.End; w++)
                {
                    long key = ((long)a.Space << 48) | w;
                    Word word = words.TryGetValue(key, out var found) ? found : words[key] = new Word();
                    Add(after, word.LastWrite);
                    switch (a.Kind)
                    {
                        case AccessKind.Read:
                            word.Accumulates.ForEach(j => after.Add(j));
                            word.Reads.Add(k);
                            break;
                        case AccessKind.Accumulate:
                            word.Reads.ForEach(j => after.Add(j));
                            word.Accumulates.Add(k);
                            break;
                        default:
                            word.Reads.ForEach(j => after.Add(j));
                            word.Accumulates.ForEach(j => after.Add(j));
                            word.Reads.Clear();
                            word.Accumulates.Clear();
                            word.LastWrite = k;
                            break;
                    }
                }
            }

            after.Remove(k);
            bool signalSend = ops[k].Kind == MessageKind.Signal && instruction.Opcode == Opcode.Send;
            if (touchesBuffer)
            {
                signalRecvs.ForEach(j => after.Add(j));
            }

            if (ops[k].Kind == MessageKind.Release && instruction.Opcode == Opcode.Send)
            {
                // The tile-buffer accesses since the previous release, and that release (which follows the earlier ones).
                bufferSinceRelease.ForEach(j => after.Add(j));
                Add(after, lastRelease);
                bufferSinceRelease.Clear();
                lastRelease = k;
            }
            else if (touchesBuffer)
            {
                bufferSinceRelease.Add(k);
            }

            if (signalSend)
            {
                // Every earlier store, as in the full relation (stores need not depend on each other); signal sends are few.
                stores.ForEach(j => after.Add(j));
            }

            if (instruction.Opcode == Opcode.Store)
            {
                stores.Add(k);
            }

            if (ops[k].Kind is MessageKind.Signal or MessageKind.Release && instruction.Opcode == Opcode.Recv)
            {
                signalRecvs.Add(k);
            }

            result.Add([.. after.Select(j => ops[j].Id)]);
        }

        return result.MoveToImmutable();
    }

    private static void Add(SortedSet<int> set, int j)
    {
        if (j >= 0)
        {
            set.Add(j);
        }
    }
}
