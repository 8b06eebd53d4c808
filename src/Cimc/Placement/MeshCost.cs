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

    // A node of many chips has too many tile pairs for a dense cache; those routes are cached sparsely.
    private readonly Dictionary<long, (int Hops, int[] Links)>? sparse;
    private const int DenseTilePairs = 1 << 22;

    public MeshCost(Architecture arch)
    {
        mesh = new Mesh(arch);
        tiles = arch.TotalTiles;
        coresPerTile = arch.Tile.Cores;
        bool dense = (long)tiles * tiles <= DenseTilePairs;
        links = dense ? new int[]?[tiles * tiles] : [];
        hops = dense ? new int[tiles * tiles] : [];
        sparse = dense ? null : [];
        MeshWidth = arch.Chip.Mesh.Width;
    }

    public int Tiles => tiles;

    public int CoresPerTile => coresPerTile;

    public int MeshWidth { get; }

    public int ResourceCount => mesh.ResourceCount;

    public int TileOf(int core) => core / coresPerTile;

    /// <summary>Mesh hops between two tiles; between chips, the hops to and from the chips' port routers.</summary>
    public int Hops(int fromTile, int toTile)
    {
        _ = Links(fromTile, toTile);
        return sparse is null ? hops[(fromTile * tiles) + toTile] : sparse[((long)fromTile * tiles) + toTile].Hops;
    }

    /// <summary>The network links (not tile buses) a message from one tile to another occupies.</summary>
    public int[] Links(int fromTile, int toTile)
    {
        if (sparse is not null)
        {
            long k = ((long)fromTile * tiles) + toTile;
            if (!sparse.TryGetValue(k, out var entry))
            {
                Route r = mesh.RouteBetween(fromTile * coresPerTile, toTile * coresPerTile);
                sparse[k] = entry = (r.Hops, r.SameTile ? [] : [.. r.Resources.Where(x => !mesh.IsBus(x))]);
            }

            return entry.Links;
        }

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
