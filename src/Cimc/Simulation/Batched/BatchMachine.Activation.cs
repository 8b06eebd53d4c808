using Cimc.Isa;

namespace Cimc.Simulation.Batched;

/// <summary>
/// vact over a batch. The compiler's parameter block is the same for every sample (a data
/// segment), so it is read and checked once per instruction; codes then repeat across samples
/// and elements (256 values at 8 bits), so results are memoized per code for the instruction when
/// that saves evaluations. Anything else (per-sample blocks, a write into the block) takes the
/// element-by-element loop that reads the block for every element, as the reference does.
/// </summary>
internal sealed partial class BatchMachine
{
    private long[] _actMemo = [];

    private void VAct(int slot, in DecodedOp op)
    {
        long dst = op.F0, src = op.F1, prm = op.F2, len = op.F3;
        int n = _n;
        Span<long> ys = Rows(slot, dst, len), xs = Rows(slot, src, len), block = Rows(slot, prm, ActivationParams.Words);
        if (!SpecialFunction.IsDefined(op.F4))
        {
            throw new BatchFallbackException("vact function");
        }

        var fn = (ActivationFunction)op.F4;
        bool shared = dst + len <= prm || prm + ActivationParams.Words <= dst;
        Span<long> words = stackalloc long[ActivationParams.Words];
        for (int k = 0; k < words.Length && shared; k++)
        {
            words[k] = block[k * n];
            shared = Uniform(block.Slice(k * n, n));
        }

        if (!shared)
        {
            VActPerSample(slot, in op, fn);
            return;
        }

        var p = ActivationParams.Read(words);
        if (p.Problem() is not null)
        {
            throw new BatchFallbackException("vact parameters");
        }

        long count = len * n;
        bool memo = p.InputMax < count / 4;
        if (memo)
        {
            if (_actMemo.Length <= p.InputMax)
            {
                _actMemo = new long[p.InputMax + 1];
            }

            _actMemo.AsSpan(0, (int)p.InputMax + 1).Fill(-1);
        }

        // dst and src may overlap (in place is the compiler's habit): element i reads only x[i] before writing y[i].
        for (int e = 0; e < xs.Length; e++)
        {
            long t = xs[e];
            if ((ulong)t > (ulong)p.InputMax)
            {
                throw new BatchFallbackException("vact input code");
            }

            if (!memo)
            {
                ys[e] = SpecialFunction.Evaluate(fn, in p, t);
                continue;
            }

            ref long m = ref _actMemo[t];
            if (m < 0)
            {
                m = SpecialFunction.Evaluate(fn, in p, t);
            }

            ys[e] = m;
        }
    }

    /// <summary>The reference's order exactly: per element, per sample, the block read each time.</summary>
    private void VActPerSample(int slot, in DecodedOp op, ActivationFunction fn)
    {
        long dst = op.F0, src = op.F1, prm = op.F2, len = op.F3;
        int n = _n;
        long[] mem = _mem[slot];
        Span<long> words = stackalloc long[ActivationParams.Words];
        for (long i = 0; i < len; i++)
        {
            for (int b = 0; b < n; b++)
            {
                for (int k = 0; k < words.Length; k++)
                {
                    words[k] = mem[((prm + k) * n) + b];
                }

                var p = ActivationParams.Read(words);
                long t = mem[((src + i) * n) + b];
                if (p.Problem() is not null || (ulong)t > (ulong)p.InputMax)
                {
                    throw new BatchFallbackException("vact parameters or input");
                }

                mem[((dst + i) * n) + b] = SpecialFunction.Evaluate(fn, in p, t);
            }
        }
    }
}
