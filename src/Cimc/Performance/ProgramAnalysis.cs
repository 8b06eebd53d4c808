using System.Collections.Immutable;
using Cimc.Architectures;
using Cimc.Isa;
using Cimc.Quantization;

namespace Cimc.Performance;

/// <summary>One message of the program: who sends it to whom, how many bits, and its path.</summary>
public sealed record Message(int From, int To, int Tag, int Words, int ElementBits, Route Route)
{
    public long Bits => (long)Words * ElementBits;
}

/// <summary>
/// What the program does per inference, found without running it: programs are straight-line
/// (no branches), so every count is exact. Fixes the width of every value that moves (the ISA
/// moves 64-bit words, but hardware would move only the bits a value has):
/// <list type="bullet">
/// <item>a message whose receiver feeds it to an <c>mvm</c> carries activation codes of that mvm's <c>ilo + ibits</c> (its top window's);</item>
/// <item>otherwise a value keeps its width as it moves: a message or <c>store</c> of words last written
///   by a <c>load</c>, <c>vrequant</c>, <c>vlut</c> or <c>vact</c> carries codes (bits of the input's largest code;
///   all layers use the same activation bits), of words last written by a <c>recv</c> what that message
///   carried (so a relayed or buffered activation stays a code), and of anything else partial sums of
///   the core's accumulator width <c>adc_bits + max shift + max (ilo + ibits) + ceil(log2 mvms) + 1</c> (sign), at most 64;</item>
/// <item>a <c>load</c> moves input codes.</item>
/// </list>
/// </summary>
public sealed class ProgramAnalysis
{
    private ProgramAnalysis(PerformanceInput input)
    {
        ProgramImage p = input.Program;
        Arch = input.Arch;
        Mesh = new Mesh(input.Arch);
        InputBits = Math.Max(1, IntMath.BitLength(p.Input.QMax));
        var accumulator = new Dictionary<int, int>();
        var wordsUsed = new Dictionary<int, int>();
        foreach (CoreProgram core in p.Cores)
        {
            accumulator[core.Core] = AccumulatorBits(core, Arch.Core.Adc.Bits);
            wordsUsed[core.Core] = WordsUsed(core);
        }

        AccumulatorBitsByCore = accumulator.ToImmutableDictionary();
        WordsUsedByCore = wordsUsed.ToImmutableDictionary();

        // The k-th write (send) of a channel is matched by its k-th read (recv).
        var sendsOn = new Dictionary<(int, int, int), List<(int Core, int Pc)>>();
        var recvsOn = new Dictionary<(int, int, int), List<(int Core, int Pc)>>();
        foreach (CoreProgram core in p.Cores)
        {
            for (int pc = 0; pc < core.Code.Length; pc++)
            {
                if (MemoryAccesses.ChannelOf(core.Code[pc]) is { } c)
                {
                    var key = c.Sends ? (core.Core, c.Peer, c.Tag) : (c.Peer, core.Core, c.Tag);
                    var lists = c.Sends ? sendsOn : recvsOn;
                    (lists.TryGetValue(key, out var list) ? list : lists[key] = []).Add((core.Core, pc));
                }
            }
        }

        foreach ((var key, var sends) in sendsOn)
        {
            var recvs = recvsOn.GetValueOrDefault(key) ?? [];
            for (int k = 0; k < sends.Count; k++)
            {
                receiverOf[sends[k]] = k < recvs.Count ? recvs[k] : null;
                if (k < recvs.Count)
                {
                    senderOf[recvs[k]] = sends[k];
                }
            }
        }

        coresById = p.Cores.ToDictionary(c => c.Core);
        var messages = ImmutableDictionary.CreateBuilder<(int Core, int Pc), Message>();
        var storeBits = ImmutableDictionary.CreateBuilder<(int Core, int Pc), int>();
        foreach (CoreProgram core in p.Cores)
        {
            for (int pc = 0; pc < core.Code.Length; pc++)
            {
                Instruction i = core.Code[pc];
                if (MemoryAccesses.ChannelOf(i) is { Sends: true } c)
                {
                    messages[(core.Core, pc)] = new Message(core.Core, c.Peer, c.Tag, (int)c.Words, MessageBits((core.Core, pc)), Mesh.RouteBetween(core.Core, c.Peer));
                }
                else if (WritesTileBuffer(i))
                {
                    storeBits[(core.Core, pc)] = SourceBits(core, pc, LocalRead(i));
                }
            }
        }

        Messages = messages.ToImmutable();
        StoreBits = storeBits.ToImmutable();
        Counts = EventCounter.Count(input, this);
    }

    private readonly Dictionary<(int Core, int Pc), (int Core, int Pc)?> receiverOf = [];
    private readonly Dictionary<(int Core, int Pc), (int Core, int Pc)> senderOf = [];
    private readonly Dictionary<(int Core, int Pc), int> messageBits = [];
    private readonly Dictionary<int, CoreProgram> coresById;

    public Architecture Arch { get; }

    public Mesh Mesh { get; }

    /// <summary>Bits of an input code (and of every activation code: all layers use the same activation bits).</summary>
    public int InputBits { get; }

    public ImmutableDictionary<int, int> AccumulatorBitsByCore { get; }

    /// <summary>Highest local-memory word a core's program touches, plus one: what leakage is charged for.</summary>
    public ImmutableDictionary<int, int> WordsUsedByCore { get; }

    /// <summary>Every send, keyed by (core, pc).</summary>
    public ImmutableDictionary<(int Core, int Pc), Message> Messages { get; }

    public ImmutableDictionary<(int Core, int Pc), int> StoreBits { get; }

    /// <summary>Events of one inference.</summary>
    public EventCounts Counts { get; }

    /// <summary>Whether a send has a matching recv (only then does its message ever arrive).</summary>
    public bool Received((int Core, int Pc) send) => receiverOf.GetValueOrDefault(send) is not null;

    public static ProgramAnalysis Of(PerformanceInput input)
    {
        input.Validate();
        return new ProgramAnalysis(input);
    }

    /// <summary>
    /// Bits a tile-buffer transfer (load or store) moves: its words times the width of each, input
    /// codes when it reads the tile buffer (the network input), else what its source words hold.
    /// </summary>
    public long TransferBits(int core, int pc, Instruction i)
    {
        MemoryAccess buffer = MemoryAccesses.Of(i).First(a => a.Space == MemorySpace.TileBuffer);
        return buffer.Len * (buffer.Writes ? StoreBits[(core, pc)] : InputBits);
    }

    private static bool WritesTileBuffer(Instruction i) => MemoryAccesses.Of(i).Any(a => a.Space == MemorySpace.TileBuffer && a.Writes);

    /// <summary>The local words an instruction sends or stores (its one local read).</summary>
    private static MemoryAccess LocalRead(Instruction i) => MemoryAccesses.Of(i).Single(a => a.Space == MemorySpace.Local && a.Reads);

    /// <summary>Input slices of an mvm: ceil(ibits / dac_bits).</summary>
    public int Slices(long ibits) => IntMath.CeilDiv((int)ibits, Arch.Core.Dac.Bits);

    /// <summary>
    /// Bits per word of a message: the ibits of the mvm its receiver feeds it to, else the width of
    /// what the sender sends (<see cref="SourceBits"/>).
    /// </summary>
    private int MessageBits((int Core, int Pc) send)
    {
        if (messageBits.TryGetValue(send, out int known))
        {
            return known;
        }

        CoreProgram sender = coresById[send.Core];
        int? ibits = receiverOf.GetValueOrDefault(send) is { } recv ? ConsumerIbits(coresById[recv.Core], recv.Pc) : null;
        int bits = ibits ?? SourceBits(sender, send.Pc, LocalRead(sender.Code[send.Pc]));
        messageBits[send] = bits;
        return bits;
    }

    /// <summary>
    /// Width of the words of <paramref name="range"/> of a core just before pc, by what wrote them last: codes
    /// (the input's bits) after a load, vrequant, vlut or vact; what the message carried after a recv;
    /// the core's accumulator width after any arithmetic (or if nothing wrote them).
    /// </summary>
    private int SourceBits(CoreProgram core, int pc, MemoryAccess range)
    {
        for (int k = pc - 1; k >= 0; k--)
        {
            Instruction w = core.Code[k];
            if (!MemoryAccesses.Of(w).Any(a => a.Writes && a.Overlaps(range)))
            {
                continue;
            }

            return w.Opcode switch
            {
                Opcode.Load or Opcode.VRequant or Opcode.VLut or Opcode.VAct => InputBits,
                Opcode.Recv when senderOf.TryGetValue((core.Core, k), out var send) => MessageBits(send),
                _ => AccumulatorBitsByCore[core.Core],
            };
        }

        return AccumulatorBitsByCore[core.Core];
    }

    private static int AccumulatorBits(CoreProgram core, int adcBits)
    {
        var mvms = core.Code.Where(i => i.Opcode == Opcode.Mvm).ToList();
        if (mvms.Count == 0)
        {
            return 64;
        }

        // The mvms that add into one sample's accumulators: a replicated program's sections of one
        // slot (the most of any slot) and those outside sections.
        int[] slots = core.SlotsByPc();
        int perSample = core.Code.Select((i, pc) => (i, Slot: slots[pc])).Where(x => x.i.Opcode == Opcode.Mvm)
            .GroupBy(x => x.Slot).Select(g => (g.Key, Count: g.Count()))
            .Aggregate((Common: 0, Most: 0), (acc, g) => g.Key < 0 ? (g.Count, acc.Most) : (acc.Common, Math.Max(acc.Most, g.Count)), acc => acc.Common + acc.Most);
        long bits = adcBits + mvms.Max(i => i["shift"]) + mvms.Max(i => i["ilo"] + i["ibits"]) + IntMath.BitLength(perSample - 1) + 1;
        return (int)Math.Min(64, bits);
    }

    /// <summary>
    /// Bits of the input the first later mvm on this core that reads the recv's destination converts
    /// (ilo + ibits), if any; an mvm of a lower input window does not say how wide the input is, so the
    /// search goes on past it.
    /// </summary>
    private static int? ConsumerIbits(CoreProgram core, int recvPc)
    {
        MemoryAccess landed = MemoryAccesses.Of(core.Code[recvPc]).Single(a => a.Writes);
        for (int pc = recvPc + 1; pc < core.Code.Length; pc++)
        {
            Instruction i = core.Code[pc];
            if (i.Opcode == Opcode.Mvm && i["lower"] == 0 && MemoryAccesses.Of(i).Any(a => a.Kind == AccessKind.Read && a.Overlaps(landed)))
            {
                return (int)(i["ilo"] + i["ibits"]);
            }

            if (MemoryAccesses.ChannelOf(i) is { Sends: false } && MemoryAccesses.Of(i).Any(a => a.Writes && a.Overlaps(landed)))
            {
                return null; // overwritten by another message before any mvm read it
            }
        }

        return null;
    }

    private static int WordsUsed(CoreProgram core)
    {
        long top = core.Data.Select(d => (long)d.Addr + d.Values.Length).DefaultIfEmpty(0).Max();
        foreach (Instruction i in core.Code)
        {
            foreach (MemoryAccess a in MemoryAccesses.Of(i))
            {
                top = a.Space == MemorySpace.Local ? Math.Max(top, a.End) : top;
            }
        }

        return (int)top;
    }
}
