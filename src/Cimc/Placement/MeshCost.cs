using Cimc.Architectures;
using Cimc.Performance;

namespace Cimc.Placement;

/// <summary>The placement objective's two parts: words times mesh hops, and the busiest mesh link's words.</summary>
public sealed record PlacementCost(long TrafficHops, long BusiestLink)
{
    /// <summary>What the mesh placers minimise: total traffic x hops plus the busiest link's load (both in words per inference).</summary>
    public long Objective => TrafficHops + BusiestLink;
}

/// <summary>
/// Costs of slot traffic on the chip's mesh, routed by <see cref="Mesh"/> (the timing model's
/// routes), so that placement and the timing model agree on hops and links. Routes are looked up
/// per tile pair and cached.
/// </summary>
public sealed class MeshCost
{
    private readonly Mesh mesh;
    private readonly int tiles;
    private readonly int coresPerTile;
    private readonly int[]?[] links;
    private readonly int[] hops;

    public MeshCost(Architecture arch)
    {
        mesh = new Mesh(arch);
        tiles = arch.Chip.Tiles;
        coresPerTile = arch.Tile.Cores;
        links = new int[]?[tiles * tiles];
        hops = new int[tiles * tiles];
        MeshWidth = arch.Chip.Mesh.Width;
    }

    public int Tiles => tiles;

    public int CoresPerTile => coresPerTile;

    public int MeshWidth { get; }

    public int ResourceCount => mesh.ResourceCount;

    public int TileOf(int core) => core / coresPerTile;

    public int Hops(int fromTile, int toTile)
    {
        _ = Links(fromTile, toTile);
        return hops[(fromTile * tiles) + toTile];
    }

    /// <summary>The network links (not tile buses) a message from one tile to another occupies.</summary>
    public int[] Links(int fromTile, int toTile)
    {
        int key = (fromTile * tiles) + toTile;
        if (links[key] is { } cached)
        {
            return cached;
        }

        Route route = mesh.RouteBetween(fromTile * coresPerTile, toTile * coresPerTile);
        hops[key] = route.Hops;
        return links[key] = route.SameTile ? [] : [.. route.Resources.Where(r => !mesh.IsBus(r))];
    }

    public PlacementCost Evaluate(SlotTraffic traffic, IReadOnlyList<int> coreOfSlot)
    {
        var load = new long[ResourceCount];
        long trafficHops = 0;
        foreach (TrafficEdge e in traffic.Edges)
        {
            int a = TileOf(coreOfSlot[e.From]), b = TileOf(coreOfSlot[e.To]);
            trafficHops += e.Words * Hops(a, b);
            foreach (int link in Links(a, b))
            {
                load[link] += e.Words;
            }
        }

        return new PlacementCost(trafficHops, load.Length == 0 ? 0 : load.Max());
    }
}
