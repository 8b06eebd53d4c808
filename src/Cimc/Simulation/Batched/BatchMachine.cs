using Cimc.Isa;

namespace Cimc.Simulation.Batched;

/// <summary>
/// Runs a program for a batch of n samples at once. Programs have no data-dependent control flow,
/// so every sample executes the same instruction sequence and the cores interleave the same way;
/// each instruction is executed over a [len x n] tile of memory, word a of sample b at a*n + b
/// (address-major, so a vector instruction is a loop over contiguous rows and an mvm's inputs are
/// a matrix ready for a GEMM). The scheduler is the reference's round-robin. Anything the
/// reference would report as an error (a fault, a deadlock, the instruction limit) throws
/// <see cref="BatchFallbackException"/> instead, and the caller reruns the batch on the reference
/// (<see cref="Machine"/>), which stays the definition of every instruction.
/// </summary>
internal sealed partial class BatchMachine : CoreScheduler
{
    private readonly BatchPlan _plan;
    private readonly long[][] _mem;
    private readonly long[][] _buffers;
    private readonly Dictionary<long, Queue<(long[] Message, int Length)>> _channels = [];
    private readonly BatchScratch _scratch = new();
    private long[] _inputScratch = [];
    private int _n;

    public BatchMachine(CompiledProgram program, BatchPlan plan, int capacity)
        : base(program)
    {
        _plan = plan;
        Capacity = capacity;
        _mem = [.. plan.MemWords.Select(w => new long[(long)w * capacity])];
        _buffers = [.. plan.BufferWords.Select(w => new long[(long)w * capacity])];
    }

    /// <summary>A work buffer for a batch's input codes, reused across batches (its contents are the caller's).</summary>
    public Span<long> InputScratch(int length)
    {
        if (_inputScratch.Length < length)
        {
            _inputScratch = new long[length];
        }

        return _inputScratch.AsSpan(0, length);
    }

    /// <summary>The largest batch this machine holds.</summary>
    public int Capacity { get; }

    /// <summary>
    /// Runs n samples: inputs are n rows of .input len codes, outputs receives n rows of .output len
    /// codes. Throws <see cref="BatchFallbackException"/> where the reference would report an error.
    /// </summary>
    public void Run(ReadOnlySpan<long> inputs, int n, Span<long> outputs)
    {
        if (n < 1 || n > Capacity)
        {
            throw new ArgumentOutOfRangeException(nameof(n), n, $"a batch holds 1 to {Capacity} samples");
        }

        _n = n;
        Reset();
        InputSpec input = _p.Program.Input;
        foreach (IoPart part in input.Regions)
        {
            Transpose(inputs, n, input.Len, part.Start, part.Len, _buffers[part.Tile].AsSpan(part.Addr * n, part.Len * n));
        }

        Schedule();
        OutputSpec output = _p.Program.Output;
        foreach (IoPart part in output.Regions)
        {
            long[] outBuffer = _buffers[part.Tile];
            for (int b = 0; b < n; b++)
            {
                for (int o = 0; o < part.Len; o++)
                {
                    outputs[(b * output.Len) + part.Start + o] = outBuffer[((part.Addr + o) * n) + b];
                }
            }
        }
    }

    /// <summary>
    /// dst[i*n + b] = src[b*stride + start + i] for i in [0, len). Four samples at a time, so each store fills 32 contiguous
    /// bytes of a row and the four source rows stream; one sample at a time, every store touched
    /// a different cache line, and the input's transpose cost as much as a layer's GEMM.
    /// </summary>
    private static void Transpose(ReadOnlySpan<long> src, int n, int stride, int start, int len, Span<long> dst)
    {
        int b = 0;
        for (; b + 4 <= n; b += 4)
        {
            ReadOnlySpan<long> s0 = src.Slice((b * stride) + start, len), s1 = src.Slice(((b + 1) * stride) + start, len);
            ReadOnlySpan<long> s2 = src.Slice(((b + 2) * stride) + start, len), s3 = src.Slice(((b + 3) * stride) + start, len);
            for (int i = 0; i < len; i++)
            {
                Span<long> d = dst.Slice((i * n) + b, 4);
                d[0] = s0[i];
                d[1] = s1[i];
                d[2] = s2[i];
                d[3] = s3[i];
            }
        }

        for (; b < n; b++)
        {
            for (int i = 0; i < len; i++)
            {
                dst[(i * n) + b] = src[(b * stride) + start + i];
            }
        }
    }

    private void Reset()
    {
        int n = _n;
        ResetCores();
        _channels.Clear();
        for (int s = 0; s < _mem.Length; s++)
        {
            // Only words the program can read before writing need their initial value.
            int[] addrs = _plan.InitAddrs[s];
            long[] values = _plan.InitValues[s];
            for (int j = 0; j < addrs.Length; j++)
            {
                _mem[s].AsSpan(addrs[j] * n, n).Fill(values[j]);
            }
        }

        // The input's words are overwritten by the inputs next, so only the rest is cleared (a split input's tiles are cleared whole).
        InputSpec input = _p.Program.Input;
        for (int t = 0; t < _buffers.Length; t++)
        {
            Span<long> words = _buffers[t].AsSpan(0, _plan.BufferWords[t] * n);
            if (t == input.Tile && input.Parts.IsEmpty)
            {
                words[..(input.Addr * n)].Clear();
                words[((input.Addr + input.Len) * n)..].Clear();
            }
            else
            {
                words.Clear();
            }
        }
    }

    private protected override BatchFallbackException Deadlock() => new("deadlock");

    /// <summary>The rows [addr, addr+len) of core memory, all samples; outside the planned words is a fault.</summary>
    private Span<long> Rows(int slot, long addr, long len)
    {
        if (addr + len > _plan.MemWords[slot])
        {
            throw new BatchFallbackException("local memory range");
        }

        return _mem[slot].AsSpan((int)(addr * _n), (int)(len * _n));
    }

    private Span<long> BufferRows(int tile, long addr, long len)
    {
        if (addr + len > _plan.BufferWords[tile])
        {
            throw new BatchFallbackException("tile buffer range");
        }

        return _buffers[tile].AsSpan((int)(addr * _n), (int)(len * _n));
    }
}
