using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Cimc.Simulation.Batched;

/// <summary>
/// Integer matrix products computed in float, for MVMs that cannot saturate or round: when every
/// partial sum's magnitude stays at or below 2^24 (checked by the caller from the weights and the
/// input bits), every product and sum is an exactly representable integer, so the float result is
/// the exact integer. Float is used because it runs at twice double's SIMD width and a quarter of
/// int64's cost.
///
/// Shapes: out[o][b] += (long)sum_i W[i][o] * x[i][b] &lt;&lt; shift for a batch of samples b, memory in
/// the batched machine's layout (address-major: word a of sample b at a*n + b). W is packed once
/// into panels of <see cref="Mr"/> columns ([i][r] within a panel); each call packs the inputs into
/// strips of <see cref="Nr"/> samples ([i][j] within a strip, zero beyond n). With AVX2 the
/// micro-kernel keeps a 6x16 block of outputs in twelve Vector256 registers (the shape BLIS uses for
/// AVX2 SGEMM); with AVX-512 an 8x32 block in sixteen Vector512 registers (FloatGemm.Wide.cs).
/// </summary>
internal static partial class FloatGemm
{
    public const int Nr = 16;

    /// <summary>Columns per weight panel: the rows of the micro-kernel's block.</summary>
    public static readonly int Mr = Wide ? 8 : 6;

    private static bool Wide => Vector512.IsHardwareAccelerated && Avx512F.IsSupported;

    /// <summary>Panels of <see cref="Mr"/> columns: packed[(p*rows + i)*Mr + r] = W[i][p*Mr + r], zero padded.</summary>
    public static float[] PackWeights(ReadOnlySpan<long> w, int rows, int cols)
    {
        int panels = (cols + Mr - 1) / Mr;
        var packed = new float[panels * rows * Mr];
        for (int i = 0; i < rows; i++)
        {
            for (int o = 0; o < cols; o++)
            {
                packed[((((o / Mr) * rows) + i) * Mr) + (o % Mr)] = w[(i * cols) + o];
            }
        }

        return packed;
    }

    /// <summary>Floats needed by <see cref="PackInputs"/> for <paramref name="rows"/> rows and n samples.</summary>
    public static int InputFloats(int rows, int n) => rows * ((n + Nr - 1) / Nr) * Nr;

    /// <summary>
    /// Strips of <see cref="Nr"/> samples: packed[(s*rows + i)*Nr + j] = x[i*n + s*Nr + j], zero beyond n.
    /// Returns the OR of all inputs, for the caller's range check: checking in the same pass saves
    /// reading every input twice (values outside the range convert inexactly, but then the caller faults).
    /// </summary>
    public static ulong PackInputs(ReadOnlySpan<long> x, int rows, int n, Span<float> packed)
    {
        Vector512<long> any = Vector512<long>.Zero;
        long rest = 0;
        int strips = (n + Nr - 1) / Nr;
        for (int s = 0; s < strips; s++)
        {
            int lanes = Math.Min(Nr, n - (s * Nr));
            for (int i = 0; i < rows; i++)
            {
                ReadOnlySpan<long> src = x.Slice((i * n) + (s * Nr), lanes);
                Span<float> dst = packed.Slice(((s * rows) + i) * Nr, Nr);
                if (lanes == Nr && Avx512DQ.IsSupported)
                {
                    // The inputs are below 2^24 (ibits <= 24), so the conversion is exact.
                    ref long r = ref MemoryMarshal.GetReference(src);
                    ref float d = ref MemoryMarshal.GetReference(dst);
                    Vector512<long> lo = Vector512.LoadUnsafe(ref r), hi = Vector512.LoadUnsafe(ref r, 8);
                    any |= lo | hi;
                    Avx512DQ.ConvertToVector256Single(lo).StoreUnsafe(ref d);
                    Avx512DQ.ConvertToVector256Single(hi).StoreUnsafe(ref d, 8);
                    continue;
                }

                for (int j = 0; j < lanes; j++)
                {
                    rest |= src[j];
                    dst[j] = src[j];
                }

                dst[lanes..].Clear();
            }
        }

        for (int k = 0; k < Vector512<long>.Count; k++)
        {
            rest |= any[k];
        }

        return (ulong)rest;
    }

    /// <summary>mem[(dst+o)*n + b] += (long)(sum_i W[i][o] x[i][b]) &lt;&lt; shift (0 &lt;= shift &lt; 64), modulo 2^64.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyAdd(float[] weights, int rows, int cols, ReadOnlySpan<float> inputs, int n, Span<long> mem, int dst, int shift)
    {
        if (Wide)
        {
            MultiplyAddWide(weights, rows, cols, inputs, n, mem, dst, shift);
            return;
        }

        int strips = (n + Nr - 1) / Nr;
        int panels = (cols + Mr - 1) / Mr;
        Span<float> block = stackalloc float[Mr * Nr];
        ref float w0 = ref MemoryMarshal.GetArrayDataReference(weights);
        for (int s = 0; s < strips; s++)
        {
            ref float x = ref Unsafe.AsRef(in inputs[s * rows * Nr]);
            int lanes = Math.Min(Nr, n - (s * Nr));
            for (int p = 0; p < panels; p++)
            {
                Kernel(ref Unsafe.Add(ref w0, p * rows * Mr), ref x, rows, block);
                int r1 = Math.Min(Mr, cols - (p * Mr));
                for (int r = 0; r < r1; r++)
                {
                    Span<long> row = mem.Slice(((dst + (p * Mr) + r) * n) + (s * Nr), lanes);
                    AddShifted(block.Slice(r * Nr, Nr), row, shift);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Fmadd(Vector256<float> a, Vector256<float> b, Vector256<float> c) =>
        Fma.IsSupported ? Fma.MultiplyAdd(a, b, c) : (a * b) + c;

    /// <summary>block[r*16 + j] = sum_i w[i*6 + r] * x[i*16 + j]: the 6x16 register-blocked product.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel(ref float w, ref float x, int rows, Span<float> block)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int i = 0; i < rows; i++)
        {
            Vector256<float> x0 = Vector256.LoadUnsafe(ref x, (nuint)(i * Nr));
            Vector256<float> x1 = Vector256.LoadUnsafe(ref x, (nuint)((i * Nr) + 8));
            ref float wi = ref Unsafe.Add(ref w, i * Mr);
            Vector256<float> a = Vector256.Create(wi);
            c00 = Fmadd(a, x0, c00);
            c01 = Fmadd(a, x1, c01);
            a = Vector256.Create(Unsafe.Add(ref wi, 1));
            c10 = Fmadd(a, x0, c10);
            c11 = Fmadd(a, x1, c11);
            a = Vector256.Create(Unsafe.Add(ref wi, 2));
            c20 = Fmadd(a, x0, c20);
            c21 = Fmadd(a, x1, c21);
            a = Vector256.Create(Unsafe.Add(ref wi, 3));
            c30 = Fmadd(a, x0, c30);
            c31 = Fmadd(a, x1, c31);
            a = Vector256.Create(Unsafe.Add(ref wi, 4));
            c40 = Fmadd(a, x0, c40);
            c41 = Fmadd(a, x1, c41);
            a = Vector256.Create(Unsafe.Add(ref wi, 5));
            c50 = Fmadd(a, x0, c50);
            c51 = Fmadd(a, x1, c51);
        }

        ref float b = ref MemoryMarshal.GetReference(block);
        c00.StoreUnsafe(ref b, 0);
        c01.StoreUnsafe(ref b, 8);
        c10.StoreUnsafe(ref b, 16);
        c11.StoreUnsafe(ref b, 24);
        c20.StoreUnsafe(ref b, 32);
        c21.StoreUnsafe(ref b, 40);
        c30.StoreUnsafe(ref b, 48);
        c31.StoreUnsafe(ref b, 56);
        c40.StoreUnsafe(ref b, 64);
        c41.StoreUnsafe(ref b, 72);
        c50.StoreUnsafe(ref b, 80);
        c51.StoreUnsafe(ref b, 88);
    }

    /// <summary>row[j] += (long)sums[j] &lt;&lt; shift for j &lt; row.Length; the sums are exact integers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddShifted(ReadOnlySpan<float> sums, Span<long> row, int shift)
    {
        if (row.Length == Nr && Vector512.IsHardwareAccelerated)
        {
            ref long r = ref MemoryMarshal.GetReference(row);
            Vector512<int> v = Vector512.ConvertToInt32(Vector512.Create(sums));
            (Vector512.LoadUnsafe(ref r) + (Vector512.WidenLower(v) << shift)).StoreUnsafe(ref r);
            (Vector512.LoadUnsafe(ref r, 8) + (Vector512.WidenUpper(v) << shift)).StoreUnsafe(ref r, 8);
            return;
        }

        if (row.Length == Nr && Avx2.IsSupported)
        {
            ref long r = ref MemoryMarshal.GetReference(row);
            for (int h = 0; h < Nr; h += 8)
            {
                Vector256<int> v = Vector256.ConvertToInt32(Vector256.Create(sums.Slice(h, 8)));
                Vector256<long> lo = Avx2.ConvertToVector256Int64(v.GetLower()) << shift;
                Vector256<long> hi = Avx2.ConvertToVector256Int64(v.GetUpper()) << shift;
                (Vector256.LoadUnsafe(ref r, (nuint)h) + lo).StoreUnsafe(ref r, (nuint)h);
                (Vector256.LoadUnsafe(ref r, (nuint)(h + 4)) + hi).StoreUnsafe(ref r, (nuint)(h + 4));
            }

            return;
        }

        for (int j = 0; j < row.Length; j++)
        {
            row[j] = unchecked(row[j] + ((long)sums[j] << shift));
        }
    }
}
