namespace Cimc.Simulation.Batched;

/// <summary>
/// A batch could not run on the batched path (a fault, a deadlock, the instruction limit, a table
/// read outside the planned memory): the caller reruns the batch on the reference interpreter,
/// which reports the error exactly as it defines it, or computes the result.
/// </summary>
internal sealed class BatchFallbackException(string reason) : Exception(reason);

/// <summary>Growable work buffers of one batched machine, reused across instructions and batches.</summary>
internal sealed class BatchScratch
{
    private long[] _inputs = [];
    private float[] _floats = [];
    private long[] _sample = [];
    private long[] _acc = [];
    private ulong[] _planes = [];

    public Span<long> Inputs(int length) => Grow(ref _inputs, length);

    public Span<float> Floats(int length) => Grow(ref _floats, length);

    public Span<long> Sample(int length) => Grow(ref _sample, length);

    public Span<long> Acc(int length) => Grow(ref _acc, length);

    public Span<ulong> Planes(int length) => Grow(ref _planes, length);

    private static Span<T> Grow<T>(ref T[] array, int length)
    {
        if (array.Length < length)
        {
            array = new T[length];
        }

        return array.AsSpan(0, length);
    }
}
