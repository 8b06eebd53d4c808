namespace Cimc.Isa;

/// <summary>Which memory a range lies in: the core's local memory or its tile's shared buffer.</summary>
public enum MemorySpace : byte
{
    Local,
    TileBuffer,
}

/// <summary>
/// How an instruction uses a range. <see cref="Accumulate"/> is a read-modify-write that adds to the
/// words (an <c>mvm</c>'s outputs): two accumulations into the same words give the same sum in
/// either order, which is what lets a timing model run them concurrently.
/// </summary>
public enum AccessKind : byte
{
    Read,
    Write,
    ReadWrite,
    Accumulate,
}

/// <summary>One range of words an instruction reads or writes: [Addr, Addr + Len) of <see cref="Space"/>.</summary>
public readonly record struct MemoryAccess(MemorySpace Space, long Addr, long Len, AccessKind Kind)
{
    public long End => Addr + Len;

    public bool Reads => Kind != AccessKind.Write;

    public bool Writes => Kind != AccessKind.Read;

    public bool Overlaps(in MemoryAccess other) => Space == other.Space && Addr < other.End && other.Addr < End && Len > 0 && other.Len > 0;
}

/// <summary>
/// The words each instruction reads and writes, from its fields: the one description that the
/// batched simulator's planning, the performance model's value widths and memory footprint, and the
/// timing model's dependences all read. A <c>vlut</c>'s table entries are data (their extent is
/// mem[table+1]), so only its two header words are listed; the table itself is never written.
/// </summary>
public static class MemoryAccesses
{
    public static IEnumerable<MemoryAccess> Of(Instruction i)
    {
        const MemorySpace L = MemorySpace.Local;
        switch (i.Opcode)
        {
            case Opcode.Load:
                yield return new(MemorySpace.TileBuffer, i["src"], i["len"], AccessKind.Read);
                yield return new(L, i["dst"], i["len"], AccessKind.Write);
                break;
            case Opcode.Store:
                yield return new(L, i["src"], i["len"], AccessKind.Read);
                yield return new(MemorySpace.TileBuffer, i["dst"], i["len"], AccessKind.Write);
                break;
            case Opcode.Set:
                yield return new(L, i["dst"], 1, AccessKind.Write);
                break;
            case Opcode.Mvm:
                yield return new(L, i["src"], i["rows"], AccessKind.Read);
                yield return new(L, i["dst"], i["cols"], AccessKind.Accumulate);
                break;
            case Opcode.VClear:
                yield return new(L, i["dst"], i["len"], AccessKind.Write);
                break;
            case Opcode.VCopy or Opcode.VMax:
                yield return new(L, i["src"], i["len"], AccessKind.Read);
                yield return new(L, i["dst"], i["len"], AccessKind.Write);
                break;
            case Opcode.VSum:
                yield return new(L, i["src"], i["len"], AccessKind.Read);
                yield return new(L, i["dst"], 1, AccessKind.Write);
                break;
            case Opcode.VAdd:
                yield return new(L, i["a"], i["len"], AccessKind.Read);
                yield return new(L, i["b"], i["len"], AccessKind.Read);
                yield return new(L, i["dst"], i["len"], AccessKind.Write);
                break;
            case Opcode.VAxpy:
                yield return new(L, i["s"], 1, AccessKind.Read);
                yield return new(L, i["dst"], i["len"], AccessKind.ReadWrite);
                break;
            case Opcode.VRequant:
                yield return new(L, i["src"], i["len"], AccessKind.Read);
                yield return new(L, i["params"], 3 + (2 * i["len"]), AccessKind.Read);
                yield return new(L, i["dst"], i["len"], AccessKind.Write);
                break;
            case Opcode.VAct:
                yield return new(L, i["src"], i["len"], AccessKind.Read);
                yield return new(L, i["params"], ActivationParams.Words, AccessKind.Read);
                yield return new(L, i["dst"], i["len"], AccessKind.Write);
                break;
            case Opcode.VLut:
                yield return new(L, i["src"], i["len"], AccessKind.Read);
                yield return new(L, i["table"], 2, AccessKind.Read);
                yield return new(L, i["dst"], i["len"], AccessKind.Write);
                break;
            case Opcode.Send:
                yield return new(L, i["src"], i["len"], AccessKind.Read);
                break;
            case Opcode.Recv:
                yield return new(L, i["dst"], i["len"], AccessKind.Write);
                break;
        }
    }
}
