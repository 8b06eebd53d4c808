using Cimc.Isa;

namespace Cimc.Simulation;

/// <summary>
/// The interpreter loop: one case per opcode. Operand bounds come from the ISA table
/// (<see cref="CompiledProgram.Violations"/>) and are checked before any case touches memory.
/// </summary>
internal sealed partial class Machine
{
    private protected override void Step(int slot)
    {
        DecodedOp[] code = _p.Code[slot];
        string?[] violations = _p.Violations[slot];
        long[] mem = _mem[slot];
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

            if (violations[pc] is { } violation)
            {
                throw Fault(slot, pc, violation);
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
                    {
                        int tile = _p.Arch.TileOf(core);
                        long[] buffer = Buffer(tile);
                        buffer.AsSpan((int)op.F1, (int)op.F2).CopyTo(mem.AsSpan((int)op.F0));
                        Touch(slot, op.F0 + op.F2);
                        break;
                    }

                case Opcode.Store:
                    {
                        int tile = _p.Arch.TileOf(core);
                        long[] buffer = Buffer(tile);
                        mem.AsSpan((int)op.F1, (int)op.F2).CopyTo(buffer.AsSpan((int)op.F0));
                        TouchBuffer(tile, op.F0 + op.F2);
                        break;
                    }

                case Opcode.Set:
                    mem[op.F0] = op.F1;
                    Touch(slot, op.F0 + 1);
                    break;
                case Opcode.Mvm:
                    Mvm(slot, pc, in op, mem);
                    break;
                case Opcode.VClear:
                    mem.AsSpan((int)op.F0, (int)op.F1).Clear();
                    Touch(slot, op.F0 + op.F1);
                    break;
                case Opcode.VCopy:
                    {
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
                        for (long i = 0; i < len; i++)
                        {
                            mem[dst + i] = unchecked(mem[a + i] + mem[b + i]);
                        }

                        Touch(slot, dst + len);
                        break;
                    }

                case Opcode.VSum:
                    {
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
                        for (long i = 0; i < len; i++)
                        {
                            // mem[s] is read for every i: dst may cover s (ascending order is the definition).
                            mem[dst + i] = unchecked(mem[dst + i] + imm * mem[s]);
                        }

                        Touch(slot, dst + len);
                        break;
                    }

                case Opcode.VMaxV:
                    {
                        long dst = op.F0, a = op.F1, b = op.F2, len = op.F3;
                        for (long i = 0; i < len; i++)
                        {
                            mem[dst + i] = Math.Max(mem[a + i], mem[b + i]);
                        }

                        Touch(slot, dst + len);
                        break;
                    }

                case Opcode.VMax:
                    {
                        long dst = op.F0, src = op.F1, imm = op.F2, len = op.F3;
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
                        if (!_channels.TryGetValue(ChannelKey(from, core, tag), out Queue<long[]>? queue) || queue.Count == 0)
                        {
                            Block(slot, pc);
                            return;
                        }

                        long[] message = queue.Peek();
                        if (message.Length != len)
                        {
                            throw Fault(slot, pc, $"message from core {from} tag {tag} has {message.Length} words, recv expects {len}");
                        }

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
}
