using Cimc.Isa;

namespace Cimc.Simulation;

/// <summary>
/// The instructions with more than a line of semantics: mvm, vrequant, vlut, vact. Their operands'
/// bounds are checked before they run (<see cref="CompiledProgram.Violations"/>); what is checked
/// here depends on data (inputs, table indices, parameter blocks).
/// </summary>
internal sealed partial class Machine
{
    private void Mvm(int slot, int pc, in DecodedOp op, long[] mem)
    {
        int xb = (int)op.F0, rows = (int)op.F3, cols = (int)op.F4, ibits = (int)op.F5, shift = (int)op.F6;
        int group = (int)op.F8, ashift = (int)op.F9;
        long src = op.F1, dst = op.F2;
        ArchHeader arch = _p.Arch;
        CrossbarPlanes planes = _p.Crossbars[slot][xb] ?? throw Fault(slot, pc, $"crossbar {xb} of core {_p.CoreIds[slot]} is not programmed in the weight image");
        ReadOnlySpan<long> x = mem.AsSpan((int)src, rows);
        var window = new InputWindow((int)op.F10, ibits, op.F11 != 0);
        if (window.Low != 0 || window.Lower)
        {
            // A window of the input: its bits from bit 0, weighted by shifting the codes ilo further.
            _mvmWindow ??= new long[arch.Rows];
            Span<long> part = _mvmWindow.AsSpan(0, rows);
            x = MvmWindow.Take(x, window, part) is int bad and >= 0 ? throw Fault(slot, pc, $"input mem[{src + bad}] = {x[bad]} is {MvmWindow.Outside(window)}") : part;
            shift += window.Low;
        }
        else if (MvmWindow.FirstOutside(x, ibits) is int bad and >= 0)
        {
            throw Fault(slot, pc, $"input mem[{src + bad}] = {x[bad]} is outside [0, 2^{ibits})");
        }

        Span<long> acc = _mvmAcc.AsSpan(0, cols);
        if (_p.Analog?[slot][xb] is { } analog)
        {
            // Read noise is keyed by which read of this crossbar in the sample this is, not by the
            // instruction index, so that it names the read the way the golden model can (docs/nonidealities.md).
            int occurrence = _analogReads[(slot * arch.CrossbarsPerCore) + xb]++;
            analog.Accumulate(x, ibits, arch.DacBits, arch.AdcBits, shift, group, ashift, acc, _p.Device!, _sample, _p.CoreIds[slot], xb, occurrence, _analogSums, _analogSquares);
        }
        else
        {
            MvmKernel.Accumulate(planes, x, ibits, arch.DacBits, arch.AdcBits, shift, group, ashift, acc, _mvmPlanes);
        }
        Span<long> outputs = mem.AsSpan((int)dst, cols);
        if (op.F7 != 0)
        {
            for (int o = 0; o < cols; o++)
            {
                outputs[o] = unchecked(outputs[o] - acc[o]);
            }
        }
        else
        {
            for (int o = 0; o < cols; o++)
            {
                outputs[o] = unchecked(outputs[o] + acc[o]);
            }
        }

        Touch(slot, dst + cols);
    }

    /// <summary>
    /// v = (x * m_i + (r_i > 0 ? 2^(r_i-1) : 0)) >> r_i exactly in Int128 (floor shift), + zp, clamped to [lo, hi].
    /// Elements are processed in ascending order, reading params for each.
    /// </summary>
    private void VRequant(int slot, int pc, in DecodedOp op, long[] mem)
    {
        long dst = op.F0, src = op.F1, prm = op.F2, len = op.F3;
        for (long i = 0; i < len; i++)
        {
            long zp = mem[prm], lo = mem[prm + 1], hi = mem[prm + 2];
            long m = mem[prm + 3 + (2 * i)], r = mem[prm + 4 + (2 * i)];
            if (m < 0 || r < 0 || r > 126)
            {
                throw Fault(slot, pc, $"element {i}: multiplier {m} must be >= 0 and shift {r} in [0, 126]");
            }

            if (lo > hi)
            {
                throw Fault(slot, pc, $"clamp range [{lo}, {hi}] is empty");
            }

            mem[dst + i] = Requant.Exact(mem[src + i], m, (int)r, zp, lo, hi);
        }

        Touch(slot, dst + len);
    }

    private void VLut(int slot, int pc, in DecodedOp op, long[] mem)
    {
        long dst = op.F0, src = op.F1, table = op.F2, len = op.F3;
        for (long i = 0; i < len; i++)
        {
            long tableBase = mem[table], tableSize = mem[table + 1];
            if (tableSize < 0 || tableSize > mem.Length)
            {
                throw Fault(slot, pc, $"table size {tableSize} is invalid");
            }

            Local(slot, pc, table + 2, tableSize, mem.Length, "table entries");
            long j = unchecked(mem[src + i] - tableBase);
            if (mem[src + i] < tableBase || j >= tableSize)
            {
                throw Fault(slot, pc, $"index mem[{src + i}] = {mem[src + i]} is outside the table [{tableBase}, {tableBase}+{tableSize})");
            }

            mem[dst + i] = mem[table + 2 + j];
        }

        Touch(slot, dst + len);
    }

    /// <summary>The special-function unit (docs/isa.md, vact): elements in ascending order, reading the parameter block for each.</summary>
    private void VAct(int slot, int pc, in DecodedOp op, long[] mem)
    {
        long dst = op.F0, src = op.F1, prm = op.F2, len = op.F3, fn = op.F4;
        if (!SpecialFunction.IsDefined(fn))
        {
            throw Fault(slot, pc, $"function {fn} is not defined (0 sigmoid, 1 tanh, 2 leaky relu)");
        }

        for (long i = 0; i < len; i++)
        {
            var p = ActivationParams.Read(mem.AsSpan((int)prm, ActivationParams.Words));
            if (p.Problem() is { } problem)
            {
                throw Fault(slot, pc, $"parameter block at {prm}: {problem}");
            }

            long t = mem[src + i];
            if (t < 0 || t > p.InputMax)
            {
                throw Fault(slot, pc, $"input mem[{src + i}] = {t} is outside [0, umax_t = {p.InputMax}]");
            }

            mem[dst + i] = SpecialFunction.Evaluate((ActivationFunction)fn, in p, t);
        }

        Touch(slot, dst + len);
    }
}
