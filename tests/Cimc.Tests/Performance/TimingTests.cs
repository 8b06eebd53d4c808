using System.Collections.Immutable;
using Cimc.Architectures;
using Cimc.Ir;
using Cimc.Isa;
using Cimc.Performance;

namespace Cimc.Tests.Performance;

public sealed class TimingTests
{
    [Theory]
    [InlineData("isaac", 1)]
    [InlineData("puma", 4)]
    [InlineData("edge", 8)]
    [InlineData("edge", 1)]
    public void Simulated_latency_is_never_below_the_lower_bound_and_throughput_never_above_its_bound(string preset, int batch)
    {
        Architecture arch = ArchitectureCatalog.Preset(preset);
        foreach (int[] widths in new[] { new[] { 784, 256, 128, 10 }, new[] { 100, 300, 20 }, new[] { 16, 8 } })
        {
            PerformanceReport r = PerformanceFixtures.Evaluate(PerformanceFixtures.Compile(arch, widths.Sum(), () => new Relu(), widths), batch);
            Assert.True(r.LatencyNs >= r.LowerBoundLatencyNs, $"{string.Join('-', widths)}: {r.LatencyNs} < {r.LowerBoundLatencyNs}");
            Assert.True(r.ThroughputPerS <= r.UpperBoundThroughputPerS * (1 + 1e-9));
            Assert.True(r.LowerBoundLatencyNs > 0);
            Assert.True(r.LowerBoundLatencyNs >= r.Layers.Max(l => l.LowerBoundNs), "the chip's bound includes every layer's own");
        }
    }

    [Fact]
    public void An_mvm_takes_input_slices_plus_two_times_the_slice_time_as_in_puma()
    {
        Architecture puma = ArchitectureCatalog.Preset("puma");
        Assert.Equal(1800, CostModel.MvmNs(puma, 128, 16), 6);   // 100 ns x (16 + 2)
        Architecture isaac = ArchitectureCatalog.Preset("isaac");
        Assert.Equal(1800, CostModel.MvmNs(isaac, 128, 16), 6);  // 128 conversions at 1.28 GS/s = 100 ns per slice
        Architecture edge = ArchitectureCatalog.Preset("edge");
        Assert.Equal(10 * 8 * 20, CostModel.MvmNs(edge, 128, 8), 6); // 8 columns per ADC x 20 ns, 8 + 2 slices
    }

    [Fact]
    public void Messages_that_share_a_link_are_slower_than_one_alone()
    {
        Architecture arch = ArchitectureCatalog.Preset("edge");
        ArchHeader h = Compiler.Header(arch);
        // Cores 4 and 8 (tiles 1 and 2) send 512 words each to core 12 (tile 3): both cross the link into tile 3.
        static CoreProgram Sender(int core) => new(core, [Instruction.Send(12, 0, 512, 1), Instruction.Halt()]);
        CoreProgram Receiver(int senders) => new(12, [.. Enumerable.Range(0, senders).Select(s => Instruction.Recv(s == 0 ? 4 : 8, 0, 512, 1)), Instruction.Halt()]);
        ProgramImage Program(params CoreProgram[] cores) =>
            new(h, new InputSpec(0, 0, 1, 1, 0, 0, 255), new OutputSpec(0, 1, 1, [1.0], [0]), [.. cores]);
        ImmutableArray<LayerSpan> none = [];
        PerformanceReport alone = PerformanceReport.Evaluate(new PerformanceInput(Program(Sender(4), Receiver(1)), arch, none), "one");
        PerformanceReport both = PerformanceReport.Evaluate(new PerformanceInput(Program(Sender(4), Sender(8), Receiver(2)), arch, none), "two");
        double serialize = Math.Ceiling(512.0 * 64 / arch.Chip.Noc.LinkBits) * arch.CycleNs; // partial sums: no mvm, 64-bit words
        Assert.True(alone.LatencyNs >= serialize);
        Assert.True(both.LatencyNs >= alone.LatencyNs + serialize - 1e-6, $"{both.LatencyNs} vs {alone.LatencyNs} + {serialize}");
        Assert.Contains("tile 3", both.BusiestResource); // its ejection link and bus carry both messages
    }

    [Fact]
    public void An_inbound_message_leaves_the_tile_bus_free_while_it_streams_in_over_the_link()
    {
        // A 1024-bit bus is 8x the 128-bit link: the message needs the bus for its last eighth only.
        Architecture edge = ArchitectureCatalog.Preset("edge");
        Architecture arch = edge with { Tile = edge.Tile with { BusBits = 1024 } };
        ArchHeader h = Compiler.Header(arch);
        CoreProgram sender = new(4, [Instruction.Send(12, 0, 512, 1), Instruction.Halt()]);
        CoreProgram receiver = new(12, [Instruction.Recv(4, 0, 512, 1), Instruction.Halt()]);
        // Core 13 shares core 12's tile: it loads while the message streams in, then works on past its arrival.
        CoreProgram neighbour = new(13, [Instruction.VClear(0, 800), Instruction.Load(1000, 0, 16), Instruction.VClear(2000, 12000), Instruction.Halt()]);
        ProgramImage Program(params CoreProgram[] cores) =>
            new(h, new InputSpec(0, 0, 16, 1, 0, 0, 255), new OutputSpec(0, 16, 1, [1.0], [0]), [.. cores]);
        PerformanceReport alone = PerformanceReport.Evaluate(new PerformanceInput(Program(neighbour), arch, []), "alone");
        PerformanceReport with = PerformanceReport.Evaluate(new PerformanceInput(Program(sender, receiver, neighbour), arch, []), "with");
        double streaming = Math.Ceiling(512.0 * 64 / arch.Chip.Noc.LinkBits) * arch.CycleNs;
        Assert.True(alone.LatencyNs > streaming + 100, "the neighbour ends after the message has arrived");
        Assert.Equal(alone.LatencyNs, with.LatencyNs, 6);
    }

    [Fact]
    public void Streaming_a_batch_pipelines_layers_so_throughput_beats_one_over_latency()
    {
        Architecture arch = ArchitectureCatalog.Preset("edge");
        Compilation c = PerformanceFixtures.Compile(arch, 11, () => new Relu(), 256, 128, 128, 10);
        PerformanceReport one = PerformanceFixtures.Evaluate(c, 1);
        PerformanceReport many = PerformanceFixtures.Evaluate(c, 16);
        Assert.Equal(one.LatencyNs, many.LatencyNs, 6);
        Assert.True(many.ThroughputPerS > 1.5e9 / one.LatencyNs, $"{many.ThroughputPerS} vs {1e9 / one.LatencyNs}");
        Assert.NotEmpty(many.CriticalPath);
        Assert.Equal(one.LatencyNs, one.CriticalPathNs.Values.Sum(), 3);
    }

    [Fact]
    public void An_architecture_without_costs_is_refused_with_a_clear_message()
    {
        Architecture arch = ArchitectureCatalog.Preset("edge");
        Compilation c = PerformanceFixtures.Compile(arch, 1, null, 16, 8);
        var e = Assert.Throws<Diagnostics.CimcException>(() => PerformanceReport.Evaluate(PerformanceInputs.For(c) with { Arch = arch with { Costs = null } }, "m"));
        Assert.Contains("no costs", e.Message);
    }
}
