using System.Collections.Immutable;
using Cimc.Architectures;

namespace Cimc.Performance;

/// <summary>
/// The path of a message: the resources it occupies in order, and the routers it passes (indices on
/// the router mesh). Same-tile messages cross the tile bus (written to the tile buffer and read
/// back); others leave over the source tile's bus and its link to its router, follow X-Y routing
/// over the router mesh, and reach the destination tile over its router's link and its bus.
/// </summary>
public sealed record Route(bool SameTile, int FromTile, int ToTile, int Hops, ImmutableArray<int> Resources, ImmutableArray<int> RouterPositions)
{
    /// <summary>Routers a flit passes through: one per router visited (hops + 1); none within a tile.</summary>
    public int Routers => SameTile ? 0 : Hops + 1;
}

/// <summary>
/// The chip's shared communication resources, each a number: tile buses, the injection and
/// ejection links between a tile and its router, and the four outgoing links of each router. The
/// mesh is built as <see cref="ChipSpec.RouterOf"/> says: with tiles_per_router above 1 (a
/// concentrated mesh) neighbouring tiles share a router, hops are counted between routers, and two
/// tiles on one router are 0 hops apart (docs/cost-model.md section 3).
/// </summary>
public sealed class Mesh
{
    private readonly ChipSpec chip;
    private readonly int tiles;
    private readonly int width;
    private readonly int coresPerTile;

    public Mesh(Architecture arch)
    {
        chip = arch.Chip;
        tiles = chip.Tiles;
        width = chip.RouterMeshWidth;
        coresPerTile = arch.Tile.Cores;
        ResourceCount = (3 * tiles) + (4 * width * chip.RouterMeshHeight);
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

        (int x, int y) = chip.RouterPosition(chip.RouterOf(a));
        (int x1, int y1) = chip.RouterPosition(chip.RouterOf(b));
        var resources = new List<int> { Bus(a), Inject(a) };
        var routers = new List<int> { (y * width) + x };
        while (x != x1 || y != y1)
        {
            // X first, then Y: deterministic and deadlock-free on a mesh.
            int dir = x < x1 ? 0 : x > x1 ? 1 : y < y1 ? 2 : 3;
            resources.Add((3 * tiles) + ((((y * width) + x) * 4) + dir));
            (x, y) = Step(x, y, dir);
            routers.Add((y * width) + x);
        }

        resources.Add(Eject(b));
        resources.Add(Bus(b));
        return new Route(false, a, b, routers.Count - 1, [.. resources], [.. routers]);
    }

    private static (int X, int Y) Step(int x, int y, int dir) => dir switch { 0 => (x + 1, y), 1 => (x - 1, y), 2 => (x, y + 1), _ => (x, y - 1) };

    private string LinkName(int link)
    {
        int router = link / 4;
        (int x, int y) = (router % width, router / width);
        (int nx, int ny) = Step(x, y, link % 4);
        return $"mesh link ({x},{y})->({nx},{ny})";
    }
}
