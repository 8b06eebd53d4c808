using System.Numerics;
using Cimc.Isa;

namespace Cimc.Simulation.Batched;

/// <summary>One mvm of a block: its crossbar and the fields that differ between the members.</summary>
internal sealed class MvmMember(CrossbarPlanes planes, int shift, bool neg, int group, int ashift, int rows)
{
    public CrossbarPlanes Planes { get; } = planes;

    public int Shift { get; } = shift;

    public long Sign { get; } = neg ? -1 : 1;

    public int Group { get; } = group;

    public int Ashift { get; } = ashift;

    /// <summary>Rows per ADC read (all rows when the field is 0).</summary>
    public int GroupRows { get; } = group == 0 || group >= rows ? Math.Max(rows, 1) : group;

    /// <summary>
    /// Null when no read can reach the ADC's full scale. Otherwise Bound[g][m] is the largest column sum
    /// a read of group g can produce when m of its rows receive a non-zero digit (the m largest levels
    /// of the column, times the largest digit): a sample whose count gives a bound within full scale
    /// cannot saturate there, so only the others need their sums computed.
    /// </summary>
    public long[][]? Bound { get; set; }
}

/// <summary>
/// A run of consecutive mvm instructions of one core that read the same inputs and add into the same
/// outputs (the code generator emits one per weight slice and polarity of a crossbar block), planned
/// for a batch of samples at once. Because such a run's effect is a sum of its members' effects, the
/// members that cannot round (ashift = 0) are merged into one integer matrix
/// W = sum_m sign_m * G_m &lt;&lt; (shift_m - minShift) and computed exactly as a float GEMM over the batch
/// (<see cref="FloatGemm"/>). A member that might saturate gets a per-sample correction
/// (code - p) &lt;&lt; (shift + d*k) for each read whose sum p exceeds full scale; members that round, and
/// whole runs whose products could exceed float's exact range, run the bit-plane kernel per sample.
/// </summary>
internal sealed partial class MvmBlock
{
    private MvmBlock(DecodedOp first, int count, MvmWeights weights)
    {
        Src = (int)first.F1;
        Dst = (int)first.F2;
        Rows = (int)first.F3;
        Cols = (int)first.F4;
        Ibits = (int)first.F5;
        Window = new InputWindow((int)first.F10, Ibits, first.F11 != 0);
        Count = count;
        Weights = weights;
    }

    public int Src { get; }

    public int Dst { get; }

    public int Rows { get; }

    public int Cols { get; }

    public int Ibits { get; }

    /// <summary>The input bits the block converts (whole inputs unless its mvms carry ilo or lower).</summary>
    public InputWindow Window { get; }

    /// <summary>How many instructions the block stands for.</summary>
    public int Count { get; }

    /// <summary>The part shared with every block of the core that runs the same mvms at other addresses.</summary>
    public MvmWeights Weights { get; }

    private int DacBits => Weights.DacBits;

    private long AdcMax => Weights.AdcMax;

    private int Slices => Weights.Slices;

    private int MinShift => Weights.MinShift;

    private float[]? Packed => Weights.Packed;

    private MvmMember[] Linear => Weights.Linear;

    private MvmMember[] Corrected => Weights.Corrected;

    private MvmMember[] Serial => Weights.Serial;

    /// <summary>True when part of the block runs as an exact GEMM (for tests and the benchmark).</summary>
    public bool HasExactPart => Packed is not null;

    /// <summary>True when some member of the exact part may saturate and gets per-sample corrections.</summary>
    public bool HasCorrections => Corrected.Length > 0;

    /// <summary>
    /// The block for the mvm run <paramref name="ops"/>, whose operands are within bounds
    /// (<see cref="Isa.OperandChecks"/>), or null when the run is not valid as a whole (a crossbar
    /// not programmed, outputs overlapping inputs): the machine then runs the instructions singly
    /// and a fault sends the batch back to the reference interpreter. <paramref name="run"/> is the
    /// same run as instructions; <paramref name="shared"/> holds the weights of the core's runs so far.
    /// </summary>
    public static MvmBlock? TryCreate(
        ReadOnlySpan<DecodedOp> ops, ReadOnlySpan<Instruction> run, CrossbarPlanes?[] crossbars, ArchHeader arch, Dictionary<MvmRunKey, MvmWeights> shared)
    {
        DecodedOp first = ops[0];
        var members = new MvmMember[ops.Length];
        for (int j = 0; j < ops.Length; j++)
        {
            DecodedOp op = ops[j];
            if (op.F1 != first.F1 || op.F2 != first.F2 || op.F3 != first.F3 || op.F4 != first.F4 || op.F5 != first.F5 ||
                op.F10 != first.F10 || op.F11 != first.F11 || crossbars[op.F0] is not { } planes)
            {
                return null;
            }

            // An input window's codes weigh 2^ilo more: the block runs on the window's bits from bit 0 (MvmWindow).
            members[j] = new MvmMember(planes, (int)(op.F6 + op.F10), op.F7 != 0, (int)op.F8, (int)op.F9, (int)op.F3);
        }

        long src = first.F1, dst = first.F2, rows = first.F3, cols = first.F4;
        bool overlap = src < dst + cols && dst < src + rows;
        if (overlap && ops.Length > 1)
        {
            return null;
        }

        var key = new MvmRunKey(run);
        if (!shared.TryGetValue(key, out MvmWeights? weights))
        {
            weights = new MvmWeights(first, members, arch);
            shared.Add(key, weights);
        }

        return new MvmBlock(first, ops.Length, weights);
    }

    /// <summary>Counts rows of [start, stop) whose slice-k digit is non-zero (OR of the slice's d planes).</summary>
    private static int NonZeroDigits(ReadOnlySpan<ulong> inp, int words, int k, int dacBits, int start, int stop)
    {
        int w0 = start >> 6, w1 = (stop - 1) >> 6;
        int count = 0;
        for (int w = w0; w <= w1; w++)
        {
            ulong any = 0;
            for (int u = 0; u < dacBits; u++)
            {
                any |= inp[((k * dacBits) + u) * words + w];
            }

            ulong mask = ~0UL;
            if (w == w0)
            {
                mask &= ~0UL << (start & 63);
            }

            if (w == w1 && (stop & 63) != 0)
            {
                mask &= (1UL << (stop & 63)) - 1;
            }

            count += BitOperations.PopCount(any & mask);
        }

        return count;
    }
}
