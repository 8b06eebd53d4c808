using Cimc.Isa;

namespace Cimc.Simulation.Batched;

/// <summary>
/// What an <see cref="MvmBlock"/> derives from its crossbars and its instructions' fields other than
/// the input and output addresses: the merged weight matrix packed for <see cref="FloatGemm"/>, the
/// members and their saturation bounds. A convolution's code repeats one run of mvms per output pixel
/// with only the addresses changed, so blocks share this part (<see cref="BatchPlan"/> keeps one per
/// distinct run and core): a copy per block held ResNet-18's 2,792 crossbars once per window, 3.6 GB.
/// </summary>
internal sealed class MvmWeights
{
    private const long FloatExact = 1L << 24;

    public MvmWeights(DecodedOp first, MvmMember[] members, ArchHeader arch)
    {
        Rows = (int)first.F3;
        Cols = (int)first.F4;
        Ibits = (int)first.F5;
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

    public int Rows { get; }

    public int Cols { get; }

    public int Ibits { get; }

    public int DacBits { get; }

    public long AdcMax { get; }

    public int Slices { get; }

    public int MinShift { get; }

    public float[]? Packed { get; }

    /// <summary>Members in the exact product.</summary>
    public MvmMember[] Linear { get; }

    /// <summary>Members of the exact product whose reads may saturate.</summary>
    public MvmMember[] Corrected { get; }

    /// <summary>Members computed sample by sample with the bit-plane kernel.</summary>
    public MvmMember[] Serial { get; }

    /// <summary>Bytes of the arrays this part allocates (the packed matrix and the bound tables; the crossbars' planes are the program's).</summary>
    public long Bytes =>
        ((long)(Packed?.Length ?? 0) * sizeof(float)) +
        Linear.Concat(Serial).Sum(m => m.Bound?.Sum(t => (long)t.Length * sizeof(long)) ?? 0);

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
}
