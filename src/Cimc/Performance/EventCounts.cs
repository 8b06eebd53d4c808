using Cimc.Isa;

namespace Cimc.Performance;

/// <summary>
/// Events of one inference, the multiplicands of every energy figure (docs/cost-model.md section 2).
/// Per mvm with r rows, c columns and K = ceil(ibits / dac_bits) input slices: K crossbar reads,
/// r*K DAC drives, c*K sample-and-holds, c*K ADC conversions, c*K shift-and-adds.
/// </summary>
public sealed record EventCounts(
    long Instructions,
    long Mvms,
    long CrossbarReads,
    long DacDrives,
    long SampleHolds,
    long AdcConversions,
    long ShiftAdds,
    long LocalMemoryAccesses,
    long TileBufferAccesses,
    long TileBusBits,
    long Messages,
    long NetworkMessages,
    long NetworkBytes,
    long Hops,
    long RouterBits,
    long LinkBits,
    long AluAdds,
    long AluMuls,
    long AluLookups)
{
    /// <summary>Bits carried over chip-to-chip links (a message's bits once per link it crosses); 0 on one chip.</summary>
    public long OffChipBits { get; init; }

    /// <summary>Messages that leave their chip.</summary>
    public long OffChipMessages { get; init; }

    /// <summary>snake_case name and value of each count, in declaration order (report.json `counts`).</summary>
    public IEnumerable<(string Name, long Value)> Items()
    {
        yield return ("instructions", Instructions);
        yield return ("mvms", Mvms);
        yield return ("crossbar_reads", CrossbarReads);
        yield return ("dac_drives", DacDrives);
        yield return ("sample_holds", SampleHolds);
        yield return ("adc_conversions", AdcConversions);
        yield return ("shift_adds", ShiftAdds);
        yield return ("local_memory_accesses", LocalMemoryAccesses);
        yield return ("tile_buffer_accesses", TileBufferAccesses);
        yield return ("tile_bus_bits", TileBusBits);
        yield return ("messages", Messages);
        yield return ("network_messages", NetworkMessages);
        yield return ("network_bytes", NetworkBytes);
        yield return ("hops", Hops);
        yield return ("router_bits", RouterBits);
        yield return ("link_bits", LinkBits);
        yield return ("alu_adds", AluAdds);
        yield return ("alu_muls", AluMuls);
        yield return ("alu_lookups", AluLookups);
        yield return ("offchip_messages", OffChipMessages);
        yield return ("offchip_bits", OffChipBits);
    }
}

/// <summary>
/// Counts the events of every instruction of a straight-line program, once per inference. In a
/// replicated program one inference is sample 0: the instructions outside sections and those of
/// slot 0 (every slot's sections do the same work on other replicas).
/// </summary>
internal static class EventCounter
{
    public static EventCounts Count(PerformanceInput input, ProgramAnalysis a, Func<int, bool>? include = null)
    {
        long instructions = 0, mvms = 0, reads = 0, dac = 0, sh = 0, adc = 0, sa = 0, mem = 0, buffer = 0, bus = 0;
        long offChipMessages = 0, offChipBits = 0;
        long messages = 0, netMessages = 0, netBits = 0, hops = 0, routerBits = 0, linkBits = 0, adds = 0, muls = 0, lookups = 0;
        int accessBits = input.Costs.TileBuffer.AccessBits;
        foreach (CoreProgram core in input.Program.Cores.Where(c => include is null || include(c.Core)))
        {
            int[] slots = core.SlotsByPc();
            for (int pc = 0; pc < core.Code.Length; pc++)
            {
                if (slots[pc] > 0)
                {
                    continue;
                }

                Instruction i = core.Code[pc];
                instructions++;

                // Local-memory words from the ISA table: each word of a range once, twice when it is
                // read and written back (an mvm's accumulation, a vaxpy), plus data-indexed reads.
                foreach (MemoryAccess m in MemoryAccesses.Of(i))
                {
                    mem += m.Space != MemorySpace.Local ? 0 : m.Kind is AccessKind.ReadWrite or AccessKind.Accumulate ? 2 * m.Len : m.Len;
                }

                mem += MemoryAccesses.GatheredWords(i);
                long len = i.Spec.LengthIndex is int li and >= 0 ? i.Fields[li] : 0;
                AluWork work = i.Spec.Work;
                adds += work.Adds * len;
                muls += work.Muls * len;
                lookups += work.Lookups * len;
                switch (i.Spec.LatencyClass)
                {
                    case InstructionSet.LatencyClasses.Mvm:
                        {
                            // Each input slice is read once per row group (rows per read), each read converted.
                            long k = a.Slices(i["ibits"]), rows = i["rows"], cols = i["cols"], g = CostModel.RowGroups(i);
                            mvms++;
                            reads += k * g;
                            dac += rows * k;
                            sh += cols * k * g;
                            adc += cols * k * g;
                            sa += cols * k * g;
                            break;
                        }

                    case InstructionSet.LatencyClasses.Memory:
                        {
                            long bits = a.TransferBits(core.Core, pc, i);
                            buffer += CeilDiv(bits, accessBits);
                            bus += bits;
                            break;
                        }

                    case InstructionSet.LatencyClasses.Network when a.Messages.TryGetValue((core.Core, pc), out Message? m):
                        messages++;
                        if (m.Route.SameTile)
                        {
                            // Through the tile buffer: written by the sender, read by the receiver.
                            buffer += 2 * CeilDiv(m.Bits, accessBits);
                            bus += 2 * m.Bits;
                        }
                        else
                        {
                            netMessages++;
                            netBits += m.Bits;
                            hops += m.Route.Hops;
                            routerBits += m.Bits * m.Route.Routers;
                            linkBits += m.Bits * m.Route.Hops;
                            offChipMessages += m.Route.ChipHops > 0 ? 1 : 0;
                            offChipBits += m.Bits * m.Route.ChipHops;
                            bus += 2 * m.Bits; // source and destination tile buses
                        }

                        break;
                }
            }
        }

        return new EventCounts(instructions, mvms, reads, dac, sh, adc, sa, mem, buffer, bus, messages, netMessages,
            CeilDiv(netBits, 8), hops, routerBits, linkBits, adds, muls, lookups)
        {
            OffChipMessages = offChipMessages,
            OffChipBits = offChipBits,
        };
    }

    private static long CeilDiv(long a, long b) => (a + b - 1) / b;
}
