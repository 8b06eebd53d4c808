using System.Collections.Immutable;
using Cimc.Isa;

namespace Cimc.Codegen;

/// <summary>The per-core instruction streams and data segments that the schedule appends to, in order.</summary>
internal sealed class Emitter
{
    private readonly SortedDictionary<int, List<Instruction>> code = [];
    private readonly SortedDictionary<int, List<DataSegment>> data = [];

    public List<Instruction> this[int core] => code.TryGetValue(core, out var list) ? list : code[core] = [];

    public void Data(int core, int addr, IEnumerable<long> values)
    {
        (data.TryGetValue(core, out var list) ? list : data[core] = []).Add(new DataSegment(addr, [.. values]));
    }

    /// <summary>Each core's stream with a final halt, and its data segments, in core order.</summary>
    public ImmutableArray<CoreProgram> Programs() =>
        [.. code.Select(kv => new CoreProgram(
            kv.Key,
            [.. kv.Value, Instruction.Halt()],
            data.TryGetValue(kv.Key, out var segs) ? [.. segs.OrderBy(s => s.Addr)] : []))];
}
