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
    private const long FloatExact = 1L << 24;

    private MvmBlock(DecodedOp first, int count, MvmMember[] members, ArchHeader arch)
    {
        Src = (int)first.F1;
        Dst = (int)first.F2;
        Rows = (int)first.F3;
        Cols = (int)first.F4;
        Ibits = (int)first.F5;
        Window = new InputWindow((int)first.F10, Ibits, first.F11 != 0);
        Count = count;
        DacBits = arch.DacBits;
        AdcMax = (1L << arch.AdcBits) - 1;
        Slices = (Ibits + DacBits - 1) / DacBits;
        long maxDigit = (1L << Math.Min(DacBits, Ibits)) - 1;

        MvmMember[] linear = [.. members.Where(m => m.Ashift == 0)];
        int minShift = linear.Length == 0 ? 0 : linear.Min(m => m.Shift);
        float[]? packed = linear.Length == 0 ? null : ExactWeights(linear, minShift);
        if (packed is null)
        {
            Serial = members;
            Linear = Corrected = [];
            return;
        }

        Packed = packed;
        MinShift = minShift;
        Linear = linear;
        Serial = [.. members.Where(m => m.Ashift != 0)];
        foreach (MvmMember m in linear)
        {
            m.Bound = SaturationBound(m, maxDigit);
        }

        Corrected = [.. linear.Where(m => m.Bound is not null)];
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

    private int DacBits { get; }

    private long AdcMax { get; }

    private int Slices { get; }

    private int MinShift { get; }

    private float[]? Packed { get; }

    /// <summary>Members in the exact product.</summary>
    private MvmMember[] Linear { get; }

    /// <summary>Members of the exact product whose reads may saturate.</summary>
    private MvmMember[] Corrected { get; }

    /// <summary>Members computed sample by sample with the bit-plane kernel.</summary>
    private MvmMember[] Serial { get; }

    /// <summary>True when part of the block runs as an exact GEMM (for tests and the benchmark).</summary>
    public bool HasExactPart => Packed is not null;

    /// <summary>True when some member of the exact part may saturate and gets per-sample corrections.</summary>
    public bool HasCorrections => Corrected.Length > 0;

    /// <summary>
    /// The block for the mvm run <paramref name="ops"/>, whose operands are within bounds
    /// (<see cref="Isa.OperandChecks"/>), or null when the run is not valid as a whole (a crossbar
    /// not programmed, outputs overlapping inputs): the machine then runs the instructions singly
    /// and a fault sends the batch back to the reference interpreter.
    /// </summary>
    public static MvmBlock? TryCreate(ReadOnlySpan<DecodedOp> ops, CrossbarPlanes?[] crossbars, ArchHeader arch)
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

        return new MvmBlock(first, ops.Length, members, arch);
    }

    /// <summary>W packed for <see cref="FloatGemm"/>, or null when some column's products could exceed 2^24.</summary>
    private float[]? ExactWeights(MvmMember[] linear, int minShift)
    {
        if (linear.Any(m => m.Shift - minShift > 40) || Ibits > 24)
        {
            return null;
        }

        var w = new long[Rows * Cols];
        foreach (MvmMember m in linear)
        {
            for (int i = 0; i < Rows; i++)
            {
                for (int o = 0; o < Cols; o++)
                {
                    w[(i * Cols) + o] += m.Sign * ((long)m.Planes.Level(i, o) << (m.Shift - minShift));
                }
            }
        }

        long xMax = (1L << Ibits) - 1;
        for (int o = 0; o < Cols; o++)
        {
            Int128 sum = 0;
            for (int i = 0; i < Rows; i++)
            {
                sum += Math.Abs(w[(i * Cols) + o]);
            }

            if (sum * xMax > FloatExact)
            {
                return null;
            }
        }

        return FloatGemm.PackWeights(w, Rows, Cols);
    }

    /// <summary>Null when no read of <paramref name="m"/> can exceed full scale, else the per-group bound table.</summary>
    private long[][]? SaturationBound(MvmMember m, long maxDigit)
    {
        int groups = (Rows + m.GroupRows - 1) / m.GroupRows;
        var bound = new long[groups][];
        bool saturates = false;
        for (int g = 0; g < groups; g++)
        {
            int start = g * m.GroupRows, stop = Math.Min(Rows, start + m.GroupRows);
            var table = new long[stop - start + 1];
            var column = new int[stop - start];
            for (int o = 0; o < Cols; o++)
            {
                for (int i = start; i < stop; i++)
                {
                    column[i - start] = m.Planes.Level(i, o);
                }

                Array.Sort(column, (a, b) => b.CompareTo(a));
                long prefix = 0;
                for (int c = 0; c < column.Length; c++)
                {
                    prefix += column[c] * maxDigit;
                    table[c + 1] = Math.Max(table[c + 1], prefix);
                }
            }

            saturates |= table[^1] > AdcMax;
            bound[g] = table;
        }

        return saturates ? bound : null;
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
