using Cimc.Isa;

namespace Cimc.Codegen;

/// <summary>
/// Reduction trees: a column block's partial sums are added only among the cores holding that
/// column block (other column blocks are disjoint outputs), as a binomial tree over the block's
/// cores in ascending order: at level s = 1, 2, 4, ..., core i (i mod 2s = s) sends its accumulated
/// columns to core i - s, which receives and adds. After ceil(log2 n) levels the block's first
/// core (its root) holds the sum. Neighbouring cores share a tile, so the lower levels stay on the
/// tile bus. Expects every core of the block to hold its partial sums in acc[ColStart, ColEnd);
/// guarantees the root's acc there is their sum, each core adding at most ceil(log2 n) vectors.
/// <code>
/// before (n = 4): c1 -> c0, c2 -> c0, c3 -> c0   (3 sequential recv + vadd on c0)
/// after:          c1 -> c0, c3 -> c2; then c2 -> c0 (2 levels)
/// </code>
/// Without the reduce-tree pass (<see cref="Placement.Lowering.ReductionTree"/> off, the straight
/// lowering) the "before" chain is emitted: every other core sends to the root, which adds in core order.
/// </summary>
internal static class Reduction
{
    /// <summary>Levels of the tree over n cores: ceil(log2 n).</summary>
    public static int Depth(int n) => n <= 1 ? 0 : 32 - System.Numerics.BitOperations.LeadingZeroCount((uint)(n - 1));

    /// <summary>True when the core at <paramref name="index"/> of a block's n cores receives partial sums at some level.</summary>
    public static bool Receives(int index, int n, bool tree = true)
    {
        if (!tree)
        {
            return index == 0 && n > 1;
        }

        for (int s = 1; s < n; s *= 2)
        {
            if (index % (2 * s) == 0 && index + s < n)
            {
                return true;
            }
        }

        return false;
    }

    public static void Emit(Emitter em, int layerIndex, ColumnBlock block, IReadOnlyDictionary<int, CoreMemoryLayout> memory, bool tree = true)
    {
        int n = block.Cores.Length;
        if (!tree)
        {
            for (int i = 1; i < n; i++)
            {
                Add(em, layerIndex, block, memory, block.Cores[0], block.Cores[i]);
            }

            return;
        }

        for (int s = 1; s < n; s *= 2)
        {
            for (int i = 0; i + s < n; i += 2 * s)
            {
                Add(em, layerIndex, block, memory, block.Cores[i], block.Cores[i + s]);
            }
        }
    }

    /// <summary>The sender's partial sums of the block go to the receiver, which adds them to its own.</summary>
    private static void Add(Emitter em, int layerIndex, ColumnBlock block, IReadOnlyDictionary<int, CoreMemoryLayout> memory, int receiver, int sender)
    {
        int len = block.ColCount, tag = Streams.Partial(layerIndex);
        CoreMemoryLayout mine = memory[receiver];
        int acc = mine.AccAddr(block.ColStart);
        em[sender].Add(Instruction.Send(receiver, memory[sender].AccAddr(block.ColStart), len, tag));
        em[receiver].Add(Instruction.Recv(sender, mine.Partials, len, tag));
        em[receiver].Add(Instruction.VAdd(acc, acc, mine.Partials, len));
    }
}
