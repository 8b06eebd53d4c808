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
/// </summary>
internal static class Reduction
{
    internal const int PartialTag = 0x4000;

    /// <summary>Levels of the tree over n cores: ceil(log2 n).</summary>
    public static int Depth(int n) => n <= 1 ? 0 : 32 - System.Numerics.BitOperations.LeadingZeroCount((uint)(n - 1));

    /// <summary>True when the core at <paramref name="index"/> of a block's n cores receives partial sums at some level.</summary>
    public static bool Receives(int index, int n)
    {
        for (int s = 1; s < n; s *= 2)
        {
            if (index % (2 * s) == 0 && index + s < n)
            {
                return true;
            }
        }

        return false;
    }

    public static void Emit(Emitter em, int layerIndex, ColumnBlock block, IReadOnlyDictionary<int, CoreMemoryLayout> memory)
    {
        int n = block.Cores.Length, len = block.ColCount, tag = PartialTag + layerIndex;
        for (int s = 1; s < n; s *= 2)
        {
            for (int i = 0; i + s < n; i += 2 * s)
            {
                int receiver = block.Cores[i], sender = block.Cores[i + s];
                CoreMemoryLayout mine = memory[receiver];
                int acc = mine.AccAddr(block.ColStart);
                em[sender].Add(Instruction.Send(receiver, memory[sender].AccAddr(block.ColStart), len, tag));
                em[receiver].Add(Instruction.Recv(sender, mine.Partials, len, tag));
                em[receiver].Add(Instruction.VAdd(acc, acc, mine.Partials, len));
            }
        }
    }
}
