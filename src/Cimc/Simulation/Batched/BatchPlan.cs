using Cimc.Isa;

namespace Cimc.Simulation.Batched;

/// <summary>
/// What the batched machine needs to know about a program before running it, found once per
/// simulator. Programs are straight-line code whose addresses are all in the instructions, so
/// every sample executes the same instruction sequence and touches the same words:
/// - the words each core and tile buffer can touch (<see cref="MemWords"/>, <see cref="BufferWords"/>),
///   so a batch's memory is sized by the program rather than by the chip;
/// - the words whose initial value (zero or a data segment) can be read before the program writes
///   them (<see cref="InitAddrs"/>): only these are reset between batches;
/// - runs of mvm instructions merged into <see cref="MvmBlock"/>s.
/// An instruction whose ranges lie outside memory is planned as if absent: running it faults, and
/// the fault sends the batch back to the reference interpreter.
/// </summary>
internal sealed class BatchPlan
{
    private enum Access : byte
    {
        Read,
        Write,
        ReadWrite,
    }

    public BatchPlan(CompiledProgram p)
    {
        ArchHeader arch = p.Arch;
        int slots = p.SlotCount;
        MemWords = new int[slots];
        InitAddrs = new int[slots][];
        InitValues = new long[slots][];
        Blocks = new MvmBlock?[slots][];
        BufferWords = new int[arch.Tiles];
        InputSpec input = p.Program.Input;
        OutputSpec output = p.Program.Output;
        BufferWords[input.Tile] = input.Addr + input.Len;
        BufferWords[output.Tile] = Math.Max(BufferWords[output.Tile], output.Addr + output.Len);
        for (int s = 0; s < slots; s++)
        {
            DecodedOp[] code = p.Code[s];
            int tile = arch.TileOf(p.CoreIds[s]);
            int high = p.Data[s].Select(d => d.Addr + d.Values.Length).DefaultIfEmpty(0).Max();
            foreach (DecodedOp op in code)
            {
                foreach ((bool local, long addr, long len, _) in Accesses(op))
                {
                    if (local && addr + len <= arch.LocalWords)
                    {
                        high = Math.Max(high, (int)(addr + len));
                    }
                    else if (!local && addr + len <= arch.BufferWords)
                    {
                        BufferWords[tile] = Math.Max(BufferWords[tile], (int)(addr + len));
                    }
                }
            }

            MemWords[s] = high;
            (InitAddrs[s], InitValues[s]) = ReadBeforeWrite(code, p.Data[s], high);
            Blocks[s] = PlanBlocks(code, p.Crossbars[s], arch);
        }
    }

    /// <summary>Words of each core's memory the program can touch.</summary>
    public int[] MemWords { get; }

    /// <summary>Words of each tile's buffer the program and the host can touch.</summary>
    public int[] BufferWords { get; }

    /// <summary>Per core, the addresses to reset before each batch, with their initial values.</summary>
    public int[][] InitAddrs { get; }

    public long[][] InitValues { get; }

    /// <summary>Per core and pc, the mvm block starting there (null elsewhere, and for mvms that fault).</summary>
    public MvmBlock?[][] Blocks { get; }

    /// <summary>The ranges an instruction reads and writes (local memory or the tile buffer), table order.</summary>
    private static IEnumerable<(bool Local, long Addr, long Len, Access Access)> Accesses(DecodedOp op)
    {
        switch (op.Op)
        {
            case Opcode.Load:
                yield return (false, op.F1, op.F2, Access.Read);
                yield return (true, op.F0, op.F2, Access.Write);
                break;
            case Opcode.Store:
                yield return (true, op.F1, op.F2, Access.Read);
                yield return (false, op.F0, op.F2, Access.Write);
                break;
            case Opcode.Set:
                yield return (true, op.F0, 1, Access.Write);
                break;
            case Opcode.Mvm:
                yield return (true, op.F1, op.F3, Access.Read);
                yield return (true, op.F2, op.F4, Access.ReadWrite);
                break;
            case Opcode.VClear:
                yield return (true, op.F0, op.F1, Access.Write);
                break;
            case Opcode.VCopy:
            case Opcode.VSum:
            case Opcode.VMax:
                yield return (true, op.F1, op.Op == Opcode.VMax ? op.F3 : op.F2, Access.Read);
                yield return (true, op.F0, op.Op switch { Opcode.VSum => 1, Opcode.VMax => op.F3, _ => op.F2 }, Access.Write);
                break;
            case Opcode.VAdd:
                yield return (true, op.F1, op.F3, Access.Read);
                yield return (true, op.F2, op.F3, Access.Read);
                yield return (true, op.F0, op.F3, Access.Write);
                break;
            case Opcode.VAxpy:
                yield return (true, op.F1, 1, Access.Read);
                yield return (true, op.F0, op.F3, Access.ReadWrite);
                break;
            case Opcode.VRequant:
                yield return (true, op.F1, op.F3, Access.Read);
                yield return (true, op.F2, 3 + (2 * op.F3), Access.Read);
                yield return (true, op.F0, op.F3, Access.Write);
                break;
            case Opcode.VAct:
                yield return (true, op.F1, op.F3, Access.Read);
                yield return (true, op.F2, ActivationParams.Words, Access.Read);
                yield return (true, op.F0, op.F3, Access.Write);
                break;
            case Opcode.VLut:
                // The entries' extent is data (mem[table+1]); ReadBeforeWrite treats them separately.
                yield return (true, op.F1, op.F3, Access.Read);
                yield return (true, op.F2, 2, Access.Read);
                yield return (true, op.F0, op.F3, Access.Write);
                break;
            case Opcode.Send:
                yield return (true, op.F1, op.F2, Access.Read);
                break;
            case Opcode.Recv:
                yield return (true, op.F1, op.F2, Access.Write);
                break;
        }
    }

    /// <summary>
    /// Words some instruction may read before any instruction of the core writes them, in program
    /// order, reads before writes within an instruction (conservative for vcopy's and vaxpy's
    /// element order), and a vlut reading every word from its table to the end.
    /// </summary>
    private static (int[] Addrs, long[] Values) ReadBeforeWrite(DecodedOp[] code, DataSegment[] data, int high)
    {
        var written = new bool[high];
        var needed = new bool[high];
        void Read(long addr, long end)
        {
            for (long a = addr; a < Math.Min(end, high); a++)
            {
                needed[a] |= !written[a];
            }
        }

        foreach (DecodedOp op in code)
        {
            var accesses = Accesses(op).Where(a => a.Local && a.Addr + a.Len <= high).ToList();
            foreach (var a in accesses.Where(a => a.Access != Access.Write))
            {
                Read(a.Addr, a.Addr + a.Len);
            }

            if (op.Op == Opcode.VLut)
            {
                Read(op.F2, high);
            }

            foreach (var a in accesses.Where(a => a.Access != Access.Read))
            {
                Array.Fill(written, true, (int)a.Addr, (int)a.Len);
            }
        }

        var image = new long[high];
        foreach (DataSegment segment in data)
        {
            segment.Values.AsSpan().CopyTo(image.AsSpan(segment.Addr));
        }

        int[] addrs = [.. Enumerable.Range(0, high).Where(a => needed[a])];
        return (addrs, [.. addrs.Select(a => image[a])]);
    }

    /// <summary>Merges each run of mvms with the same inputs and outputs into a block; singles where a run cannot merge.</summary>
    private static MvmBlock?[] PlanBlocks(DecodedOp[] code, CrossbarPlanes?[] crossbars, ArchHeader arch)
    {
        var blocks = new MvmBlock?[code.Length];
        int pc = 0;
        while (pc < code.Length)
        {
            if (code[pc].Op != Opcode.Mvm)
            {
                pc++;
                continue;
            }

            int end = pc + 1;
            while (end < code.Length && code[end].Op == Opcode.Mvm && SameVectors(code[pc], code[end]))
            {
                end++;
            }

            blocks[pc] = MvmBlock.TryCreate(code.AsSpan(pc, end - pc), crossbars, arch);
            if (blocks[pc] is null)
            {
                for (int j = pc; j < end; j++)
                {
                    blocks[j] = MvmBlock.TryCreate(code.AsSpan(j, 1), crossbars, arch);
                }
            }

            pc = end;
        }

        return blocks;
    }

    private static bool SameVectors(in DecodedOp a, in DecodedOp b) =>
        a.F1 == b.F1 && a.F2 == b.F2 && a.F3 == b.F3 && a.F4 == b.F4 && a.F5 == b.F5;
}
