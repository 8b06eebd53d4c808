using System.Collections.Immutable;
using Cimc.Isa;

namespace Cimc.Codegen;

/// <summary>
/// The per-core instruction streams and data segments that the schedule appends to, in order. A
/// replicated program is emitted one sample slot at a time: <see cref="Slot"/> names the slot the
/// instructions appended now belong to (-1: every sample), and each core's runs of one slot become
/// its sections (docs/isa.md, "Replicated programs").
/// </summary>
internal sealed class Emitter
{
    private readonly SortedDictionary<int, List<Instruction>> code = [];
    private readonly SortedDictionary<int, List<DataSegment>> data = [];
    private readonly Dictionary<int, List<(int Slot, int Start)>> marks = [];

    /// <summary>The sample slot that instructions appended from now on belong to; -1 for every sample.</summary>
    public int Slot { get; set; } = -1;

    public List<Instruction> this[int core]
    {
        get
        {
            List<Instruction> list = code.TryGetValue(core, out var l) ? l : code[core] = [];
            List<(int Slot, int Start)> m = marks.TryGetValue(core, out var ms) ? ms : marks[core] = [];
            if (m.Count == 0 ? Slot >= 0 : m[^1].Slot != Slot)
            {
                m.Add((Slot, list.Count));
            }

            return list;
        }
    }

    /// <summary>Adds a data segment; one a replica already got for an earlier sample (same address, same values) is not added twice.</summary>
    public void Data(int core, int addr, IEnumerable<long> values)
    {
        List<DataSegment> list = data.TryGetValue(core, out var l) ? l : data[core] = [];
        var segment = new DataSegment(addr, [.. values]);
        if (!list.Contains(segment))
        {
            list.Add(segment);
        }
    }

    /// <summary>Each core's stream with a final halt (run for every sample), its sections and its data segments, in core order.</summary>
    public ImmutableArray<CoreProgram> Programs() =>
        [.. code.Select(kv => new CoreProgram(
            kv.Key,
            [.. kv.Value, Instruction.Halt()],
            data.TryGetValue(kv.Key, out var segs) ? [.. segs.OrderBy(s => s.Addr)] : [])
        {
            Sections = Sections(marks.GetValueOrDefault(kv.Key) ?? [], kv.Value.Count),
        })];

    /// <summary>The runs of one slot from the marks, empty runs dropped and neighbouring runs of one slot merged.</summary>
    private static ImmutableArray<SlotSection> Sections(List<(int Slot, int Start)> marks, int length)
    {
        var sections = new List<SlotSection>();
        for (int i = 0; i < marks.Count; i++)
        {
            (int slot, int start) = marks[i];
            int end = i + 1 < marks.Count ? marks[i + 1].Start : length;
            if (slot < 0 || end == start)
            {
                continue;
            }

            if (sections.Count > 0 && sections[^1].Slot == slot && sections[^1].End == start)
            {
                sections[^1] = sections[^1] with { Count = sections[^1].Count + end - start };
            }
            else
            {
                sections.Add(new SlotSection(slot, start, end - start));
            }
        }

        return [.. sections];
    }
}
