using System.Collections.Immutable;

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

/// <summary>The message-channel side of a send or recv: this core writes (sends on) or reads (receives from) channel (this, peer, tag) or (peer, this, tag).</summary>
public readonly record struct ChannelAccess(bool Sends, int Peer, int Tag, long Words);

/// <summary>
/// The words each instruction reads and writes, derived from the operand semantics of the ISA table
/// (<see cref="FieldSpec.Role"/>): the one description that the simulators' planning and bounds
/// checks, the performance model's value widths, memory footprint and event counts, and the timing
/// model's dependences all read. A <c>vlut</c>'s table entries are data-indexed (<see cref="FieldSpec.Gathers"/>),
/// so only its two header words are listed as a range; the table itself is never written.
/// </summary>
public static class MemoryAccesses
{
    /// <summary>An address field, resolved once per opcode so the hot paths index fields instead of searching names.</summary>
    internal readonly record struct RangeOperand(int Field, string Name, MemorySpace Space, AccessKind Access, int LengthField, int Scale, int Fixed)
    {
        public long Words(ImmutableArray<long> fields) => Fixed + (LengthField < 0 ? 0 : Scale * fields[LengthField]);
    }

    private static readonly RangeOperand[][] RangesByCode = BuildRanges();

    internal static RangeOperand[] RangesOf(Opcode opcode) => RangesByCode[(byte)opcode];

    /// <summary>The ranges of local memory and tile buffer the instruction reads or writes, in field order.</summary>
    public static IEnumerable<MemoryAccess> Of(Instruction i)
    {
        foreach (RangeOperand r in RangesOf(i.Opcode))
        {
            yield return new(r.Space, i.Fields[r.Field], r.Words(i.Fields), r.Access);
        }
    }

    /// <summary>Local-memory words read at data-dependent addresses (a vlut's table entries).</summary>
    public static long GatheredWords(Instruction i)
    {
        long words = 0;
        foreach (FieldSpec f in i.Spec.Fields)
        {
            if (f.Gathers is { } g)
            {
                words += g.Fixed + (g.Field is null ? 0 : g.Scale * i[g.Field]);
            }
        }

        return words;
    }

    /// <summary>Per opcode byte: (channel field, its core field, its length field, whether it writes the channel), or null.</summary>
    private static readonly (int Tag, int Peer, int Len, bool Sends)?[] ChannelsByCode = BuildChannels();

    /// <summary>The channel a send writes or a recv reads, or null for an instruction without one.</summary>
    public static ChannelAccess? ChannelOf(Instruction i) =>
        ChannelsByCode[(byte)i.Opcode] is { } c ? new ChannelAccess(c.Sends, (int)i.Fields[c.Peer], (int)i.Fields[c.Tag], i.Fields[c.Len]) : null;

    private static (int, int, int, bool)?[] BuildChannels()
    {
        var table = new (int, int, int, bool)?[256];
        foreach (OpcodeSpec spec in InstructionSet.All)
        {
            int tag = IndexOfRole(spec, FieldRole.Channel);
            if (tag >= 0)
            {
                FieldSpec f = spec.Fields[tag];
                table[spec.Code] = (tag, IndexOfRole(spec, FieldRole.Core), spec.IndexOf(f.Extent.Field!), f.Access == AccessKind.Write);
            }
        }

        return table;
    }

    private static readonly int[] LengthByCode = [.. Enumerable.Range(0, 256).Select(c =>
        InstructionSet.TryGetByCode((byte)c, out OpcodeSpec spec) ? IndexOfRole(spec, FieldRole.Length) : -1)];

    /// <summary>The field of <paramref name="opcode"/> that counts elements, or -1.</summary>
    internal static int LengthIndexOf(Opcode opcode) => LengthByCode[(byte)opcode];

    private static int IndexOfRole(OpcodeSpec spec, FieldRole role)
    {
        for (int k = 0; k < spec.Fields.Length; k++)
        {
            if (spec.Fields[k].Role == role)
            {
                return k;
            }
        }

        return -1;
    }

    private static RangeOperand[][] BuildRanges()
    {
        var table = new RangeOperand[256][];
        Array.Fill(table, []);
        foreach (OpcodeSpec spec in InstructionSet.All)
        {
            table[spec.Code] = [.. spec.Fields.Select((f, k) => (f, k)).Where(p => p.f.Role == FieldRole.Address)
                .Select(p => new RangeOperand(p.k, p.f.Name, p.f.Space, p.f.Access,
                    p.f.Extent.Field is { } n ? spec.IndexOf(n) : -1, p.f.Extent.Scale, p.f.Extent.Fixed))];
        }

        return table;
    }
}
