using System.Buffers;
using System.Numerics;
using Cimc.Isa;

namespace Cimc.Simulation.Batched;

/// <summary>
/// The batched interpreter loop: each case applies docs/isa.md's definition to every sample. Element
/// loops keep the reference's ascending order one row (one address, all samples) at a time, so
/// overlapping ranges behave as they do per sample.
/// </summary>
internal sealed partial class BatchMachine
{
    private protected override void Step(int slot)
    {
        DecodedOp[] code = _p.Code[slot];
        MvmBlock?[] blocks = _plan.Blocks[slot];
        string?[] violations = _p.Violations[slot];
        int core = _p.CoreIds[slot];
        int n = _n;
        int pc = _pc[slot];
        while (true)
        {
            if ((uint)pc >= (uint)code.Length)
            {
                throw new BatchFallbackException("ran past the end of the code");
            }

            if (++_executed > _p.InstructionLimit)
            {
                throw new BatchFallbackException("instruction limit");
            }

            if (violations[pc] is not null)
            {
                throw new BatchFallbackException("operand out of bounds"); // the reference interpreter reports it
            }

            ref readonly DecodedOp op = ref code[pc];
            switch (op.Op)
            {
                case Opcode.Nop:
                    break;
                case Opcode.Halt:
                    Halt(slot, pc);
                    return;
                case Opcode.Load:
                    BufferRows(_p.Arch.TileOf(core), op.F1, op.F2).CopyTo(Rows(slot, op.F0, op.F2));
                    break;
                case Opcode.Store:
                    Rows(slot, op.F1, op.F2).CopyTo(BufferRows(_p.Arch.TileOf(core), op.F0, op.F2));
                    break;
                case Opcode.Set:
                    Rows(slot, op.F0, 1).Fill(op.F1);
                    break;
                case Opcode.Mvm:
                    {
                        MvmBlock block = blocks[pc] ?? throw new BatchFallbackException("mvm fault");
                        block.Execute(_mem[slot].AsSpan(0, _plan.MemWords[slot] * n), n, _p.Arch.AdcBits, _scratch);
                        _executed += block.Count - 1;
                        pc += block.Count - 1;
                        break;
                    }

                case Opcode.VClear:
                    Rows(slot, op.F0, op.F1).Clear();
                    break;
                case Opcode.VCopy:
                    Rows(slot, op.F0, op.F2);
                    Rows(slot, op.F1, op.F2);
                    for (long i = 0; i < op.F2; i++)
                    {
                        Rows(slot, op.F1 + i, 1).CopyTo(Rows(slot, op.F0 + i, 1));
                    }

                    break;
                case Opcode.VAdd:
                    if (n >= Vector<long>.Count)
                    {
                        // One pass over the tiles in address order: a vector then spans at most two
                        // rows and never two elements of one sample, so every element still reads
                        // what the per-sample loop would have written before it.
                        Add(Rows(slot, op.F1, op.F3), Rows(slot, op.F2, op.F3), Rows(slot, op.F0, op.F3));
                        break;
                    }

                    Rows(slot, op.F0, op.F3);
                    Rows(slot, op.F1, op.F3);
                    Rows(slot, op.F2, op.F3);
                    for (long i = 0; i < op.F3; i++)
                    {
                        Add(Rows(slot, op.F1 + i, 1), Rows(slot, op.F2 + i, 1), Rows(slot, op.F0 + i, 1));
                    }

                    break;
                case Opcode.VSum:
                    VSum(slot, in op);
                    break;
                case Opcode.VAxpy:
                    {
                        // Spans of the same array: a write to the s row shows in the later rows' reads.
                        Span<long> dsts = Rows(slot, op.F0, op.F3), s = Rows(slot, op.F1, 1);
                        for (int i = 0; i < op.F3; i++)
                        {
                            Axpy(op.F2, s, dsts.Slice(i * n, n));
                        }

                        break;
                    }

                case Opcode.VMaxV:
                    Rows(slot, op.F0, op.F3);
                    Rows(slot, op.F1, op.F3);
                    Rows(slot, op.F2, op.F3);
                    for (long i = 0; i < op.F3; i++)
                    {
                        MaxOf(Rows(slot, op.F1 + i, 1), Rows(slot, op.F2 + i, 1), Rows(slot, op.F0 + i, 1));
                    }

                    break;
                case Opcode.VMax:
                    Rows(slot, op.F0, op.F3);
                    Rows(slot, op.F1, op.F3);
                    for (long i = 0; i < op.F3; i++)
                    {
                        Max(Rows(slot, op.F1 + i, 1), op.F2, Rows(slot, op.F0 + i, 1));
                    }

                    break;
                case Opcode.VRequant:
                    VRequant(slot, in op);
                    break;
                case Opcode.VLut:
                    VLut(slot, in op);
                    break;
                case Opcode.VAct:
                    VAct(slot, in op);
                    break;
                case Opcode.Send:
                    {
                        long key = ChannelKey(core, op.F0, op.F3);
                        if (!_channels.TryGetValue(key, out Queue<(long[], int)>? queue))
                        {
                            _channels[key] = queue = new Queue<(long[], int)>();
                        }

                        // Messages are [len x n] tiles: pooled, as allocating them measured slower than the copy.
                        Span<long> rows = Rows(slot, op.F1, op.F2);
                        if (queue.Count == 0 && TryDeliver(core, in op, rows))
                        {
                            break;
                        }

                        long[] message = ArrayPool<long>.Shared.Rent(rows.Length);
                        rows.CopyTo(message);
                        queue.Enqueue((message, rows.Length));
                        break;
                    }

                case Opcode.Recv:
                    {
                        if (!_channels.TryGetValue(ChannelKey(op.F0, core, op.F3), out Queue<(long[], int)>? queue) || queue.Count == 0)
                        {
                            Block(slot, pc);
                            return;
                        }

                        if (queue.Peek().Item2 != op.F2 * n)
                        {
                            throw new BatchFallbackException("message length");
                        }

                        (long[] message, int length) = queue.Dequeue();
                        message.AsSpan(0, length).CopyTo(Rows(slot, op.F1, op.F2));
                        ArrayPool<long>.Shared.Return(message);
                        break;
                    }

                default:
                    throw new InvalidOperationException($"batched simulator: no case for opcode {op.Op}");
            }

            pc++;
            _state[slot] = CoreState.Ready;
        }
    }

    /// <summary>
    /// When the receiver is blocked on this very channel (empty), runs its recv now, copying the
    /// message straight into its memory: the same result as queueing a copy and copying it again at
    /// the receiver's turn, since only the receiver writes its memory and it is waiting, but one copy
    /// of the tile instead of two.
    /// </summary>
    private bool TryDeliver(int from, in DecodedOp send, Span<long> rows)
    {
        int r = _p.SlotOfCore[send.F0]; // F0 < TotalCores: the send passed its operand checks
        if (r < 0 || _state[r] != CoreState.Blocked)
        {
            return false;
        }

        ref readonly DecodedOp recv = ref _p.Code[r][_pc[r]];
        if (recv.Op != Opcode.Recv || recv.F0 != from || recv.F3 != send.F3)
        {
            return false;
        }

        if (recv.F2 * _n != rows.Length)
        {
            throw new BatchFallbackException("message length");
        }

        if (++_executed > _p.InstructionLimit)
        {
            throw new BatchFallbackException("instruction limit");
        }

        rows.CopyTo(Rows(r, recv.F1, recv.F2));
        _pc[r]++;
        _state[r] = CoreState.Ready;
        return true;
    }

    private static void Add(ReadOnlySpan<long> a, ReadOnlySpan<long> b, Span<long> dst)
    {
        int i = 0;
        for (; i + Vector<long>.Count <= dst.Length; i += Vector<long>.Count)
        {
            (new Vector<long>(a[i..]) + new Vector<long>(b[i..])).CopyTo(dst[i..]);
        }

        for (; i < dst.Length; i++)
        {
            dst[i] = unchecked(a[i] + b[i]);
        }
    }

    private static void Axpy(long imm, ReadOnlySpan<long> s, Span<long> dst)
    {
        int i = 0;
        var vimm = new Vector<long>(imm);
        for (; i + Vector<long>.Count <= dst.Length; i += Vector<long>.Count)
        {
            (new Vector<long>(dst[i..]) + (vimm * new Vector<long>(s[i..]))).CopyTo(dst[i..]);
        }

        for (; i < dst.Length; i++)
        {
            dst[i] = unchecked(dst[i] + (imm * s[i]));
        }
    }

    private static void MaxOf(ReadOnlySpan<long> a, ReadOnlySpan<long> b, Span<long> dst)
    {
        for (int i = 0; i < dst.Length; i++)
        {
            dst[i] = Math.Max(a[i], b[i]);
        }
    }

    private static void Max(ReadOnlySpan<long> src, long imm, Span<long> dst)
    {
        for (int i = 0; i < dst.Length; i++)
        {
            dst[i] = Math.Max(src[i], imm);
        }
    }

    private void VSum(int slot, in DecodedOp op)
    {
        Span<long> dst = Rows(slot, op.F0, 1);
        Span<long> src = Rows(slot, op.F1, op.F2);
        int n = _n, rows = (int)op.F2;

        // Column chunks summed in a register over all rows, then stored: one pass over the sources
        // instead of a read and write of a running sum per row. dst may be one of the rows; each
        // chunk reads all its sources before it writes.
        int j = 0;
        for (; j + Vector<long>.Count <= n; j += Vector<long>.Count)
        {
            Vector<long> sum = Vector<long>.Zero;
            for (int i = 0; i < rows; i++)
            {
                sum += new Vector<long>(src[((i * n) + j)..]);
            }

            sum.CopyTo(dst[j..]);
        }

        for (; j < n; j++)
        {
            long sum = 0;
            for (int i = 0; i < rows; i++)
            {
                sum = unchecked(sum + src[(i * n) + j]);
            }

            dst[j] = sum;
        }
    }
}
