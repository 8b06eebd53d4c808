using System.Text.Json;

namespace Cimc.Architectures;

/// <summary>
/// The `costs` object of the architecture JSON (docs/architecture.md, docs/cost-model.md section 1):
/// read strictly like the rest of the file (every key required, no unknown keys), written back in
/// full. Each group but `alu` and `offchip` holds an `anchor` object (the published design point)
/// beside its figures. A file of the older constant-cost form (no anchors, `adc` a table) is
/// refused with one line saying what changed.
/// </summary>
internal static class CostJson
{
    // Each group: its key, its anchor's keys (empty: no anchor) and its figures, in the order Write emits them.
    internal static readonly (string Key, string[] Anchor, string[] Fields)[] Groups =
    [
        ("crossbar", ["rows", "cols", "cell_bits", "dac_bits"], ["read_energy_pj", "read_latency_ns", "area_mm2", "leakage_mw"]),
        ("adc", ["bits"], ["energy_pj", "latency_ns", "area_mm2", "leakage_mw", "energy_knee_bits", "energy_growth_per_bit", "area_knee_bits", "area_growth_per_bit", "overhead_cycles"]),
        ("dac", ["bits", "pulse_ns"], ["energy_pj", "area_mm2", "leakage_mw"]),
        ("sample_hold", ["adc_bits"], ["energy_pj", "area_mm2", "leakage_mw"]),
        ("shift_add", ["width_bits"], ["energy_pj", "area_mm2", "leakage_mw"]),
        ("local_memory", ["words"], ["access_energy_pj", "access_latency_ns", "area_mm2_per_kword", "leakage_mw_per_kword"]),
        ("tile_buffer", ["bytes", "access_bits"], ["access_energy_pj", "access_bits", "access_latency_ns", "area_mm2", "leakage_mw"]),
        ("tile_bus", ["bus_bits"], ["energy_pj", "area_mm2", "leakage_mw"]),
        ("alu", [], ["add_energy_pj", "mul_energy_pj", "lookup_energy_pj", "area_mm2_per_lane", "leakage_mw_per_lane"]),
        ("noc", ["link_bits"], ["router_energy_pj_per_bit", "link_energy_pj_per_bit", "router_area_mm2", "router_leakage_mw"]),
        ("offchip", [], ["links", "power_mw_per_link", "area_mm2_per_link"]),
    ];

    private const string OldForm = "uses the old constant-cost form: every group now states the published design point it was measured at ('anchor'), 'adc' is one object with its figure-of-merit curve instead of a table, and 'offchip' is new (docs/cost-model.md section 1)";

    private static (string[] Anchor, string[] Fields) Keys(string group)
    {
        var g = Groups.First(g => g.Key == group);
        return (g.Anchor, g.Fields);
    }

    /// <summary>Key paths for citing sources: costs, costs.adc, costs.adc.anchor, costs.adc.anchor.bits, costs.adc.energy_pj, ...</summary>
    internal static IEnumerable<string> KeyPaths() =>
        Groups.SelectMany(g => g.Fields.Select(f => $"costs.{g.Key}.{f}")
            .Concat(g.Anchor.Length == 0 ? [] : g.Anchor.Select(a => $"costs.{g.Key}.anchor.{a}").Prepend($"costs.{g.Key}.anchor"))
            .Prepend($"costs.{g.Key}")).Prepend("costs");

    internal static CostSpec Read(JsonElement element)
    {
        bool old = element.ValueKind == JsonValueKind.Object
            && ((element.TryGetProperty("adc", out JsonElement adcElement) && adcElement.ValueKind == JsonValueKind.Array)
                || (element.TryGetProperty("crossbar", out JsonElement xbElement) && xbElement.ValueKind == JsonValueKind.Object && !xbElement.TryGetProperty("anchor", out _)));
        if (old)
        {
            throw ArchitectureValidator.Error("costs", OldForm);
        }

        var costs = new JsonObjectReader(element, "costs", [.. Groups.Select(g => g.Key)]);
        (JsonObjectReader Group, JsonObjectReader? Anchor) G(string key)
        {
            (string[] anchor, string[] fields) = Keys(key);
            JsonObjectReader o = costs.Object(key, anchor.Length == 0 ? fields : [.. fields.Prepend("anchor")]);
            return (o, anchor.Length == 0 ? null : o.Object("anchor", anchor));
        }

        var (xb, xba) = G("crossbar");
        var (adc, adca) = G("adc");
        var (dac, daca) = G("dac");
        var (sh, sha) = G("sample_hold");
        var (sa, saa) = G("shift_add");
        var (lm, lma) = G("local_memory");
        var (tb, tba) = G("tile_buffer");
        var (bus, busa) = G("tile_bus");
        var (alu, _) = G("alu");
        var (noc, noca) = G("noc");
        var (off, _) = G("offchip");
        return new CostSpec(
            new CrossbarCost(xba!.Int("rows"), xba.Int("cols"), xba.Int("cell_bits"), xba.Int("dac_bits"), xb.Double("read_energy_pj"), xb.Double("read_latency_ns"), xb.Double("area_mm2"), xb.Double("leakage_mw")),
            new AdcCurve(
                new AdcCost(adca!.Int("bits"), adc.Double("energy_pj"), adc.Double("latency_ns"), adc.Double("area_mm2"), adc.Double("leakage_mw")),
                adc.Double("energy_knee_bits"), adc.Double("energy_growth_per_bit"), adc.Double("area_knee_bits"), adc.Double("area_growth_per_bit"), adc.Double("overhead_cycles")),
            new DacCost(daca!.Int("bits"), daca.Double("pulse_ns"), dac.Double("energy_pj"), dac.Double("area_mm2"), dac.Double("leakage_mw")),
            new SampleHoldCost(sha!.Int("adc_bits"), sh.Double("energy_pj"), sh.Double("area_mm2"), sh.Double("leakage_mw")),
            new ShiftAddCost(saa!.Int("width_bits"), sa.Double("energy_pj"), sa.Double("area_mm2"), sa.Double("leakage_mw")),
            new LocalMemoryCost(lma!.Int("words"), lm.Double("access_energy_pj"), lm.Double("access_latency_ns"), lm.Double("area_mm2_per_kword"), lm.Double("leakage_mw_per_kword")),
            new TileBufferCost(tba!.Long("bytes"), tba.Int("access_bits"), tb.Double("access_energy_pj"), tb.Int("access_bits"), tb.Double("access_latency_ns"), tb.Double("area_mm2"), tb.Double("leakage_mw")),
            new TileBusCost(busa!.Int("bus_bits"), bus.Double("energy_pj"), bus.Double("area_mm2"), bus.Double("leakage_mw")),
            new AluCost(alu.Double("add_energy_pj"), alu.Double("mul_energy_pj"), alu.Double("lookup_energy_pj"), alu.Double("area_mm2_per_lane"), alu.Double("leakage_mw_per_lane")),
            new NocCost(noca!.Int("link_bits"), noc.Double("router_energy_pj_per_bit"), noc.Double("link_energy_pj_per_bit"), noc.Double("router_area_mm2"), noc.Double("router_leakage_mw")),
            new OffChipCost(off.Int("links"), off.Double("power_mw_per_link"), off.Double("area_mm2_per_link")));
    }

    internal static void Write(Utf8JsonWriter w, CostSpec c)
    {
        void Group(string key, (string Name, double Value)[] anchor, params (string Name, double Value)[] fields)
        {
            w.WriteStartObject(key);
            if (anchor.Length > 0)
            {
                w.WriteStartObject("anchor");
                foreach ((string name, double value) in anchor)
                {
                    w.WriteNumber(name, value);
                }

                w.WriteEndObject();
            }

            foreach ((string name, double value) in fields)
            {
                w.WriteNumber(name, value);
            }

            w.WriteEndObject();
        }

        w.WriteStartObject("costs");
        CrossbarCost xb = c.Crossbar;
        Group("crossbar", [("rows", xb.AnchorRows), ("cols", xb.AnchorCols), ("cell_bits", xb.AnchorCellBits), ("dac_bits", xb.AnchorDacBits)],
            ("read_energy_pj", xb.ReadEnergyPj), ("read_latency_ns", xb.ReadLatencyNs), ("area_mm2", xb.AreaMm2), ("leakage_mw", xb.LeakageMw));
        AdcCurve adc = c.Adc;
        Group("adc", [("bits", adc.Anchor.Bits)],
            ("energy_pj", adc.Anchor.EnergyPj), ("latency_ns", adc.Anchor.LatencyNs), ("area_mm2", adc.Anchor.AreaMm2), ("leakage_mw", adc.Anchor.LeakageMw),
            ("energy_knee_bits", adc.EnergyKneeBits), ("energy_growth_per_bit", adc.EnergyGrowthPerBit), ("area_knee_bits", adc.AreaKneeBits), ("area_growth_per_bit", adc.AreaGrowthPerBit), ("overhead_cycles", adc.OverheadCycles));
        Group("dac", [("bits", c.Dac.AnchorBits), ("pulse_ns", c.Dac.AnchorPulseNs)], ("energy_pj", c.Dac.EnergyPj), ("area_mm2", c.Dac.AreaMm2), ("leakage_mw", c.Dac.LeakageMw));
        Group("sample_hold", [("adc_bits", c.SampleHold.AnchorAdcBits)], ("energy_pj", c.SampleHold.EnergyPj), ("area_mm2", c.SampleHold.AreaMm2), ("leakage_mw", c.SampleHold.LeakageMw));
        Group("shift_add", [("width_bits", c.ShiftAdd.AnchorWidthBits)], ("energy_pj", c.ShiftAdd.EnergyPj), ("area_mm2", c.ShiftAdd.AreaMm2), ("leakage_mw", c.ShiftAdd.LeakageMw));
        LocalMemoryCost lm = c.LocalMemory;
        Group("local_memory", [("words", lm.AnchorWords)], ("access_energy_pj", lm.AccessEnergyPj), ("access_latency_ns", lm.AccessLatencyNs), ("area_mm2_per_kword", lm.AreaMm2PerKword), ("leakage_mw_per_kword", lm.LeakageMwPerKword));
        TileBufferCost tb = c.TileBuffer;
        Group("tile_buffer", [("bytes", tb.AnchorBytes), ("access_bits", tb.AnchorAccessBits)],
            ("access_energy_pj", tb.AccessEnergyPj), ("access_bits", tb.AccessBits), ("access_latency_ns", tb.AccessLatencyNs), ("area_mm2", tb.AreaMm2), ("leakage_mw", tb.LeakageMw));
        Group("tile_bus", [("bus_bits", c.TileBus.AnchorBusBits)], ("energy_pj", c.TileBus.EnergyPj), ("area_mm2", c.TileBus.AreaMm2), ("leakage_mw", c.TileBus.LeakageMw));
        AluCost alu = c.Alu;
        Group("alu", [], ("add_energy_pj", alu.AddEnergyPj), ("mul_energy_pj", alu.MulEnergyPj), ("lookup_energy_pj", alu.LookupEnergyPj), ("area_mm2_per_lane", alu.AreaMm2PerLane), ("leakage_mw_per_lane", alu.LeakageMwPerLane));
        NocCost noc = c.Noc;
        Group("noc", [("link_bits", noc.AnchorLinkBits)], ("router_energy_pj_per_bit", noc.RouterEnergyPjPerBit), ("link_energy_pj_per_bit", noc.LinkEnergyPjPerBit), ("router_area_mm2", noc.RouterAreaMm2), ("router_leakage_mw", noc.RouterLeakageMw));
        Group("offchip", [], ("links", c.OffChip.Links), ("power_mw_per_link", c.OffChip.PowerMwPerLink), ("area_mm2_per_link", c.OffChip.AreaMm2PerLink));
        w.WriteEndObject();
    }

    /// <summary>Ranges: every figure finite and non-negative; latencies, anchors and widths positive; growth at least 1.</summary>
    internal static void Validate(CostSpec c)
    {
        void NonNegative(string key, double v)
        {
            if (!double.IsFinite(v) || v < 0 || v > 1e12)
            {
                throw ArchitectureValidator.Error(key, $"must be a finite number >= 0 (got {v})");
            }
        }

        void Positive(string key, double v)
        {
            if (!double.IsFinite(v) || v <= 0 || v > 1e12)
            {
                throw ArchitectureValidator.Error(key, $"must be a finite number > 0 (got {v})");
            }
        }

        void Range(string key, double v, double lo, double hi)
        {
            if (!double.IsFinite(v) || v < lo || v > hi)
            {
                throw ArchitectureValidator.Error(key, $"must be between {lo} and {hi} (got {v})");
            }
        }

        CrossbarCost xb = c.Crossbar;
        Range("costs.crossbar.anchor.rows", xb.AnchorRows, 1, 1 << 16);
        Range("costs.crossbar.anchor.cols", xb.AnchorCols, 1, 1 << 16);
        Range("costs.crossbar.anchor.cell_bits", xb.AnchorCellBits, 1, 16);
        Range("costs.crossbar.anchor.dac_bits", xb.AnchorDacBits, 1, 16);
        NonNegative("costs.crossbar.read_energy_pj", xb.ReadEnergyPj);
        Positive("costs.crossbar.read_latency_ns", xb.ReadLatencyNs);
        NonNegative("costs.crossbar.area_mm2", xb.AreaMm2);
        NonNegative("costs.crossbar.leakage_mw", xb.LeakageMw);

        AdcCurve adc = c.Adc;
        Range("costs.adc.anchor.bits", adc.Anchor.Bits, 1, 16);
        NonNegative("costs.adc.energy_pj", adc.Anchor.EnergyPj);
        Positive("costs.adc.latency_ns", adc.Anchor.LatencyNs);
        NonNegative("costs.adc.area_mm2", adc.Anchor.AreaMm2);
        NonNegative("costs.adc.leakage_mw", adc.Anchor.LeakageMw);
        Range("costs.adc.energy_knee_bits", adc.EnergyKneeBits, 1, 32);
        Range("costs.adc.energy_growth_per_bit", adc.EnergyGrowthPerBit, 1, 16);
        Range("costs.adc.area_knee_bits", adc.AreaKneeBits, 1, 32);
        Range("costs.adc.area_growth_per_bit", adc.AreaGrowthPerBit, 1, 16);
        Range("costs.adc.overhead_cycles", adc.OverheadCycles, 0, 64);

        Range("costs.dac.anchor.bits", c.Dac.AnchorBits, 1, 16);
        Positive("costs.dac.anchor.pulse_ns", c.Dac.AnchorPulseNs);
        Range("costs.sample_hold.anchor.adc_bits", c.SampleHold.AnchorAdcBits, 1, 16);
        Range("costs.shift_add.anchor.width_bits", c.ShiftAdd.AnchorWidthBits, 1, 128);
        foreach ((string key, double e, double a, double l) in new[]
        {
            ("dac", c.Dac.EnergyPj, c.Dac.AreaMm2, c.Dac.LeakageMw),
            ("sample_hold", c.SampleHold.EnergyPj, c.SampleHold.AreaMm2, c.SampleHold.LeakageMw),
            ("shift_add", c.ShiftAdd.EnergyPj, c.ShiftAdd.AreaMm2, c.ShiftAdd.LeakageMw),
            ("tile_bus", c.TileBus.EnergyPj, c.TileBus.AreaMm2, c.TileBus.LeakageMw),
        })
        {
            NonNegative($"costs.{key}.energy_pj", e);
            NonNegative($"costs.{key}.area_mm2", a);
            NonNegative($"costs.{key}.leakage_mw", l);
        }

        LocalMemoryCost lm = c.LocalMemory;
        Range("costs.local_memory.anchor.words", lm.AnchorWords, 1, 1 << 30);
        NonNegative("costs.local_memory.access_energy_pj", lm.AccessEnergyPj);
        Positive("costs.local_memory.access_latency_ns", lm.AccessLatencyNs);
        NonNegative("costs.local_memory.area_mm2_per_kword", lm.AreaMm2PerKword);
        NonNegative("costs.local_memory.leakage_mw_per_kword", lm.LeakageMwPerKword);

        TileBufferCost tb = c.TileBuffer;
        Range("costs.tile_buffer.anchor.bytes", tb.AnchorBytes, 1, 1L << 40);
        Range("costs.tile_buffer.anchor.access_bits", tb.AnchorAccessBits, 1, 4096);
        NonNegative("costs.tile_buffer.access_energy_pj", tb.AccessEnergyPj);
        Range("costs.tile_buffer.access_bits", tb.AccessBits, 1, 4096);
        Positive("costs.tile_buffer.access_latency_ns", tb.AccessLatencyNs);
        NonNegative("costs.tile_buffer.area_mm2", tb.AreaMm2);
        NonNegative("costs.tile_buffer.leakage_mw", tb.LeakageMw);
        Range("costs.tile_bus.anchor.bus_bits", c.TileBus.AnchorBusBits, 1, 1 << 16);

        NonNegative("costs.alu.add_energy_pj", c.Alu.AddEnergyPj);
        NonNegative("costs.alu.mul_energy_pj", c.Alu.MulEnergyPj);
        NonNegative("costs.alu.lookup_energy_pj", c.Alu.LookupEnergyPj);
        NonNegative("costs.alu.area_mm2_per_lane", c.Alu.AreaMm2PerLane);
        NonNegative("costs.alu.leakage_mw_per_lane", c.Alu.LeakageMwPerLane);

        Range("costs.noc.anchor.link_bits", c.Noc.AnchorLinkBits, 1, 1 << 16);
        NonNegative("costs.noc.router_energy_pj_per_bit", c.Noc.RouterEnergyPjPerBit);
        NonNegative("costs.noc.link_energy_pj_per_bit", c.Noc.LinkEnergyPjPerBit);
        NonNegative("costs.noc.router_area_mm2", c.Noc.RouterAreaMm2);
        NonNegative("costs.noc.router_leakage_mw", c.Noc.RouterLeakageMw);

        Range("costs.offchip.links", c.OffChip.Links, 0, 1024);
        NonNegative("costs.offchip.power_mw_per_link", c.OffChip.PowerMwPerLink);
        NonNegative("costs.offchip.area_mm2_per_link", c.OffChip.AreaMm2PerLink);
    }
}
