using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Cimc.Simulation.Batched;

/// <summary>Running a block over a batch: the exact product, then per-sample corrections and serial members.</summary>
internal sealed partial class MvmBlock
{
    /// <summary>
    /// mem is one core's batched memory (word a of sample b at a*n + b). Inputs outside [0, 2^ibits)
    /// are a fault, reported as <see cref="BatchFallbackException"/> so the reference reruns the batch.
    /// </summary>
    public void Execute(Span<long> mem, int n, int adcBits, BatchScratch scratch)
    {
        ReadOnlySpan<long> x = mem.Slice(Src * n, Rows * n);
        if (Window.Low != 0 || Window.Lower)
        {
            // The window's bits from bit 0 (a copy, so outputs never overwrite them); the members' shifts include ilo.
            Span<long> part = scratch.Inputs(Rows * n);
            x = MvmWindow.Take(x, Window, part) >= 0 ? throw new BatchFallbackException("mvm input outside its window's range") : part;
        }

        bool gemm = Packed is not null && MinShift < 64 && Rows > 0 && Cols > 0;
        if (!gemm)
        {
            CheckRange(x, Ibits);
        }

        if (Rows == 0 || Cols == 0)
        {
            return;
        }

        bool perSample = Corrected.Length > 0 || Serial.Length > 0;
        if (perSample)
        {
            // A copy: the serial members and corrections read inputs after the product wrote outputs.
            Span<long> copy = scratch.Inputs(Rows * n);
            x.CopyTo(copy);
            x = copy;
        }

        if (gemm)
        {
            Span<float> packed = scratch.Floats(FloatGemm.InputFloats(Rows, n));
            if ((FloatGemm.PackInputs(x, Rows, n, packed) >> Ibits) != 0)
            {
                throw new BatchFallbackException("mvm input outside [0, 2^ibits)");
            }

            FloatGemm.MultiplyAdd(Packed!, Rows, Cols, packed, n, mem, Dst, MinShift);
        }

        if (!perSample)
        {
            return;
        }

        Span<long> sample = scratch.Sample(Rows);
        Span<long> acc = scratch.Acc(Cols);
        Span<ulong> planes = scratch.Planes(MvmKernel.ScratchWords(Rows));
        for (int b = 0; b < n; b++)
        {
            for (int i = 0; i < Rows; i++)
            {
                sample[i] = x[(i * n) + b];
            }

            foreach (MvmMember m in Serial)
            {
                MvmKernel.Accumulate(m.Planes, sample, Ibits, DacBits, adcBits, m.Shift, m.Group, m.Ashift, acc, planes);
                for (int o = 0; o < Cols; o++)
                {
                    ref long y = ref mem[((Dst + o) * n) + b];
                    y = unchecked(y + (m.Sign * acc[o]));
                }
            }

            if (Corrected.Length > 0)
            {
                Span<ulong> inp = MvmKernel.BuildInputPlanes(sample, Slices * DacBits, planes);
                foreach (MvmMember m in Corrected)
                {
                    Correct(m, inp, mem, n, b);
                }
            }
        }
    }

    /// <summary>
    /// The exact product added sign * p &lt;&lt; (shift + d*k) for every read; where the ADC saturates the
    /// hardware adds sign * (2^a - 1) &lt;&lt; (shift + d*k) instead, so add the difference there.
    /// </summary>
    private void Correct(MvmMember m, ReadOnlySpan<ulong> inp, Span<long> mem, int n, int b)
    {
        int words = (Rows + 63) >> 6;
        int cellBits = m.Planes.CellBits, stride = m.Planes.Words;
        ref ulong colBase = ref MemoryMarshal.GetArrayDataReference(m.Planes.Planes);
        ref ulong inBase = ref MemoryMarshal.GetReference(inp);
        long[][] bound = m.Bound!;
        for (int g = 0; g < bound.Length; g++)
        {
            int start = g * m.GroupRows, stop = Math.Min(Rows, start + m.GroupRows);
            for (int k = 0; k < Slices; k++)
            {
                int sh = m.Shift + (DacBits * k);
                if (sh >= 64 || bound[g][NonZeroDigits(inp, words, k, DacBits, start, stop)] <= AdcMax)
                {
                    continue;
                }

                for (int o = 0; o < Cols; o++)
                {
                    ref ulong col = ref Unsafe.Add(ref colBase, o * cellBits * stride);
                    long p = 0;
                    for (int u = 0; u < DacBits; u++)
                    {
                        ref ulong xin = ref Unsafe.Add(ref inBase, ((k * DacBits) + u) * words);
                        for (int c = 0; c < cellBits; c++)
                        {
                            p += MvmKernel.CountRows(ref xin, ref Unsafe.Add(ref col, c * stride), start, stop) << (u + c);
                        }
                    }

                    if (p > AdcMax)
                    {
                        ref long y = ref mem[((Dst + o) * n) + b];
                        y = unchecked(y + (m.Sign * ((AdcMax - p) << sh)));
                    }
                }
            }
        }
    }

    private static void CheckRange(ReadOnlySpan<long> x, int ibits)
    {
        // Negative values have the top bit set, so one OR finds every value outside [0, 2^ibits).
        Vector256<long> any = Vector256<long>.Zero;
        int i = 0;
        for (; i + 4 <= x.Length; i += 4)
        {
            any |= Vector256.Create(x.Slice(i, 4));
        }

        ulong all = (ulong)(any[0] | any[1] | any[2] | any[3]);
        for (; i < x.Length; i++)
        {
            all |= (ulong)x[i];
        }

        if ((all >> ibits) != 0)
        {
            throw new BatchFallbackException("mvm input outside [0, 2^ibits)");
        }
    }
}
