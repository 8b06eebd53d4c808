using System.Collections.Immutable;
using Cimc.Isa;
using Cimc.Scheduling;

namespace Cimc.Codegen;

/// <summary>
/// The stream a send or receive belongs to while the code generator writes it (in the instruction's
/// tag field): which kind of message, for which layer. A stream is not a tag: the k-th send of a
/// stream between two cores is matched with the k-th receive, as one message of the schedule, which
/// then gets an allocated tag of its own (<see cref="TagAllocation"/>).
/// </summary>
internal static class Streams
{
    private const int LayerBits = 13;

    public static int Input(int layer) => Label(MessageKind.LayerInput, layer);

    public static int Signal(int layer) => Label(MessageKind.Signal, layer);

    public static int Partial(int layer) => Label(MessageKind.PartialSum, layer);

    public static int Release(int map) => Label(MessageKind.Release, map);

    public static int Output { get; } = Label(MessageKind.Output, 0);

    public static MessageKind Kind(long label) => (MessageKind)(label >> LayerBits);

    public static int Layer(long label) => (int)(label & ((1 << LayerBits) - 1));

    private static int Label(MessageKind kind, int layer) =>
        layer < 1 << LayerBits ? ((int)kind << LayerBits) | layer : throw new InvalidOperationException($"codegen: {layer} layers exceed the stream labels");
}

/// <summary>
/// The per-core operation lists and data segments that the code generator appends to, in order;
/// <see cref="Build"/> makes them the schedule IR. A replicated program is emitted one sample slot
/// at a time: <see cref="Slot"/> names the slot the operations appended now belong to (-1: every
/// sample), which each scheduled operation keeps (docs/isa.md, "Replicated programs").
/// </summary>
internal sealed class Emitter
{
    private readonly SortedDictionary<int, List<Instruction>> code = [];
    private readonly SortedDictionary<int, List<DataSegment>> data = [];
    private readonly Dictionary<int, List<(int Slot, int Start)>> marks = [];

    /// <summary>Derive only the nearest dependences (<see cref="NearestDependences"/>): for long per-pixel streams.</summary>
    public bool Nearest { get; init; }

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

    /// <summary>
    /// The schedule of what was emitted: operations numbered across cores in core order; each send
    /// becomes a message (cores ascending, sends in order), matched with the receives of its stream
    /// between the same two cores in order; tags allocated; dependences derived per core.
    /// </summary>
    public Schedule Build(ArchHeader arch, InputSpec input, OutputSpec output, WeightImage weights)
    {
        var messages = new List<ScheduledMessage>();
        var open = new Dictionary<(int From, int To, long Stream), Queue<int>>();
        var messageOf = new Dictionary<(int Core, int Index), int>();
        foreach ((int core, List<Instruction> ops) in code)
        {
            for (int k = 0; k < ops.Count; k++)
            {
                if (ops[k].Opcode == Opcode.Send)
                {
                    Instruction i = ops[k];
                    var m = new ScheduledMessage(messages.Count, core, (int)i["core"], (int)i["len"], Streams.Kind(i["tag"]), Streams.Layer(i["tag"]), -1);
                    messages.Add(m);
                    messageOf[(core, k)] = m.Id;
                    var key = (core, m.To, i["tag"]);
                    (open.TryGetValue(key, out var q) ? q : open[key] = new()).Enqueue(m.Id);
                }
            }
        }

        foreach ((int core, List<Instruction> ops) in code)
        {
            for (int k = 0; k < ops.Count; k++)
            {
                if (ops[k].Opcode == Opcode.Recv)
                {
                    var key = ((int)ops[k]["core"], core, ops[k]["tag"]);
                    messageOf[(core, k)] = open.TryGetValue(key, out var q) && q.Count > 0 ? q.Dequeue()
                        : throw new InvalidOperationException($"codegen: core {core} receives stream {ops[k]["tag"]} from core {key.Item1}, which never sends it");
                }
            }
        }

        if (open.FirstOrDefault(kv => kv.Value.Count > 0) is { Value: not null } left)
        {
            throw new InvalidOperationException($"codegen: core {left.Key.From} sends stream {left.Key.Stream} to core {left.Key.To}, which never receives it");
        }

        int id = 0;
        var cores = ImmutableArray.CreateBuilder<CoreSchedule>(code.Count);
        foreach ((int core, List<Instruction> ops) in code)
        {
            int first = id;
            var described = ops.Select((i, k) => (Id: first + k, Instruction: i, Kind: messageOf.TryGetValue((core, k), out int m) ? messages[m].Kind : (MessageKind?)null)).ToList();
            ImmutableArray<ImmutableArray<int>> after = Nearest ? NearestDependences.Of(described) : Dependences.Of(described);
            int[] slots = SlotsOf(marks.GetValueOrDefault(core) ?? [], ops.Count);
            cores.Add(new CoreSchedule(
                core,
                [.. ops.Select((i, k) => new ScheduledOp(first + k, i, messageOf.TryGetValue((core, k), out int m) ? m : -1, after[k]) { Slot = slots[k] })],
                data.TryGetValue(core, out var segs) ? [.. segs.OrderBy(s => s.Addr)] : []));
            id += ops.Count;
        }

        return new Schedule(arch, input, output, cores.MoveToImmutable(), TagAllocation.Allocate(messages), weights);
    }

    /// <summary>The sample slot of each of a core's operations, from the marks where the slot changed.</summary>
    private static int[] SlotsOf(List<(int Slot, int Start)> marks, int count)
    {
        var slots = new int[count];
        Array.Fill(slots, -1);
        for (int i = 0; i < marks.Count; i++)
        {
            int end = i + 1 < marks.Count ? marks[i + 1].Start : count;
            slots.AsSpan(marks[i].Start, end - marks[i].Start).Fill(marks[i].Slot);
        }

        return slots;
    }
}
