using Cimc.Architectures;
using Cimc.Diagnostics;
using Cimc.Ir;
using Cimc.Isa;
using Cimc.Performance;
using CsCheck;

namespace Cimc.Tests.Performance;

/// <summary>The bounds of report.json are true bounds: no program on any chip beats them.</summary>
public sealed class TimingBoundTests
{
    /// <summary>Relative slack for floating-point rounding only.</summary>
    private const double Rounding = 1e-9;

    [Fact]
    public void Latency_is_never_below_its_bound_nor_throughput_above_its_bound_on_random_programs_and_chips()
    {
        int simulated = 0, multiChip = 0;
        Gen.Int[0, int.MaxValue].Sample(seed =>
        {
            var rng = new Random(seed);
            Architecture arch = RandomChip(rng);
            int[] widths = [.. Enumerable.Range(0, rng.Next(2, 5)).Select(_ => rng.Next(1, 160))];
            var options = Compiler.OptionsFor(arch) with { WeightBits = rng.Next(2, 9), ActivationBits = rng.Next(2, 9) };
            options = options with { RowsPerRead = rng.Next(3) == 0 ? rng.Next(1, arch.Core.Crossbar.Rows + 1) : 0 };

            // Half the draws: a node of small chips, sized to the network (--chips auto), so
            // that messages cross chip-to-chip links of random bandwidth and latency.
            bool node = rng.Next(2) == 0;
            var settings = Passes.CompileSettings.Default;
            if (node)
            {
                arch = Compile.MultiChipTests.SmallNode(arch, rng);
                settings = settings with { AutoChips = true, Placement = (Passes.PlacementChoice)rng.Next(3) };
            }

            Compilation c;
            try
            {
                settings = settings with { Level = (Passes.OptLevel)rng.Next(3) };
                c = PerformanceFixtures.Compile(settings, arch, options, seed, rng.Next(3) switch { 0 => () => new Relu(), 1 => () => new Sigmoid(), _ => null }, widths);
            }
            catch (CimcException)
            {
                return; // a network this chip cannot hold: nothing to time
            }

            int batch = rng.Next(1, 17);
            PerformanceReport r = PerformanceFixtures.Evaluate(c, batch);
            Assert.True(r.LatencyNs >= r.LowerBoundLatencyNs * (1 - Rounding),
                $"seed {seed}: latency {r.LatencyNs} < bound {r.LowerBoundLatencyNs} ({r.LowerBoundLimit}) on {Describe(arch)}, batch {batch}");
            Assert.True(r.LatencyNs >= r.MvmSequenceBoundNs * (1 - Rounding) && r.MvmSequenceBoundNs > 0,
                $"seed {seed}: latency {r.LatencyNs} < the layers' mvms in sequence {r.MvmSequenceBoundNs} on {Describe(arch)}");
            Assert.True(r.LowerBoundLatencyNs >= r.MvmSequenceBoundNs * (1 - Rounding));
            Assert.True(r.ThroughputPerS <= r.UpperBoundThroughputPerS * (1 + Rounding),
                $"seed {seed}: throughput {r.ThroughputPerS} > bound {r.UpperBoundThroughputPerS} ({r.UpperBoundThroughputLimit}) on {Describe(arch)}, batch {batch}");
            Interlocked.Increment(ref simulated);
            if (r.OffchipBytes > 0)
            {
                Interlocked.Increment(ref multiChip);
            }
        }, iter: 80, threads: 1);

        Assert.InRange(simulated, 50, 80); // most draws must compile, or the property says little
        Assert.InRange(multiChip, 8, 80); // and some must cross chips (19 to 28 of 80 in three runs)
    }

    [Fact]
    public void The_mvm_sequence_bound_of_mlp_l4_on_puma_is_four_layers_of_18_slices()
    {
        // 16-bit inputs through a 1-bit DAC: 16 slices, plus the 2-slice fill, of 100 ns reads (8
        // crossbars share 2 ADCs converting 1,024 columns per 100 ns, so the read sets the pace).
        Architecture puma = ArchitectureCatalog.Preset("puma");
        PerformanceReport r = PerformanceFixtures.Evaluate(PerformanceFixtures.PumaMlpL4(puma, new Passes.CompileSettings { Level = Passes.OptLevel.O0 }));
        Assert.Equal(4 * 18 * 100, r.MvmSequenceBoundNs, 6);
        Assert.True(r.LowerBoundLatencyNs > r.MvmSequenceBoundNs); // the program's own bound counts data movement too
    }

    [Fact]
    public void Tiles_on_one_router_are_zero_hops_apart_and_hops_and_energy_are_counted_between_routers()
    {
        Architecture isaac = ArchitectureCatalog.Preset("isaac"); // 14x12 tiles, 4 per router: a 7x6 router mesh of 2x2 blocks
        Assert.Equal((2, 2), isaac.Chip.RouterBlock);
        Assert.Equal(42, isaac.Chip.Routers);
        var mesh = new Mesh(isaac);
        int cores = isaac.Tile.Cores;
        Route sameRouter = mesh.RouteBetween(0, 15 * cores); // tile 0 (0,0) and tile 15 (1,1): one router
        Assert.Equal(0, sameRouter.Hops);
        Assert.Equal(1, sameRouter.Routers);
        Route across = mesh.RouteBetween(0, 13 * cores); // tile 13 is (13,0): router (6,0), 6 hops, not 13
        Assert.Equal(6, across.Hops);
        Assert.Equal(13, isaac.Chip.MeshDistance(0, 13));

        // The energy counts follow the same routes: one router, no mesh link, between tiles 0 and 15.
        ArchHeader h = Compiler.Header(isaac);
        ProgramImage program = new(h, new InputSpec(0, 0, 1, 1, 0, 0, 255), new OutputSpec(0, 1, 1, [1.0], [0]),
            [new CoreProgram(0, [Instruction.Send(15 * cores, 0, 100, 1), Instruction.Halt()]), new CoreProgram(15 * cores, [Instruction.Recv(0, 0, 100, 1), Instruction.Halt()])]);
        var counts = PerformanceReport.Evaluate(new PerformanceInput(program, isaac, []), "m").Counts;
        Assert.Equal(0, counts["hops"]);
        Assert.Equal(0, counts["link_bits"]);
        Assert.Equal(100 * 64, counts["router_bits"]); // 100 partial sums of 64 bits through one router
    }

    [Fact]
    public void An_mvm_that_follows_its_crossbar_back_to_back_pays_no_second_fill_and_the_core_runs_on()
    {
        Architecture arch = ArchitectureCatalog.Preset("puma");
        ArchHeader h = Compiler.Header(arch);
        static Instruction Mvm(int xb, int dst) => Instruction.Mvm(xb, 0, dst, 128, 128, 16, 0, false);
        ProgramImage Program(params Instruction[] code) =>
            new(h, new InputSpec(0, 0, 1, 1, 0, 0, 255), new OutputSpec(0, 1, 1, [1.0], [0]), [new CoreProgram(0, [.. code, Instruction.Halt()])]);
        double Latency(params Instruction[] code) => PerformanceReport.Evaluate(new PerformanceInput(Program(code), arch, []), "m").LatencyNs;

        double slice = CostModel.SliceNs(arch, 128), cycle = arch.CycleNs;
        // Two mvms on one crossbar: the second starts as the first ends and continues its pipeline.
        Assert.Equal((16 + 2 + 16) * slice, Latency(Mvm(0, 200), Mvm(0, 400)) - cycle, 6); // then halt's cycle

        // Vector work on other words overlaps the mvm; reading its outputs waits for it.
        double alone = Latency(Mvm(0, 200));
        Assert.Equal(alone, Latency(Mvm(0, 200), Instruction.VClear(600, 64)), 6);
        Assert.True(Latency(Mvm(0, 200), Instruction.VClear(200, 64)) > alone + 1, "clearing the mvm's outputs waits for it");
    }

    internal static Architecture RandomChip(Random rng)
    {
        Architecture edge = ArchitectureCatalog.Preset("edge");
        int size = 32 << rng.Next(3);
        int crossbars = 8 << rng.Next(2);
        int group = new[] { 1, 2, 4, 8 }[rng.Next(4)];
        int width = rng.Next(1, 6), height = rng.Next(1, 5);
        int tiles = rng.Next(Math.Max(1, (width * (height - 1)) + 1), (width * height) + 1);
        Architecture chip = edge with
        {
            Chip = new ChipSpec(tiles, new MeshSpec(width, height), new NocSpec(16 << rng.Next(5), rng.Next(1, 5), new[] { 1, 2, 3, 4, 8 }[rng.Next(5)])),
            Tile = edge.Tile with { Cores = 1 << rng.Next(4), BusBits = 32 << rng.Next(4) },
            Core = edge.Core with
            {
                Crossbars = crossbars,
                Adc = new AdcSpec(rng.Next(4, 11), group == 1 ? 1 << rng.Next(5) : rng.Next(1, 9), group),
            },
        };
        return chip.With(rows: size, cols: size, dacBits: rng.Next(1, 3));
    }

    internal static string Describe(Architecture a) =>
        $"{a.Chip.Tiles} tiles on {a.Chip.Mesh} ({a.Chip.Noc.TilesPerRouter}/router, {a.Chip.Noc.LinkBits}-bit links, {a.Chip.Noc.HopLatencyCycles} cycles/hop) x {a.Tile.Cores} cores x {a.Core.Crossbars} crossbars of {a.Core.Crossbar.Rows}x{a.Core.Crossbar.Cols}, ADC {a.Core.Adc}";
}
