using Cimc.Architectures;
using Cimc.Mapping;
using Cimc.Placement;
using Cimc.Quantization;
using Cimc.Tests.Compile;

namespace Cimc.Tests.Placements;

/// <summary>The placement objective sees a convolutional network's edges: maps to every layer that reads them, through pools and residual adds.</summary>
public sealed class GraphTrafficTests
{
    private static readonly Architecture Isaac = ArchitectureCatalog.Preset("isaac");

    private static Dictionary<(int, int), long> Edges(QuantizedModel model, out MappedModel mapped)
    {
        mapped = CrossbarMapper.Map(model, Compiler.Geometry(Isaac));
        return SlotTraffic.Of(mapped, Isaac.Core.Crossbars).Edges.ToDictionary(e => (e.From, e.To), e => e.Words);
    }

    [Fact]
    public void LeNet_sends_its_pooled_maps_to_every_slot_that_reads_them()
    {
        // Slots: conv0 0, conv1 1-2 (150 im2col rows in two row blocks), fc2 3-6 (400 rows, 128 a slot), fc3 7, fc4 8.
        var e = Edges(ConvShapesOnIsaacTests.LeNet(), out _);
        Assert.Equal(14 * 14 * 6, e[(0, 1)]); // conv1's slots each read every pixel of all 6 channels of the pooled map
        Assert.Equal(14 * 14 * 6, e[(0, 2)]);
        Assert.Equal(16, e[(2, 1)]); // partial sums to the column block's root
        Assert.Equal([128L, 128, 128, 16], [e[(1, 3)], e[(1, 4)], e[(1, 5)], e[(1, 6)]]); // the flattened 5x5x16 map by rows
        Assert.Equal(120, e[(3, 7)]);
        Assert.Equal(84, e[(7, 8)]);
    }

    [Fact]
    public void A_residual_add_makes_both_of_its_producers_send_to_its_readers()
    {
        // Slots: stem 0, block-1 convs 1 and 2, block-2 convs 3 and 4-5, shortcut 6, fc 7.
        var e = Edges(ConvShapesOnIsaacTests.SmallResNet(), out _);
        int map = 14 * 14 * 8;
        Assert.Equal(map, e[(0, 1)]); // through the max pool
        Assert.Equal(map, e[(0, 3)]); // through the add, as its identity input
        Assert.Equal(map, e[(2, 3)]); // and its other input
        Assert.Equal(map, e[(0, 6)]);
        Assert.Equal(map, e[(2, 6)]);
        Assert.Equal(7 * 7 * 16, e[(3, 4)]);
        Assert.Equal(16, e[(4, 7)]); // global average pool of the second add: both producers
        Assert.Equal(16, e[(6, 7)]);
        Assert.False(e.ContainsKey((5, 6)), "the chain's edge from the block's last conv to the shortcut is no graph edge");
    }

    [Fact]
    public void On_one_core_tiles_a_graph_has_traffic_times_hops_and_greedy_placement_does_not_add_to_it()
    {
        Architecture arch = isaacOneCore();
        MappedModel mapped = CrossbarMapper.Map(ConvShapesOnIsaacTests.SmallResNet(), Compiler.Geometry(arch));
        var mesh = new MeshCost(arch);
        var traffic = SlotTraffic.Of(mapped, arch.Core.Crossbars);
        PlacementCost linear = mesh.Evaluate(traffic, Enumerable.Range(0, traffic.Slots).ToArray());
        PlacementCost greedy = mesh.Evaluate(traffic, GreedyPlacer.Cores(mapped, arch, mesh));
        Assert.True(linear.TrafficHops > 0);
        Assert.True(greedy.Objective <= linear.Objective);

        static Architecture isaacOneCore() => Isaac with { Tile = Isaac.Tile with { Cores = 1 } };
    }
}
