using Cimc.Isa;

namespace Cimc.Tests.Isa;

public sealed class MemoryAccessTests
{
    [Fact]
    public void Every_address_field_of_every_opcode_is_described_as_a_range_it_reads_or_writes()
    {
        // The ISA table spells addresses as 24-bit fields (len is the only 24-bit field that is not one).
        foreach (OpcodeSpec spec in InstructionSet.All)
        {
            long[] fields = [.. spec.Fields.Select((f, k) => f.Name == "len" ? 5 : f.Bits == 24 ? 1000 * (k + 1) : Math.Min(f.Max, 5))];
            var i = new Instruction(spec.Opcode, [.. fields]);
            var starts = MemoryAccesses.Of(i).Select(a => a.Addr).ToHashSet();
            foreach ((FieldSpec f, int k) in spec.Fields.Select((f, k) => (f, k)).Where(p => p.f.Bits == 24 && p.f.Name != "len"))
            {
                Assert.True(starts.Contains(fields[k]), $"{spec.Mnemonic}: field {f.Name} is an address but MemoryAccesses.Of does not list it");
            }
        }
    }

    [Fact]
    public void An_mvm_reads_its_rows_and_accumulates_into_its_columns()
    {
        MemoryAccess[] a = [.. MemoryAccesses.Of(Instruction.Mvm(3, 10, 200, 64, 32, 8, 0, false))];
        Assert.Equal([new(MemorySpace.Local, 10, 64, AccessKind.Read), new(MemorySpace.Local, 200, 32, AccessKind.Accumulate)], a);
        Assert.True(a[1].Reads && a[1].Writes);
        Assert.False(a[0].Overlaps(a[1]));
        Assert.True(a[0].Overlaps(new MemoryAccess(MemorySpace.Local, 73, 1, AccessKind.Write)));
        Assert.False(a[0].Overlaps(new MemoryAccess(MemorySpace.TileBuffer, 10, 64, AccessKind.Write)));
    }
}
