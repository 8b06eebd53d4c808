using Cimc.Architectures;
using Cimc.Ir;
using Cimc.Performance;

namespace Cimc.Tests.Performance;

/// <summary>
/// The achieved figures of report.json kept apart: energy_nj is one inference on an idle chip (no
/// --batch in it), energy_per_inference_steady_nj the streamed figure, area_used_mm2 the hardware the
/// program occupies beside the chip's area_mm2.
/// </summary>
public sealed class AchievedFiguresTests
{
    private static readonly string[] CoreComponents = ["crossbar", "adc", "dac", "sample_hold", "shift_add", "local_memory", "alu"];

    private static (PerformanceReport One, PerformanceReport Many) Both(string preset)
    {
        Architecture arch = ArchitectureCatalog.Preset(preset);
        Compilation c = PerformanceFixtures.Compile(arch, 11, () => new Relu(), 300, 200, 64, 10);
        return (PerformanceFixtures.Evaluate(c, batch: 1), PerformanceFixtures.Evaluate(c, batch: 64));
    }

    private static double DynamicNj(PerformanceReport r) => r.EnergyBreakdownNj.Where(kv => kv.Key != "leakage").Sum(kv => kv.Value);

    [Theory]
    [InlineData("isaac")]
    [InlineData("puma")]
    [InlineData("edge")]
    public void Energy_per_inference_is_the_same_for_batch_1_and_batch_64(string preset)
    {
        (PerformanceReport one, PerformanceReport many) = Both(preset);
        Assert.Equal(one.EnergyNj, many.EnergyNj);
        Assert.Equal(one.EnergyBreakdownNj, many.EnergyBreakdownNj);
        Assert.Equal(one.TopsPerW, many.TopsPerW);
        Assert.True(many.ThroughputPerS > one.ThroughputPerS, "the stream must pipeline, or this test proves nothing");
    }

    /// <summary>
    /// In a stream the dynamic energy is the same and leakage is paid for makespan / N, which pipelining
    /// makes shorter than one idle-chip inference but never shorter than the busiest crossbar's work
    /// per inference (1 / the throughput bound): N inferences keep it busy at least N times as long.
    /// </summary>
    [Theory]
    [InlineData("puma")]
    [InlineData("edge")]
    public void The_streamed_energy_lies_between_the_dynamic_energy_plus_bounded_leakage_and_the_idle_chip_figure(string preset)
    {
        (PerformanceReport one, PerformanceReport many) = Both(preset);
        Assert.Equal(one.EnergyNj, one.EnergyPerInferenceSteadyNj, 9);
        double dynamic = DynamicNj(many);
        double leakageFloorNj = many.LeakagePowerMw * (1e9 / many.UpperBoundThroughputPerS) / 1000;
        Assert.True(many.LeakagePowerMw > 0, "a preset without leakage makes the bounds below trivial");
        Assert.True(many.EnergyPerInferenceSteadyNj >= dynamic + leakageFloorNj - 1e-9,
            $"{many.EnergyPerInferenceSteadyNj} nJ < {dynamic} nJ dynamic + {leakageFloorNj} nJ leakage floor");
        Assert.True(many.EnergyPerInferenceSteadyNj < many.EnergyNj, $"{many.EnergyPerInferenceSteadyNj} nJ streamed vs {many.EnergyNj} nJ idle");
    }

    /// <summary>isaac charges ISAAC's quoted power per event, so it has no leakage: streaming changes nothing.</summary>
    [Fact]
    public void Without_leakage_the_streamed_and_idle_figures_are_the_dynamic_energy()
    {
        (PerformanceReport one, PerformanceReport many) = Both("isaac");
        Assert.Equal(0, many.LeakagePowerMw);
        Assert.Equal(DynamicNj(one), one.EnergyNj, 9);
        Assert.Equal(one.EnergyNj, many.EnergyPerInferenceSteadyNj, 9);
    }

    /// <summary>The area used counts whole cores: at least their share of the chip's core area, at most the chip.</summary>
    [Theory]
    [InlineData("isaac")]
    [InlineData("puma")]
    [InlineData("edge")]
    public void The_area_used_is_at_least_the_used_cores_share_and_at_most_the_chip(string preset)
    {
        Architecture arch = ArchitectureCatalog.Preset(preset);
        PerformanceReport r = Both(preset).Many;
        double coreArea = CoreComponents.Sum(c => r.AreaBreakdownMm2[c]);
        double share = coreArea * r.CoresUsed / arch.TotalCores;
        Assert.True(r.AreaUsedMm2 >= share - 1e-12, $"{r.AreaUsedMm2} mm^2 < {share} mm^2 of {r.CoresUsed} cores");
        Assert.True(r.AreaUsedMm2 < r.AreaMm2, $"{r.AreaUsedMm2} mm^2 used of a {r.AreaMm2} mm^2 chip");
        Assert.True(r.TopsPerMm2Used > r.TopsPerMm2);
    }

    [Fact]
    public void A_program_on_every_core_uses_the_whole_chip()
    {
        // One tile of two edge cores; 100-100-10 at 8 bits is one core (8 crossbars) per layer.
        Architecture arch = ArchitectureCatalog.Preset("edge");
        Architecture small = arch with { Chip = arch.Chip with { Tiles = 1, Mesh = new MeshSpec(1, 1) }, Tile = arch.Tile with { Cores = 2 } };
        PerformanceReport r = PerformanceFixtures.Evaluate(PerformanceFixtures.Compile(small, 5, () => new Relu(), 100, 100, 10));
        Assert.Equal(small.TotalCores, r.CoresUsed);
        Assert.Equal(r.AreaMm2, r.AreaUsedMm2, 9);
    }
}
