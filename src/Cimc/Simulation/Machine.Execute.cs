using Cimc.Isa;

namespace Cimc.Simulation;

/// <summary>The interpreter loop: one case per opcode, each bounds-checked before it touches memory.</summary>
internal sealed partial class Machine
{
    private void Step(int slot)
    {
        DecodedOp[] code = _p.Code[slot];
        long[] mem = _mem[slot];
        int size = mem.Length;
        int core = _p.CoreIds[slot];
        int pc = _pc[slot];
        while (true)
        {
            if ((uint)pc >= (uint)code.Length)
            {
                throw Fault(slot, pc, $"ran past the end of its {code.Length} instructions without halt");
            }

            if (++_executed > _p.InstructionLimit)
            {
                throw new Cimc.Diagnostics.CimcException("simulation-limit", $"core {core} pc {pc}",
                    $"more than {_p.InstructionLimit} instructions executed in one sample");
            }

            ref readonly DecodedOp op = ref code[pc];
            switch (op.Op)
            {
                case Opcode.Nop:
                    break;
                case Opcode.Halt:
                    _pc[slot] = pc;
                    _state[slot] = CoreState.Halted;
                    return;
                case Opcode.Load:
                    {
                        int tile = _p.Arch.TileOf(core);
                        long[] buffer = Buffer(tile);
                        Local(slot, pc, op.F0, op.F2, size, "dst");
                        Remote(slot, pc, op.F1, op.F2, buffer.Length, "src");
                        buffer.AsSpan((int)op.F1, (int)op.F2).CopyTo(mem.AsSpan((int)op.F0));
                        Touch(slot, op.F0 + op.F2);
                        break;
                    }

                case Opcode.Store:
                    {
                        int tile = _p.Arch.TileOf(core);
                        long[] buffer = Buffer(tile);
                        Remote(slot, pc, op.F0, op.F2, buffer.Length, "dst");
                        Local(slot, pc, op.F1, op.F2, size, "src");
                        mem.AsSpan((int)op.F1, (int)op.F2).CopyTo(buffer.AsSpan((int)op.F0));
                        TouchBuffer(tile, op.F0 + op.F2);
                        break;
                    }

                case Opcode.Set:
                    Local(slot, pc, op.F0, 1, size, "dst");
                    mem[op.F0] = op.F1;
                    Touch(slot, op.F0 + 1);
                    break;
                case Opcode.Mvm:
                    Mvm(slot, pc, in op, mem);
                    break;
                case Opcode.VClear:
                    Local(slot, pc, op.F0, op.F1, size, "dst");
                    mem.AsSpan((int)op.F0, (int)op.F1).Clear();
                    Touch(slot, op.F0 + op.F1);
                    break;
                case Opcode.VCopy:
                    {
                        Local(slot, pc, op.F0, op.F2, size, "dst");
                        Local(slot, pc, op.F1, op.F2, size, "src");
                        long dst = op.F0, src = op.F1;
                        for (long i = 0; i < op.F2; i++)
                        {
                            mem[dst + i] = mem[src + i];
                        }

                        Touch(slot, dst + op.F2);
                        break;
                    }

                case Opcode.VAdd:
                    {
                        long dst = op.F0, a = op.F1, b = op.F2, len = op.F3;
                        Local(slot, pc, dst, len, size, "dst");
                        Local(slot, pc, a, len, size, "a");
                        Local(slot, pc, b, len, size, "b");
                        for (long i = 0; i < len; i++)
                        {
                            mem[dst + i] = unchecked(mem[a + i] + mem[b + i]);
                        }

                        Touch(slot, dst + len);
                        break;
                    }

                case Opcode.VSum:
                    {
                        Local(slot, pc, op.F0, 1, size, "dst");
                        Local(slot, pc, op.F1, op.F2, size, "src");
                        long sum = 0;
                        foreach (long v in mem.AsSpan((int)op.F1, (int)op.F2))
                        {
                            sum = unchecked(sum + v);
                        }

                        mem[op.F0] = sum;
                        Touch(slot, op.F0 + 1);
                        break;
                    }

                case Opcode.VAxpy:
                    {
                        long dst = op.F0, s = op.F1, imm = op.F2, len = op.F3;
                        Local(slot, pc, dst, len, size, "dst");
                        Local(slot, pc, s, 1, size, "s");
                        for (long i = 0; i < len; i++)
                        {
                            // mem[s] is read for every i: dst may cover s (ascending order is the definition).
                            mem[dst + i] = unchecked(mem[dst + i] + imm * mem[s]);
                        }

                        Touch(slot, dst + len);
                        break;
                    }

                case Opcode.VMax:
                    {
                        long dst = op.F0, src = op.F1, imm = op.F2, len = op.F3;
                        Local(slot, pc, dst, len, size, "dst");
                        Local(slot, pc, src, len, size, "src");
                        for (long i = 0; i < len; i++)
                        {
                            mem[dst + i] = Math.Max(mem[src + i], imm);
                        }

                        Touch(slot, dst + len);
                        break;
                    }

                case Opcode.VRequant:
                    VRequant(slot, pc, in op, mem);
                    break;
                case Opcode.VLut:
                    VLut(slot, pc, in op, mem);
                    break;
                case Opcode.VAct:
                    VAct(slot, pc, in op, mem);
                    break;
                case Opcode.Send:
                    {
                        long to = op.F0, src = op.F1, len = op.F2, tag = op.F3;
                        if (to >= _p.Arch.TotalCores)
                        {
                            throw Fault(slot, pc, $"core {to} does not exist (the chip has {_p.Arch.TotalCores})");
                        }

                        Local(slot, pc, src, len, size, "src");
                        long key = ChannelKey(core, to, tag);
                        if (!_channels.TryGetValue(key, out Queue<long[]>? queue))
                        {
                            _channels[key] = queue = new Queue<long[]>();
                        }

                        queue.Enqueue(mem.AsSpan((int)src, (int)len).ToArray());
                        break;
                    }

                case Opcode.Recv:
                    {
                        long from = op.F0, dst = op.F1, len = op.F2, tag = op.F3;
                        if (from >= _p.Arch.TotalCores)
                        {
                            throw Fault(slot, pc, $"core {from} does not exist (the chip has {_p.Arch.TotalCores})");
                        }

                        if (!_channels.TryGetValue(ChannelKey(from, core, tag), out Queue<long[]>? queue) || queue.Count == 0)
                        {
                            _executed--; // a blocked recv has not executed yet
                            _pc[slot] = pc;
                            _state[slot] = CoreState.Blocked;
                            return;
                        }

                        long[] message = queue.Peek();
                        if (message.Length != len)
                        {
                            throw Fault(slot, pc, $"message from core {from} tag {tag} has {message.Length} words, recv expects {len}");
                        }

                        Local(slot, pc, dst, len, size, "dst");
                        queue.Dequeue();
                        message.CopyTo(mem.AsSpan((int)dst));
                        Touch(slot, dst + len);
                        break;
                    }

                default:
                    throw new InvalidOperationException($"simulator: no case for opcode {op.Op}");
            }

            pc++;
            _state[slot] = CoreState.Ready;
        }
    }

    private void Local(int slot, int pc, long addr, long len, int size, string field)
    {
        if (addr + len > size)
        {
            throw Fault(slot, pc, $"{field} range [{addr}, {addr + len}) is outside local memory of {size} words");
        }
    }

    private void Remote(int slot, int pc, long addr, long len, int size, string field)
    {
        if (addr + len > size)
        {
            throw Fault(slot, pc, $"{field} range [{addr}, {addr + len}) is outside the tile buffer of {size} words");
        }
    }
}
