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
/// An instruction whose operands lie outside the machine (<see cref="CompiledProgram.Violations"/>)
/// is planned as if absent: running it faults, and the fault sends the batch back to the reference
/// interpreter.
/// </summary>
internal sealed class BatchPlan
{
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
        foreach (IoPart part in input.Regions.Concat(output.Regions))
        {
            BufferWords[part.Tile] = Math.Max(BufferWords[part.Tile], part.Addr + part.Len);
        }
        for (int s = 0; s < slots; s++)
        {
            DecodedOp[] code = p.Code[s];
            Instruction[] instructions = p.Instructions[s];
            int tile = arch.TileOf(p.CoreIds[s]);
            int high = LocalExtent(p, s);
            for (int pc = 0; pc < instructions.Length; pc++)
            {
                if (p.Violations[s][pc] is not null)
                {
                    continue;
                }

                foreach (MemoryAccess a in MemoryAccesses.Of(instructions[pc]))
                {
                    if (a.Space != MemorySpace.Local)
                    {
                        BufferWords[tile] = Math.Max(BufferWords[tile], (int)a.End);
                    }
                }
            }

            MemWords[s] = high;
            (InitAddrs[s], InitValues[s]) = ReadBeforeWrite(instructions, p.Data[s], high);
            Blocks[s] = PlanBlocks(code, instructions, p.Violations[s], p.Crossbars[s], arch);
        }
    }

    /// <summary>
    /// Words of core slot <paramref name="s"/>'s local memory that its data segments and its
    /// instructions' operands reach (instructions that fault are left out: they touch nothing). A
    /// vlut's table lookup is data-indexed, so it is not counted here.
    /// </summary>
    public static int LocalExtent(CompiledProgram p, int s)
    {
        int high = p.Data[s].Select(d => d.Addr + d.Values.Length).DefaultIfEmpty(0).Max();
        Instruction[] instructions = p.Instructions[s];
        for (int pc = 0; pc < instructions.Length; pc++)
        {
            if (p.Violations[s][pc] is not null)
            {
                continue;
            }

            foreach (MemoryAccess a in MemoryAccesses.Of(instructions[pc]))
            {
                if (a.Space == MemorySpace.Local)
                {
                    high = Math.Max(high, (int)a.End);
                }
            }
        }

        return high;
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

    /// <summary>
    /// Words some instruction may read before any instruction of the core writes them, in program
    /// order, reads before writes within an instruction (conservative for vcopy's and vaxpy's
    /// element order), and data-indexed reads (<see cref="FieldSpec.Gathers"/>, a vlut's table)
    /// reaching every word from their range to the end.
    /// </summary>
    private static (int[] Addrs, long[] Values) ReadBeforeWrite(Instruction[] code, DataSegment[] data, int high)
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

        foreach (Instruction op in code)
        {
            var accesses = MemoryAccesses.Of(op).Where(a => a.Space == MemorySpace.Local && a.End <= high).ToList();
            foreach (MemoryAccess a in accesses.Where(a => a.Reads))
            {
                Read(a.Addr, a.End);
            }

            // Data-indexed reads (a vlut's table entries) may reach any word from the range on.
            foreach ((FieldSpec f, long addr) in op.Spec.Fields.Zip(op.Fields).Where(p => p.First.Gathers is not null))
            {
                Read(addr, high);
            }

            foreach (MemoryAccess a in accesses.Where(a => a.Writes))
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

    /// <summary>
    /// Merges each run of mvms with the same inputs and outputs into a block; singles where a run
    /// cannot merge. An mvm whose operands are out of bounds (<see cref="CompiledProgram.Violations"/>)
    /// ends a run and gets no block. Runs that differ only in their addresses (a convolution's windows)
    /// share their weights.
    /// </summary>
    private static MvmBlock?[] PlanBlocks(DecodedOp[] code, Instruction[] instructions, string?[] violations, CrossbarPlanes?[] crossbars, ArchHeader arch)
    {
        var blocks = new MvmBlock?[code.Length];
        var shared = new Dictionary<MvmRunKey, MvmWeights>();
        int pc = 0;
        while (pc < code.Length)
        {
            if (code[pc].Op != Opcode.Mvm || violations[pc] is not null)
            {
                pc++;
                continue;
            }

            int end = pc + 1;
            while (end < code.Length && code[end].Op == Opcode.Mvm && violations[end] is null && SameVectors(code[pc], code[end]))
            {
                end++;
            }

            blocks[pc] = MvmBlock.TryCreate(code.AsSpan(pc, end - pc), instructions.AsSpan(pc, end - pc), crossbars, arch, shared);
            if (blocks[pc] is null)
            {
                for (int j = pc; j < end; j++)
                {
                    blocks[j] = MvmBlock.TryCreate(code.AsSpan(j, 1), instructions.AsSpan(j, 1), crossbars, arch, shared);
                }
            }

            pc = end;
        }

        return blocks;
    }

    private static bool SameVectors(in DecodedOp a, in DecodedOp b) =>
        a.F1 == b.F1 && a.F2 == b.F2 && a.F3 == b.F3 && a.F4 == b.F4 && a.F5 == b.F5;
}
