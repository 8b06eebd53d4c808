using System.Collections.Immutable;
using Cimc.Architectures;

namespace Cimc.Performance;

/// <summary>One line of the energy account: Events x CostPj = EnergyPj, charged to a component.</summary>
public sealed record EnergyTerm(string Component, string Event, long Events, double CostPj)
{
    public double EnergyPj => Events * CostPj;
}

/// <summary>A share of area or of leakage power, by component.</summary>
public sealed record Share(string Component, double Value);

/// <summary>
/// The cost formulas of docs/cost-model.md, in one place: the latency of an mvm, the energy of each
/// event, the area of the chip and the leakage power of the hardware a program uses.
/// </summary>
public static class CostModel
{
    /// <summary>Energy components in report order (leakage is added by the report).</summary>
    public static readonly ImmutableArray<string> Components =
        ["crossbar", "adc", "dac", "sample_hold", "shift_add", "buffers", "network", "alu", "offchip", "leakage"];

    /// <summary>The architecture's ADC at its resolution (<see cref="ComponentCosts.Adc(Architecture)"/>).</summary>
    public static AdcCost Adc(Architecture arch) => ComponentCosts.Adc(arch);

    /// <summary>
    /// Time of one input slice on one crossbar whose ADC group is otherwise idle: the read, or the
    /// group's ADCs converting its columns in turn (<see cref="ConvertNs"/>), whichever is slower
    /// (they pipeline).
    /// </summary>
    public static double SliceNs(Architecture arch, long cols) =>
        Math.Max(ReadNs(arch), ConvertNs(arch, cols));

    /// <summary>Time of one crossbar read of one input slice (the read stage of the mvm pipeline; <see cref="ComponentCosts.ReadNs(Architecture)"/>).</summary>
    public static double ReadNs(Architecture arch) => ComponentCosts.ReadNs(arch);

    /// <summary>Slice times an mvm pipeline needs to fill before its first result: PUMA's "+ 2".</summary>
    public const int FillSlices = 2;

    /// <summary>
    /// Time the ADCs of a crossbar's group need to convert <paramref name="cols"/> columns of one
    /// slice: <c>ceil(cols / adc.per_group) x adc.latency_ns</c> (per_group = per_crossbar unshared).
    /// Crossbars of one group that run at once share this time (<see cref="TimingSimulator"/>).
    /// </summary>
    public static double ConvertNs(Architecture arch, long cols) =>
        Math.Ceiling((double)cols / arch.Core.Adc.PerGroup) * Adc(arch).LatencyNs;

    /// <summary>Slices one mvm streams through its crossbar: ceil(ibits / dac_bits) x row groups.</summary>
    public static double Slices(Architecture arch, Isa.Instruction mvm) =>
        Math.Ceiling((double)mvm["ibits"] / arch.Core.Dac.Bits) * RowGroups(mvm);

    /// <summary>
    /// One mvm: K = ceil(ibits / dac_bits) slices, each read in G row groups (rows per read), through a
    /// read -> convert -> shift-and-add pipeline, plus 2 slice times to fill it (PUMA's form:
    /// 100 ns x (16 + 2) = 1.8 us at 16 bits with G = 1).
    /// </summary>
    public static double MvmNs(Architecture arch, long cols, long ibits, long groups = 1) =>
        ((Math.Ceiling((double)ibits / arch.Core.Dac.Bits) * groups) + FillSlices) * SliceNs(arch, cols);

    /// <summary>Row groups one mvm reads: ceil(rows / group), or 1 when all rows are read at once.</summary>
    public static long RowGroups(Isa.Instruction mvm) =>
        mvm["group"] is > 0 and var g ? (mvm["rows"] + g - 1) / g : 1;

    /// <summary>Duration of one mvm instruction.</summary>
    public static double MvmNs(Architecture arch, Isa.Instruction mvm) => MvmNs(arch, mvm["cols"], mvm["ibits"], RowGroups(mvm));

    /// <summary>Every dynamic energy term of one inference: the counts times the per-event costs.</summary>
    public static ImmutableArray<EnergyTerm> Dynamic(Architecture arch, EventCounts c)
    {
        CostSpec k = arch.Costs!;
        return
        [
            new("crossbar", "crossbar_reads", c.CrossbarReads, ComponentCosts.ReadEnergyPj(arch)),
            new("adc", "adc_conversions", c.AdcConversions, Adc(arch).EnergyPj),
            new("dac", "dac_drives", c.DacDrives, ComponentCosts.DacEnergyPj(arch)),
            new("sample_hold", "sample_holds", c.SampleHolds, ComponentCosts.SampleHoldEnergyPj(arch)),
            new("shift_add", "shift_adds", c.ShiftAdds, ComponentCosts.ShiftAddEnergyPj(arch)),
            new("buffers", "local_memory_accesses", c.LocalMemoryAccesses, ComponentCosts.LocalMemoryAccessPj(arch)),
            new("buffers", "tile_buffer_accesses", c.TileBufferAccesses, ComponentCosts.TileBufferAccessPj(arch)),
            new("network", "tile_bus_bits", c.TileBusBits, k.TileBus.EnergyPj),
            new("network", "router_bits", c.RouterBits, k.Noc.RouterEnergyPjPerBit),
            new("network", "link_bits", c.LinkBits, k.Noc.LinkEnergyPjPerBit),
            new("alu", "alu_adds", c.AluAdds, k.Alu.AddEnergyPj),
            new("alu", "alu_muls", c.AluMuls, k.Alu.MulEnergyPj),
            new("alu", "alu_lookups", c.AluLookups, k.Alu.LookupEnergyPj),
            new("offchip", "offchip_bits", c.OffChipBits, arch.Node.Link?.EnergyPjPerBit ?? 0),
        ];
    }

    /// <summary>One kind of part in a core: how many there are and what one costs in area and leakage.</summary>
    private sealed record CorePart(string Component, double Count, double AreaMm2, double LeakageMw);

    /// <summary>A core's parts, each counted once, so that area and leakage cannot disagree on the counts.</summary>
    private static ImmutableArray<CorePart> CoreParts(Architecture arch)
    {
        CostSpec k = arch.Costs!;
        CoreSpec core = arch.Core;
        int x = core.Crossbars;
        AdcCost adc = Adc(arch);
        return
        [
            new("crossbar", x, ComponentCosts.CrossbarAreaMm2(arch), ComponentCosts.CrossbarLeakageMw(arch)),
            new("adc", core.AdcsPerCore, adc.AreaMm2, adc.LeakageMw),
            new("dac", (double)x * core.Crossbar.Rows, ComponentCosts.DacAreaMm2(arch), ComponentCosts.DacLeakageMw(arch)),
            new("sample_hold", (double)x * core.Crossbar.Cols, ComponentCosts.SampleHoldAreaMm2(arch), ComponentCosts.SampleHoldLeakageMw(arch)),
            new("shift_add", core.ShiftAddUnits, ComponentCosts.ShiftAddAreaMm2(arch), ComponentCosts.ShiftAddLeakageMw(arch)),
            new("local_memory", 1, ComponentCosts.LocalMemoryAreaMm2(arch), ComponentCosts.LocalMemoryLeakageMw(arch)),
            new("alu", core.VectorLanes, k.Alu.AreaMm2PerLane, k.Alu.LeakageMwPerLane),
        ];
    }

    /// <summary>Area of one core's parts (local memory at its configured size, per physical entry).</summary>
    public static ImmutableArray<Share> CoreArea(Architecture arch) =>
        [.. CoreParts(arch).Select(p => new Share(p.Component, p.Count * p.AreaMm2))];

    /// <summary>Leakage power of one core's parts, local memory whole (as puma-simulator's ima_metrics charges it).</summary>
    public static ImmutableArray<Share> CoreLeakageMw(Architecture arch) =>
        [.. CoreParts(arch).Select(p => new Share(p.Component, p.Count * p.LeakageMw))];

    /// <summary>
    /// Area of the whole node by component: every core and tile, the routers and the off-chip links
    /// of each of its chips (one chip unless the node has more).
    /// </summary>
    public static ImmutableArray<Share> ChipArea(Architecture arch) =>
    [
        .. Area(arch, arch.TotalCores, arch.TotalTiles, (long)arch.Chips * arch.Chip.Routers),
        new("offchip", arch.Chips * arch.Costs!.OffChip.Links * arch.Costs.OffChip.AreaMm2PerLink),
    ];

    /// <summary>
    /// Area of the hardware a program occupies (<see cref="UsedHardware"/>): its cores whole (local
    /// memory at its configured size), the tiles holding them, and the routers it uses; no off-chip
    /// links (a program runs on one chip).
    /// </summary>
    public static ImmutableArray<Share> UsedArea(Architecture arch, UsedHardware used) =>
        Area(arch, used.Cores.Count, used.Tiles.Count, used.Routers);

    private static ImmutableArray<Share> Area(Architecture arch, long cores, long tiles, long routers)
    {
        return
        [
            .. CoreArea(arch).Select(s => s with { Value = s.Value * cores }),
            new("tile_buffer", tiles * ComponentCosts.TileBufferAreaMm2(arch)),
            new("tile_bus", tiles * ComponentCosts.TileBusAreaMm2(arch)),
            new("router", routers * ComponentCosts.RouterAreaMm2(arch)),
        ];
    }

    /// <summary>
    /// Leakage power (mW) of the hardware the program uses, as puma-simulator charges it (power
    /// gating per core, tile and router): every core with a program (all its converters, units and
    /// its whole local memory), the tiles holding those cores, and the routers its messages pass.
    /// </summary>
    public static ImmutableArray<Share> LeakageMw(Architecture arch, UsedHardware used) =>
        Leakage(arch, used.Cores.Count, used.Tiles.Count, used.Routers, 1);

    /// <summary>
    /// Leakage energy (nJ) of one inference on an idle chip: each used core, tile and router's
    /// leakage power for as long as it is on (<see cref="LeakageTimes"/>; mW x ns = pJ), by the same
    /// components as <see cref="LeakageMw"/>.
    /// </summary>
    public static ImmutableArray<Share> LeakageNj(Architecture arch, LeakageTimes on) =>
        Leakage(arch, on.CoreNs.Sum(), on.TileNs.Sum(), on.RouterNs.Sum(), 1e-3);

    /// <summary>Per-unit leakage powers times unit counts (mW) or unit-nanoseconds (pJ), times <paramref name="scale"/>.</summary>
    private static ImmutableArray<Share> Leakage(Architecture arch, double cores, double tiles, double routers, double scale)
    {
        double perCore = CoreLeakageMw(arch).Where(s => s.Component != "local_memory").Sum(s => s.Value);
        return
        [
            new("cores", cores * perCore * scale),
            new("local_memory", cores * ComponentCosts.LocalMemoryLeakageMw(arch) * scale),
            new("tiles", tiles * (ComponentCosts.TileBufferLeakageMw(arch) + ComponentCosts.TileBusLeakageMw(arch)) * scale),
            new("routers", routers * ComponentCosts.RouterLeakageMw(arch) * scale),
        ];
    }
}
