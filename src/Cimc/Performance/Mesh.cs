using System.Collections.Immutable;
using Cimc.Architectures;

namespace Cimc.Performance;

/// <summary>
/// The path of a message: the resources it occupies in order. Same-tile messages cross the tile bus
/// (written to the tile buffer and read back); others leave over the source tile's bus, enter the
/// network at the source tile, follow X-Y routing over the mesh links, and leave it at the
/// destination tile onto that tile's bus.
/// </summary>
public sealed record Route(bool SameTile, int FromTile, int ToTile, int Hops, ImmutableArray<int> Resources, ImmutableArray<int> RouterPositions)
{
    /// <summary>Routers a flit passes through: one per mesh position visited (hops + 1); none within a tile.</summary>
    public int Routers => SameTile ? 0 : Hops + 1;
}

/// <summary>
/// The chip's shared communication resources, each a number: tile buses, injection and ejection
/// links between a tile and its router, and the four outgoing links of each mesh position. Tiles sit
/// on chip.mesh row-major; each mesh position has a router. A concentrated mesh (tiles_per_router
/// above 1) changes the router count for area and leakage, not the hop count (docs/cost-model.md).
/// </summary>
public sealed class Mesh
{
    private readonly int tiles;
    private readonly int width;
    private readonly int coresPerTile;

    public Mesh(Architecture arch)
    {
        tiles = arch.Chip.Tiles;
        width = arch.Chip.Mesh.Width;
        coresPerTile = arch.Tile.Cores;
        ResourceCount = (3 * tiles) + (4 * arch.Chip.Mesh.Positions);
    }

    public int ResourceCount { get; }

    public int TileOf(int core) => core / coresPerTile;

    public int Bus(int tile) => tile;

    public bool IsBus(int resource) => resource < tiles;

    public int Inject(int tile) => tiles + tile;

    public int Eject(int tile) => (2 * tiles) + tile;

    public string Name(int resource) => resource switch
    {
        _ when resource < tiles => $"tile {resource} bus",
        _ when resource < 2 * tiles => $"tile {resource - tiles} injection link",
        _ when resource < 3 * tiles => $"tile {resource - (2 * tiles)} ejection link",
        _ => LinkName(resource - (3 * tiles)),
    };

    public Route RouteBetween(int fromCore, int toCore)
    {
        int a = TileOf(fromCore), b = TileOf(toCore);
        if (a == b)
        {
            return new Route(true, a, b, 0, [Bus(a)], []);
        }

        int x = a % width, y = a / width, x1 = b % width, y1 = b / width;
        var resources = new List<int> { Bus(a), Inject(a) };
        var positions = new List<int> { (y * width) + x };
        while (x != x1 || y != y1)
        {
            // X first, then Y: deterministic and deadlock-free on a mesh.
            int dir = x < x1 ? 0 : x > x1 ? 1 : y < y1 ? 2 : 3;
            resources.Add((3 * tiles) + ((((y * width) + x) * 4) + dir));
            (x, y) = dir switch { 0 => (x + 1, y), 1 => (x - 1, y), 2 => (x, y + 1), _ => (x, y - 1) };
            positions.Add((y * width) + x);
        }

        resources.Add(Eject(b));
        resources.Add(Bus(b));
        return new Route(false, a, b, positions.Count - 1, [.. resources], [.. positions]);
    }

    private string LinkName(int link)
    {
        int position = link / 4, dir = link % 4;
        int x = position % width, y = position / width;
        (int nx, int ny) = dir switch { 0 => (x + 1, y), 1 => (x - 1, y), 2 => (x, y + 1), _ => (x, y - 1) };
        return $"mesh link ({x},{y})->({nx},{ny})";
    }
}
