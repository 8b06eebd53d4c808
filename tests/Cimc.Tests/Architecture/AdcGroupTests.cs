using System.Collections.Immutable;
using System.Text.Json.Nodes;
using Cimc.Architectures;
using Cimc.Diagnostics;
using Cimc.Isa;
using Cimc.Performance;

namespace Cimc.Tests.Architectures;

/// <summary>ADCs shared by a group of crossbars (core.adc.per_group, core.adc.group_crossbars).</summary>
public sealed class AdcGroupTests
{
    private static JsonObject Edge() => JsonNode.Parse(ArchitectureJson.Write(ArchitectureCatalog.Preset("edge")))!.AsObject();

    private static JsonObject Grouped(int perGroup, int groupCrossbars)
    {
        JsonObject root = Edge();
        root["core"]!["adc"] = new JsonObject { ["bits"] = 8, ["per_group"] = perGroup, ["group_crossbars"] = groupCrossbars };
        return root;
    }

    private static string Refused(JsonObject root) =>
        Assert.Throws<CimcException>(() => ArchitectureJson.Parse(root.ToJsonString(), "my.json")).Message;

    [Fact]
    public void A_grouped_adc_reads_writes_and_reads_back_the_same()
    {
        Architecture arch = ArchitectureJson.Parse(Grouped(4, 2).ToJsonString());
        Assert.Equal(new AdcSpec(8, 4, 2), arch.Core.Adc);
        string json = ArchitectureJson.Write(arch);
        Assert.Contains("\"per_group\": 4", json);
        Assert.Contains("\"group_crossbars\": 2", json);
        Assert.DoesNotContain("per_crossbar", json);
        Assert.Equal(arch, ArchitectureJson.Parse(json));
    }

    [Fact]
    public void The_old_per_crossbar_form_still_reads_and_is_what_an_unshared_adc_writes()
    {
        Architecture edge = ArchitectureCatalog.Preset("edge");
        Assert.Equal(new AdcSpec(8, 16, 1), edge.Core.Adc);
        Assert.Contains("\"per_crossbar\": 16", ArchitectureJson.Write(edge));
        Assert.Equal(edge.Core.Crossbars * 16, edge.Core.AdcsPerCore);
    }

    [Theory]
    [InlineData(4, 3, "core.adc.group_crossbars: must be between 1 and core.crossbars = 8 and divide it (got 3)")]
    [InlineData(4, 16, "core.adc.group_crossbars: must be between 1 and core.crossbars = 8 and divide it (got 16)")]
    [InlineData(4, 1, "core.adc.group_crossbars: must be at least 2 (got 1; for ADCs of one crossbar write per_crossbar)")]
    [InlineData(0, 2, "core.adc.per_group: must be between 1 and group_crossbars x core.crossbar.cols = 256 (got 0)")]
    [InlineData(257, 2, "core.adc.per_group: must be between 1 and group_crossbars x core.crossbar.cols = 256 (got 257)")]
    public void Bad_group_figures_are_refused_naming_the_key(int perGroup, int groupCrossbars, string message) =>
        Assert.Equal(message, Refused(Grouped(perGroup, groupCrossbars)));

    [Fact]
    public void Per_crossbar_with_a_group_is_refused_and_a_missing_half_is_named()
    {
        JsonObject both = Grouped(4, 2);
        both["core"]!["adc"]!["per_crossbar"] = 2;
        Assert.StartsWith("core.adc.per_crossbar: cannot be given with per_group", Refused(both));
        JsonObject half = Grouped(4, 2);
        half["core"]!["adc"]!.AsObject().Remove("per_group");
        Assert.Equal("core.adc.per_group: required key is missing", Refused(half));
    }

    [Fact]
    public void Adc_count_area_and_leakage_follow_the_closed_form()
    {
        Architecture puma = ArchitectureCatalog.Preset("puma");
        AdcCost adc = CostModel.Adc(puma);
        Assert.Equal(16 / 8 * 2, puma.Core.AdcsPerCore);
        Assert.Equal(4 * adc.AreaMm2, CostModel.CoreArea(puma).Single(s => s.Component == "adc").Value, 12);
        Assert.Equal(168 * 8 * 4 * adc.AreaMm2, CostModel.ChipArea(puma).Single(s => s.Component == "adc").Value, 9);
        Architecture unshared = puma with { Core = puma.Core with { Adc = new AdcSpec(8, 2) } };
        Assert.Equal(8 * CostModel.CoreArea(puma).Single(s => s.Component == "adc").Value, CostModel.CoreArea(unshared).Single(s => s.Component == "adc").Value, 12);
    }

    [Fact]
    public void One_mvmu_of_eight_crossbars_sharing_two_adcs_keeps_pumas_18_us()
    {
        Architecture puma = ArchitectureCatalog.Preset("puma");
        Assert.Equal(100, CostModel.ConvertNs(puma, 8 * 128), 6); // 512 columns per ADC per slice = adc_lat
        double latency = Run(puma, Enumerable.Range(0, 8).ToArray());
        Assert.InRange(latency, 1800, 1800 + 20); // 100 ns x (16 + 2), plus issue and halt cycles
    }

    [Fact]
    public void Two_mvms_on_one_adc_group_are_slower_than_on_two_groups()
    {
        // edge: 8 crossbars, 16 ADCs of 20 ns; grouped in pairs, an mvm alone converts 128 / 16 = 8 columns x 20 ns = 160 ns per slice (> 100 ns read).
        Architecture edge = ArchitectureCatalog.Preset("edge");
        Architecture paired = edge with { Core = edge.Core with { Adc = new AdcSpec(edge.Core.Adc.Bits, 16, 2) } };
        double slice = CostModel.SliceNs(paired, 128);
        Assert.Equal(160, slice, 6);
        double apart = Run(paired, 0, 2), shared = Run(paired, 0, 1);
        Assert.InRange(apart, (8 + 2) * slice, ((8 + 2) * slice) + 10);
        Assert.InRange(shared, ((2 * 8) + 2) * slice, (((2 * 8) + 2) * slice) + 10); // the second converts after the first
        Assert.Equal(apart, Run(edge, 0, 1), 6); // unshared ADCs: no contention
    }

    /// <summary>Latency of one core running 8-bit 128x128 mvms on the given crossbars at once, then halting.</summary>
    private static double Run(Architecture arch, params int[] crossbars)
    {
        ArchHeader h = Compiler.Header(arch);
        int ibits = arch.DefaultPrecision.ActivationBits;
        var code = crossbars.Select(x => Instruction.Mvm(x, 0, 1024, 128, 128, ibits, 0, false)).Append(Instruction.Halt());
        var program = new ProgramImage(h, new InputSpec(0, 0, 1, 1, 0, 0, 255), new OutputSpec(0, 1, 1, [1.0], [0]), [new CoreProgram(0, [.. code])]);
        ImmutableArray<LayerSpan> none = [];
        return PerformanceReport.Evaluate(new PerformanceInput(program, arch, none), "m").LatencyNs;
    }
}
