using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Cimc.Simulation.Batched;

/// <summary>
/// The AVX-512 kernels. A block is 8 weight columns by two 16-sample strips: sixteen Vector512
/// accumulators, and per input row two vector loads and eight broadcasts for sixteen FMAs, so the
/// FMA ports rather than the loads set the pace (the AVX2 kernel's 6x16 block ran at about 40 % of
/// this machine's float peak). A lone last strip uses an 8x16 block: eight accumulators still cover
/// the FMA latency.
/// </summary>
internal static partial class FloatGemm
{
    private const int WideMr = 8;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MultiplyAddWide(float[] weights, int rows, int cols, ReadOnlySpan<float> inputs, int n, Span<long> mem, int dst, int shift)
    {
        int strips = (n + Nr - 1) / Nr;
        int panels = (cols + WideMr - 1) / WideMr;
        Span<float> block = stackalloc float[2 * WideMr * Nr];
        ref float w0 = ref MemoryMarshal.GetArrayDataReference(weights);
        ref float x0 = ref MemoryMarshal.GetReference(inputs);
        for (int s = 0; s < strips; s += 2)
        {
            bool pair = s + 1 < strips;
            ref float xa = ref Unsafe.Add(ref x0, s * rows * Nr);
            for (int p = 0; p < panels; p++)
            {
                ref float w = ref Unsafe.Add(ref w0, p * rows * WideMr);
                if (pair)
                {
                    KernelPair(ref w, ref xa, ref Unsafe.Add(ref xa, rows * Nr), rows, block);
                }
                else
                {
                    KernelSingle(ref w, ref xa, rows, block);
                }

                int r1 = Math.Min(WideMr, cols - (p * WideMr));
                for (int h = 0; h < (pair ? 2 : 1); h++)
                {
                    int first = (s + h) * Nr, lanes = Math.Min(Nr, n - first);
                    for (int r = 0; r < r1; r++)
                    {
                        Span<long> row = mem.Slice(((dst + (p * WideMr) + r) * n) + first, lanes);
                        AddShifted(block.Slice(((h * WideMr) + r) * Nr, Nr), row, shift);
                    }
                }
            }
        }
    }

    /// <summary>block[(h*8 + r)*16 + j] = sum_i w[i*8 + r] * x_h[i*16 + j] for strips h = a, b.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void KernelPair(ref float w, ref float xa, ref float xb, int rows, Span<float> block)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default, b4 = default, b5 = default, b6 = default, b7 = default;
        for (int i = 0; i < rows; i++)
        {
            Vector512<float> va = Vector512.LoadUnsafe(ref xa, (nuint)(i * Nr));
            Vector512<float> vb = Vector512.LoadUnsafe(ref xb, (nuint)(i * Nr));
            ref float wi = ref Unsafe.Add(ref w, i * WideMr);
            Vector512<float> c = Vector512.Create(wi);
            a0 = Vector512.FusedMultiplyAdd(c, va, a0);
            b0 = Vector512.FusedMultiplyAdd(c, vb, b0);
            c = Vector512.Create(Unsafe.Add(ref wi, 1));
            a1 = Vector512.FusedMultiplyAdd(c, va, a1);
            b1 = Vector512.FusedMultiplyAdd(c, vb, b1);
            c = Vector512.Create(Unsafe.Add(ref wi, 2));
            a2 = Vector512.FusedMultiplyAdd(c, va, a2);
            b2 = Vector512.FusedMultiplyAdd(c, vb, b2);
            c = Vector512.Create(Unsafe.Add(ref wi, 3));
            a3 = Vector512.FusedMultiplyAdd(c, va, a3);
            b3 = Vector512.FusedMultiplyAdd(c, vb, b3);
            c = Vector512.Create(Unsafe.Add(ref wi, 4));
            a4 = Vector512.FusedMultiplyAdd(c, va, a4);
            b4 = Vector512.FusedMultiplyAdd(c, vb, b4);
            c = Vector512.Create(Unsafe.Add(ref wi, 5));
            a5 = Vector512.FusedMultiplyAdd(c, va, a5);
            b5 = Vector512.FusedMultiplyAdd(c, vb, b5);
            c = Vector512.Create(Unsafe.Add(ref wi, 6));
            a6 = Vector512.FusedMultiplyAdd(c, va, a6);
            b6 = Vector512.FusedMultiplyAdd(c, vb, b6);
            c = Vector512.Create(Unsafe.Add(ref wi, 7));
            a7 = Vector512.FusedMultiplyAdd(c, va, a7);
            b7 = Vector512.FusedMultiplyAdd(c, vb, b7);
        }

        ref float o = ref MemoryMarshal.GetReference(block);
        a0.StoreUnsafe(ref o, 0);
        a1.StoreUnsafe(ref o, 16);
        a2.StoreUnsafe(ref o, 32);
        a3.StoreUnsafe(ref o, 48);
        a4.StoreUnsafe(ref o, 64);
        a5.StoreUnsafe(ref o, 80);
        a6.StoreUnsafe(ref o, 96);
        a7.StoreUnsafe(ref o, 112);
        b0.StoreUnsafe(ref o, 128);
        b1.StoreUnsafe(ref o, 144);
        b2.StoreUnsafe(ref o, 160);
        b3.StoreUnsafe(ref o, 176);
        b4.StoreUnsafe(ref o, 192);
        b5.StoreUnsafe(ref o, 208);
        b6.StoreUnsafe(ref o, 224);
        b7.StoreUnsafe(ref o, 240);
    }

    /// <summary>block[r*16 + j] = sum_i w[i*8 + r] * x[i*16 + j].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void KernelSingle(ref float w, ref float x, int rows, Span<float> block)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        for (int i = 0; i < rows; i++)
        {
            Vector512<float> v = Vector512.LoadUnsafe(ref x, (nuint)(i * Nr));
            ref float wi = ref Unsafe.Add(ref w, i * WideMr);
            a0 = Vector512.FusedMultiplyAdd(Vector512.Create(wi), v, a0);
            a1 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref wi, 1)), v, a1);
            a2 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref wi, 2)), v, a2);
            a3 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref wi, 3)), v, a3);
            a4 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref wi, 4)), v, a4);
            a5 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref wi, 5)), v, a5);
            a6 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref wi, 6)), v, a6);
            a7 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref wi, 7)), v, a7);
        }

        ref float o = ref MemoryMarshal.GetReference(block);
        a0.StoreUnsafe(ref o, 0);
        a1.StoreUnsafe(ref o, 16);
        a2.StoreUnsafe(ref o, 32);
        a3.StoreUnsafe(ref o, 48);
        a4.StoreUnsafe(ref o, 64);
        a5.StoreUnsafe(ref o, 80);
        a6.StoreUnsafe(ref o, 96);
        a7.StoreUnsafe(ref o, 112);
    }
}
