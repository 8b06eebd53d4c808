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
/// <item>a message whose receiver feeds it to an <c>mvm</c> carries activation codes of that mvm's <c>ibits</c>;</item>
/// <item>any other message carries partial sums of the sender's accumulator width
///   <c>adc_bits + max shift + max ibits + ceil(log2 mvms) + 1</c> (sign), at most 64;</item>
/// <item>a <c>load</c> moves input codes (bits of the input's largest code); a <c>store</c> moves
///   activation codes after a requantization on that core, else accumulators.</item>
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

        // Message widths are decided by the receiver; the k-th send on a channel matches its k-th recv.
        var recvBits = new Dictionary<(int, int, int), Queue<int>>();
        foreach (CoreProgram core in p.Cores)
        {
            for (int pc = 0; pc < core.Code.Length; pc++)
            {
                Instruction i = core.Code[pc];
                if (i.Opcode == Opcode.Recv)
                {
                    int from = (int)i["core"];
                    int bits = ConsumerIbits(core, pc) ?? AccumulatorBitsByCore.GetValueOrDefault(from, 64);
                    var key = (from, core.Core, (int)i["tag"]);
                    (recvBits.TryGetValue(key, out var q) ? q : recvBits[key] = new Queue<int>()).Enqueue(bits);
                }
            }
        }

        var messages = ImmutableDictionary.CreateBuilder<(int Core, int Pc), Message>();
        var storeBits = ImmutableDictionary.CreateBuilder<(int Core, int Pc), int>();
        foreach (CoreProgram core in p.Cores)
        {
            bool requantized = false;
            for (int pc = 0; pc < core.Code.Length; pc++)
            {
                Instruction i = core.Code[pc];
                switch (i.Opcode)
                {
                    case Opcode.Send:
                        {
                            int to = (int)i["core"], tag = (int)i["tag"];
                            int bits = recvBits.TryGetValue((core.Core, to, tag), out var q) && q.Count > 0 ? q.Dequeue() : AccumulatorBitsByCore[core.Core];
                            messages[(core.Core, pc)] = new Message(core.Core, to, tag, (int)i["len"], bits, Mesh.RouteBetween(core.Core, to));
                            break;
                        }

                    case Opcode.VRequant or Opcode.VLut:
                        requantized = true;
                        break;
                    case Opcode.Store:
                        storeBits[(core.Core, pc)] = requantized ? InputBits : AccumulatorBitsByCore[core.Core];
                        break;
                }
            }
        }

        Messages = messages.ToImmutable();
        StoreBits = storeBits.ToImmutable();
        Counts = EventCounter.Count(input, this);
    }

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

    public static ProgramAnalysis Of(PerformanceInput input)
    {
        input.Validate();
        return new ProgramAnalysis(input);
    }

    /// <summary>Input slices of an mvm: ceil(ibits / dac_bits).</summary>
    public int Slices(long ibits) => IntMath.CeilDiv((int)ibits, Arch.Core.Dac.Bits);

    private static int AccumulatorBits(CoreProgram core, int adcBits)
    {
        var mvms = core.Code.Where(i => i.Opcode == Opcode.Mvm).ToList();
        if (mvms.Count == 0)
        {
            return 64;
        }

        long bits = adcBits + mvms.Max(i => i["shift"]) + mvms.Max(i => i["ibits"]) + IntMath.BitLength(mvms.Count - 1) + 1;
        return (int)Math.Min(64, bits);
    }

    /// <summary>ibits of the first later mvm on this core that reads the recv's destination, if any.</summary>
    private static int? ConsumerIbits(CoreProgram core, int recvPc)
    {
        Instruction recv = core.Code[recvPc];
        long lo = recv["dst"], hi = lo + recv["len"];
        for (int pc = recvPc + 1; pc < core.Code.Length; pc++)
        {
            Instruction i = core.Code[pc];
            if (i.Opcode == Opcode.Mvm && i["src"] < hi && i["src"] + i["rows"] > lo)
            {
                return (int)i["ibits"];
            }

            if (i.Opcode == Opcode.Recv && i["dst"] < hi && i["dst"] + i["len"] > lo)
            {
                return null; // overwritten before any mvm read it
            }
        }

        return null;
    }

    private static int WordsUsed(CoreProgram core)
    {
        long top = core.Data.Select(d => (long)d.Addr + d.Values.Length).DefaultIfEmpty(0).Max();
        foreach (Instruction i in core.Code)
        {
            long end = i.Opcode switch
            {
                Opcode.Load or Opcode.Recv => i["dst"] + i["len"],
                Opcode.Store or Opcode.Send => i["src"] + i["len"],
                Opcode.Set => i["dst"] + 1,
                Opcode.Mvm => Math.Max(i["src"] + i["rows"], i["dst"] + i["cols"]),
                Opcode.VClear or Opcode.VCopy or Opcode.VAdd or Opcode.VMax or Opcode.VAxpy or Opcode.VRequant or Opcode.VLut => i["dst"] + i["len"],
                Opcode.VSum => Math.Max(i["dst"] + 1, i["src"] + i["len"]),
                _ => 0,
            };
            top = Math.Max(top, end);
        }

        return (int)top;
    }
}
