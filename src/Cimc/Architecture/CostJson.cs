using System.Collections.Immutable;
using System.Text.Json;

namespace Cimc.Architectures;

/// <summary>
/// The `costs` object of the architecture JSON (docs/architecture.md, docs/cost-model.md): read
/// strictly like the rest of the file (every key required, no unknown keys), written back in full.
/// </summary>
internal static class CostJson
{
    // Each group: its key and its fields, in the order Write emits them.
    internal static readonly (string Key, string[] Fields)[] Groups =
    [
        ("crossbar", ["read_energy_pj", "read_latency_ns", "area_mm2", "leakage_mw"]),
        ("adc", ["bits", "energy_pj", "latency_ns", "area_mm2", "leakage_mw"]),
        ("dac", ["energy_pj", "area_mm2", "leakage_mw"]),
        ("sample_hold", ["energy_pj", "area_mm2", "leakage_mw"]),
        ("shift_add", ["energy_pj", "area_mm2", "leakage_mw"]),
        ("local_memory", ["access_energy_pj", "access_latency_ns", "area_mm2_per_kword", "leakage_mw_per_kword"]),
        ("tile_buffer", ["access_energy_pj", "access_bits", "access_latency_ns", "area_mm2", "leakage_mw"]),
        ("tile_bus", ["energy_pj", "area_mm2", "leakage_mw"]),
        ("alu", ["add_energy_pj", "mul_energy_pj", "lookup_energy_pj", "area_mm2_per_lane", "leakage_mw_per_lane"]),
        ("noc", ["router_energy_pj_per_bit", "link_energy_pj_per_bit", "router_area_mm2", "router_leakage_mw"]),
    ];

    private static string[] Fields(string group) => Groups.First(g => g.Key == group).Fields;

    /// <summary>Key paths for citing sources: costs, costs.adc, costs.adc.bits, ...</summary>
    internal static IEnumerable<string> KeyPaths() =>
        Groups.SelectMany(g => g.Fields.Select(f => $"costs.{g.Key}.{f}").Prepend($"costs.{g.Key}")).Prepend("costs");

    internal static CostSpec Read(JsonObjectReader costs)
    {
        JsonObjectReader G(string key) => costs.Object(key, Fields(key));
        UnitCost Unit(string key)
        {
            JsonObjectReader o = G(key);
            return new UnitCost(o.Double("energy_pj"), o.Double("area_mm2"), o.Double("leakage_mw"));
        }

        JsonObjectReader xb = G("crossbar"), lm = G("local_memory"), tb = G("tile_buffer"), alu = G("alu"), noc = G("noc");
        var adc = costs.Objects("adc", Fields("adc"))
            .Select(a => new AdcCost(a.Int("bits"), a.Double("energy_pj"), a.Double("latency_ns"), a.Double("area_mm2"), a.Double("leakage_mw")))
            .ToImmutableArray();
        return new CostSpec(
            new CrossbarCost(xb.Double("read_energy_pj"), xb.Double("read_latency_ns"), xb.Double("area_mm2"), xb.Double("leakage_mw")),
            new AdcCostTable(adc),
            Unit("dac"),
            Unit("sample_hold"),
            Unit("shift_add"),
            new LocalMemoryCost(lm.Double("access_energy_pj"), lm.Double("access_latency_ns"), lm.Double("area_mm2_per_kword"), lm.Double("leakage_mw_per_kword")),
            new TileBufferCost(tb.Double("access_energy_pj"), tb.Int("access_bits"), tb.Double("access_latency_ns"), tb.Double("area_mm2"), tb.Double("leakage_mw")),
            Unit("tile_bus"),
            new AluCost(alu.Double("add_energy_pj"), alu.Double("mul_energy_pj"), alu.Double("lookup_energy_pj"), alu.Double("area_mm2_per_lane"), alu.Double("leakage_mw_per_lane")),
            new NocCost(noc.Double("router_energy_pj_per_bit"), noc.Double("link_energy_pj_per_bit"), noc.Double("router_area_mm2"), noc.Double("router_leakage_mw")));
    }

    internal static void Write(Utf8JsonWriter w, CostSpec c)
    {
        void Object(string key, params (string Name, double Value)[] fields)
        {
            w.WriteStartObject(key);
            foreach ((string name, double value) in fields)
            {
                w.WriteNumber(name, value);
            }

            w.WriteEndObject();
        }

        void Unit(string key, UnitCost u) => Object(key, ("energy_pj", u.EnergyPj), ("area_mm2", u.AreaMm2), ("leakage_mw", u.LeakageMw));

        w.WriteStartObject("costs");
        Object("crossbar", ("read_energy_pj", c.Crossbar.ReadEnergyPj), ("read_latency_ns", c.Crossbar.ReadLatencyNs), ("area_mm2", c.Crossbar.AreaMm2), ("leakage_mw", c.Crossbar.LeakageMw));
        w.WriteStartArray("adc");
        foreach (AdcCost a in c.Adc.Entries)
        {
            w.WriteStartObject();
            w.WriteNumber("bits", a.Bits);
            w.WriteNumber("energy_pj", a.EnergyPj);
            w.WriteNumber("latency_ns", a.LatencyNs);
            w.WriteNumber("area_mm2", a.AreaMm2);
            w.WriteNumber("leakage_mw", a.LeakageMw);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        Unit("dac", c.Dac);
        Unit("sample_hold", c.SampleHold);
        Unit("shift_add", c.ShiftAdd);
        LocalMemoryCost lm = c.LocalMemory;
        Object("local_memory", ("access_energy_pj", lm.AccessEnergyPj), ("access_latency_ns", lm.AccessLatencyNs), ("area_mm2_per_kword", lm.AreaMm2PerKword), ("leakage_mw_per_kword", lm.LeakageMwPerKword));
        TileBufferCost tb = c.TileBuffer;
        Object("tile_buffer", ("access_energy_pj", tb.AccessEnergyPj), ("access_bits", tb.AccessBits), ("access_latency_ns", tb.AccessLatencyNs), ("area_mm2", tb.AreaMm2), ("leakage_mw", tb.LeakageMw));
        Unit("tile_bus", c.TileBus);
        AluCost alu = c.Alu;
        Object("alu", ("add_energy_pj", alu.AddEnergyPj), ("mul_energy_pj", alu.MulEnergyPj), ("lookup_energy_pj", alu.LookupEnergyPj), ("area_mm2_per_lane", alu.AreaMm2PerLane), ("leakage_mw_per_lane", alu.LeakageMwPerLane));
        NocCost noc = c.Noc;
        Object("noc", ("router_energy_pj_per_bit", noc.RouterEnergyPjPerBit), ("link_energy_pj_per_bit", noc.LinkEnergyPjPerBit), ("router_area_mm2", noc.RouterAreaMm2), ("router_leakage_mw", noc.RouterLeakageMw));
        w.WriteEndObject();
    }

    /// <summary>Ranges: every figure finite and non-negative; latencies and widths positive; ADC bits unique.</summary>
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

        NonNegative("costs.crossbar.read_energy_pj", c.Crossbar.ReadEnergyPj);
        Positive("costs.crossbar.read_latency_ns", c.Crossbar.ReadLatencyNs);
        NonNegative("costs.crossbar.area_mm2", c.Crossbar.AreaMm2);
        NonNegative("costs.crossbar.leakage_mw", c.Crossbar.LeakageMw);
        if (c.Adc.Entries.IsEmpty)
        {
            throw ArchitectureValidator.Error("costs.adc", "needs at least one entry");
        }

        for (int i = 0; i < c.Adc.Entries.Length; i++)
        {
            AdcCost a = c.Adc.Entries[i];
            string at = $"costs.adc[bits={a.Bits}]";
            if (a.Bits is < 1 or > 16 || (i > 0 && c.Adc.Entries[i - 1].Bits == a.Bits))
            {
                throw ArchitectureValidator.Error(at, "bits must be 1 to 16 and appear once");
            }

            NonNegative($"{at}.energy_pj", a.EnergyPj);
            Positive($"{at}.latency_ns", a.LatencyNs);
            NonNegative($"{at}.area_mm2", a.AreaMm2);
            NonNegative($"{at}.leakage_mw", a.LeakageMw);
        }

        foreach ((string key, UnitCost u) in new[] { ("dac", c.Dac), ("sample_hold", c.SampleHold), ("shift_add", c.ShiftAdd), ("tile_bus", c.TileBus) })
        {
            NonNegative($"costs.{key}.energy_pj", u.EnergyPj);
            NonNegative($"costs.{key}.area_mm2", u.AreaMm2);
            NonNegative($"costs.{key}.leakage_mw", u.LeakageMw);
        }

        NonNegative("costs.local_memory.access_energy_pj", c.LocalMemory.AccessEnergyPj);
        Positive("costs.local_memory.access_latency_ns", c.LocalMemory.AccessLatencyNs);
        NonNegative("costs.local_memory.area_mm2_per_kword", c.LocalMemory.AreaMm2PerKword);
        NonNegative("costs.local_memory.leakage_mw_per_kword", c.LocalMemory.LeakageMwPerKword);
        NonNegative("costs.tile_buffer.access_energy_pj", c.TileBuffer.AccessEnergyPj);
        if (c.TileBuffer.AccessBits is < 1 or > 4096)
        {
            throw ArchitectureValidator.Error("costs.tile_buffer.access_bits", $"must be between 1 and 4096 (got {c.TileBuffer.AccessBits})");
        }

        Positive("costs.tile_buffer.access_latency_ns", c.TileBuffer.AccessLatencyNs);
        NonNegative("costs.tile_buffer.area_mm2", c.TileBuffer.AreaMm2);
        NonNegative("costs.tile_buffer.leakage_mw", c.TileBuffer.LeakageMw);
        NonNegative("costs.alu.add_energy_pj", c.Alu.AddEnergyPj);
        NonNegative("costs.alu.mul_energy_pj", c.Alu.MulEnergyPj);
        NonNegative("costs.alu.lookup_energy_pj", c.Alu.LookupEnergyPj);
        NonNegative("costs.alu.area_mm2_per_lane", c.Alu.AreaMm2PerLane);
        NonNegative("costs.alu.leakage_mw_per_lane", c.Alu.LeakageMwPerLane);
        NonNegative("costs.noc.router_energy_pj_per_bit", c.Noc.RouterEnergyPjPerBit);
        NonNegative("costs.noc.link_energy_pj_per_bit", c.Noc.LinkEnergyPjPerBit);
        NonNegative("costs.noc.router_area_mm2", c.Noc.RouterAreaMm2);
        NonNegative("costs.noc.router_leakage_mw", c.Noc.RouterLeakageMw);
    }
}
