using System.Collections.Immutable;
using Cimc.Isa;

namespace Cimc.Scheduling;

/// <summary>
/// The dependences of a core's operations, from what each instruction reads and writes
/// (<see cref="MemoryAccesses"/>): an operation follows every earlier one whose words it reads after
/// they were written, overwrites after they were read, or overwrites after they were written. Two
/// mvm accumulations into the same words commute and do not order each other. The tile buffer is
/// shared by a tile's cores, which synchronise through messages: a load or store of the tile buffer
/// follows every earlier receive of a signal or a release on its core (the signal says the rows are
/// there; the release that the rows it overwrites are no longer read), a signal's send follows every
/// earlier store of its core (the rows it announces), and a release's send every earlier tile-buffer
/// access of its core (the reads of the rows it gives up).
/// </summary>
public static class Dependences
{
    public static ImmutableArray<ImmutableArray<int>> Of(IReadOnlyList<(int Id, Instruction Instruction, MessageKind? Kind)> ops)
    {
        int n = ops.Count;
        var accesses = new MemoryAccess[n][];
        var touchesBuffer = new bool[n];
        for (int k = 0; k < n; k++)
        {
            accesses[k] = [.. MemoryAccesses.Of(ops[k].Instruction).Where(a => a.Len > 0)];
            touchesBuffer[k] = Array.Exists(accesses[k], a => a.Space == MemorySpace.TileBuffer);
        }

        var result = ImmutableArray.CreateBuilder<ImmutableArray<int>>(n);
        var after = ImmutableArray.CreateBuilder<int>();
        for (int k = 0; k < n; k++)
        {
            after.Clear();
            bool signals = ops[k].Kind == MessageKind.Signal && ops[k].Instruction.Opcode == Opcode.Send;
            bool releases = ops[k].Kind == MessageKind.Release && ops[k].Instruction.Opcode == Opcode.Send;
            for (int j = 0; j < k; j++)
            {
                Opcode earlier = ops[j].Instruction.Opcode;
                bool synchronised = (touchesBuffer[k] && earlier == Opcode.Recv && ops[j].Kind is MessageKind.Signal or MessageKind.Release)
                    || (signals && earlier == Opcode.Store) || (releases && touchesBuffer[j]);
                if (synchronised || Conflict(accesses[j], accesses[k]))
                {
                    after.Add(ops[j].Id);
                }
            }

            result.Add(after.ToImmutable());
        }

        return result.MoveToImmutable();
    }

    private static bool Conflict(MemoryAccess[] first, MemoryAccess[] second)
    {
        foreach (MemoryAccess a in first)
        {
            foreach (MemoryAccess b in second)
            {
                if ((a.Writes || b.Writes) && a.Overlaps(b) && !(a.Kind == AccessKind.Accumulate && b.Kind == AccessKind.Accumulate))
                {
                    return true;
                }
            }
        }

        return false;
    }
}
