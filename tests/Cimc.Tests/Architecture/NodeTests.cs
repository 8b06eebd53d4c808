using Cimc.Architectures;
using Cimc.Diagnostics;

namespace Cimc.Tests.Architectures;

/// <summary>The node level of the architecture file: read, written, validated.</summary>
public sealed class NodeTests
{
    [Fact]
    public void Isaac_and_puma_carry_hypertransport_links_and_a_node_round_trips_through_json()
    {
        foreach (string name in new[] { "isaac", "puma" })
        {
            Architecture a = ArchitectureCatalog.Preset(name);
            Assert.Equal(1, a.Chips);
            Assert.Equal(new ChipLinkSpec(6.4, 5, 50.78125), a.Node.Link);
            Assert.Contains("node.link.bandwidth_gb_per_s", a.Sources.Keys);
            Architecture node = a.WithChips(3) with { Node = a.Node with { Chips = 3, Topology = ChipTopology.AllToAll } };
            Assert.Equal(node, ArchitectureJson.Parse(ArchitectureJson.Write(node)));
        }

        // A file without a node is one chip without links (edge).
        Assert.Equal(NodeSpec.Single, ArchitectureCatalog.Preset("edge").Node);
    }

    [Fact]
    public void A_node_needs_links_for_more_than_one_chip_and_core_ids_within_the_isa_field()
    {
        var noLinks = Assert.Throws<CimcException>(() => ArchitectureCatalog.Preset("edge").WithChips(2));
        Assert.Contains("node.link", noLinks.Message);
        var tooMany = Assert.Throws<CimcException>(() => ArchitectureCatalog.Preset("isaac").WithChips(33)); // 33 x 2,016 cores > 65,536
        Assert.Contains("16-bit core field (at most 32 chips of isaac)", tooMany.Message);
        Assert.Equal(32 * 2016, ArchitectureCatalog.Preset("isaac").WithChips(32).TotalCores);

        string json = ArchitectureJson.Write(ArchitectureCatalog.Preset("isaac").WithChips(2));
        var badTopology = Assert.Throws<CimcException>(() => ArchitectureJson.Parse(json.Replace("\"ring\"", "\"torus\"", StringComparison.Ordinal)));
        Assert.Contains("node.topology", badTopology.Message);
        var badBandwidth = Assert.Throws<CimcException>(() => ArchitectureJson.Parse(json.Replace("\"bandwidth_gb_per_s\": 6.4", "\"bandwidth_gb_per_s\": 0", StringComparison.Ordinal)));
        Assert.Contains("node.link.bandwidth_gb_per_s", badBandwidth.Message);
    }
}
