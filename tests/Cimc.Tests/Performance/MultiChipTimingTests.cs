using Cimc.Architectures;
using Cimc.Ir;
using Cimc.Performance;

namespace Cimc.Tests.Performance;

/// <summary>Chip-to-chip links in the timing and energy model: routes, latency, bandwidth, energy, node area.</summary>
public sealed class MultiChipTimingTests
{
    private static Architecture Node(int chips, ChipTopology topology, double latencyNs = 5, double gbps = 6.4, double pjPerBit = 50) =>
        ArchitectureCatalog.Preset("isaac") with { Node = new NodeSpec(chips, topology, new ChipLinkSpec(gbps, latencyNs, pjPerBit)) };

    [Fact]
    public void Messages_between_chips_cross_the_ring_the_shorter_way_and_all_to_all_directly()
    {
        Architecture ring = Node(5, ChipTopology.Ring);
        var mesh = new Mesh(ring);
        int perChip = ring.CoresPerChip;
        Assert.Equal(0, mesh.RouteBetween(0, 1).ChipHops);
        Assert.Equal(1, mesh.RouteBetween(0, perChip).ChipHops);
        Assert.Equal(2, mesh.RouteBetween(0, 2 * perChip).ChipHops);
        Assert.Equal(2, mesh.RouteBetween(0, 3 * perChip).ChipHops); // 0 -> 4 -> 3
        Assert.Equal(1, mesh.RouteBetween(0, 4 * perChip).ChipHops);
        Route across = mesh.RouteBetween(0, 3 * perChip);
        Assert.Equal(2, across.Resources.Count(mesh.IsChipLink));
        Assert.Equal(["chip link 0->4", "chip link 4->3"], across.Resources.Where(mesh.IsChipLink).Select(mesh.Name));
        Assert.Equal(1, new Mesh(Node(5, ChipTopology.AllToAll)).RouteBetween(0, 3 * perChip).ChipHops);

        // Tile 13 of chip 1 (router (6,0)) from tile 13 of chip 0: 6 hops to the port, 6 back out.
        int core13 = 13 * ring.Tile.Cores;
        Route ports = mesh.RouteBetween(core13, perChip + core13);
        Assert.Equal(12, ports.Hops);
        Assert.Equal(12 + 1 + 1, ports.Routers);
    }

    /// <summary>A pipeline of two layers on two chips: layer 1's outputs must cross to chip 1.</summary>
    private static PerformanceReport TwoChips(double latencyNs, double gbps, double pjPerBit)
    {
        Architecture isaac = ArchitectureCatalog.Preset("isaac");
        Architecture small = isaac with
        {
            Chip = isaac.Chip with { Tiles = 1, Mesh = new MeshSpec(1, 1) },
            Tile = isaac.Tile with { Cores = 1 },
            Node = new NodeSpec(2, ChipTopology.Ring, new ChipLinkSpec(gbps, latencyNs, pjPerBit)),
        };
        Compilation c = PerformanceFixtures.Compile(small, seed: 3, () => new Relu(), 64, 64, 10);
        Assert.Equal(2, c.Placed!.Layers.SelectMany(l => l.Cores).Distinct().Count());
        return PerformanceFixtures.Evaluate(c, batch: 4);
    }

    [Fact]
    public void The_links_latency_bandwidth_and_energy_per_bit_are_charged_to_what_crosses_chips()
    {
        PerformanceReport fast = TwoChips(latencyNs: 1, gbps: 1000, pjPerBit: 10);
        PerformanceReport slow = TwoChips(latencyNs: 10_000, gbps: 1000, pjPerBit: 10);
        PerformanceReport narrow = TwoChips(latencyNs: 1, gbps: 0.001, pjPerBit: 20);
        Assert.Equal(2, fast.Chips);
        Assert.True(fast.OffchipBytes > 0);
        Assert.Equal(fast.OffchipBytes, narrow.OffchipBytes);

        // Latency: the head crosses at least once on the way from input to output.
        Assert.True(slow.LatencyNs >= fast.LatencyNs + 9_999, $"{slow.LatencyNs} vs {fast.LatencyNs}");
        // Bandwidth: at 1 MB/s every byte takes 1 us on the link, and the link is the bottleneck.
        Assert.True(narrow.LatencyNs >= narrow.OffchipBytes * 1000.0 * 0.99, $"{narrow.LatencyNs} ns for {narrow.OffchipBytes} bytes");
        Assert.Contains("chip link", narrow.BusiestResource);
        Assert.True(narrow.LowerBoundLatencyNs <= narrow.LatencyNs);
        Assert.Contains("chip link", narrow.UpperBoundThroughputLimit);

        // Energy: bits across x pJ per bit, in the breakdown and its own field.
        Assert.Equal(fast.Counts["offchip_bits"] * 10 / 1000.0, fast.OffchipEnergyNj, 9);
        Assert.Equal(fast.OffchipEnergyNj, fast.EnergyBreakdownNj["offchip"], 9);
        Assert.Equal(2 * fast.OffchipEnergyNj, narrow.OffchipEnergyNj, 9);
        Assert.Equal(fast.EnergyNj - fast.OffchipEnergyNj, narrow.EnergyNj - narrow.OffchipEnergyNj, 6);
    }

    [Fact]
    public void A_nodes_area_peak_and_power_count_every_chip_and_its_links()
    {
        Architecture one = ArchitectureCatalog.Preset("isaac");
        Architecture four = one.WithChips(4);
        PeakMetrics p1 = PeakMetrics.Of(one), p4 = PeakMetrics.Of(four);
        Assert.Equal(4 * p1.AreaMm2, p4.AreaMm2, 6);
        Assert.Equal(4 * p1.PeakTops, p4.PeakTops, 6);
        Assert.Equal(4 * p1.PeakPowerW, p4.PeakPowerW, 6);
        Assert.Equal(4 * 22.88, p4.AreaBreakdownMm2["offchip"], 6); // ISAAC: 4 HyperTransport links, 22.88 mm^2 per chip
        Assert.Equal(4 * 16_128, four.TotalCrossbars);
    }
}
