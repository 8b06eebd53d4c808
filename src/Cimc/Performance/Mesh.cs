using System.Collections.Immutable;
using Cimc.Architectures;

namespace Cimc.Performance;

/// <summary>
/// The path of a message: the resources it occupies in order, and the routers it passes (global
/// ids: chip x routers per chip + the router's index on its chip's router mesh). Same-tile messages
/// cross the tile bus (written to the tile buffer and read back); others leave over the source
/// tile's bus and its link to its router, follow X-Y routing over the router mesh, and reach the
/// destination tile over its router's link and its bus. Between chips the message goes to its
/// chip's port router, crosses <see cref="ChipHops"/> chip-to-chip links, and goes on from the
/// destination chip's port router. <see cref="Hops"/> counts mesh hops only (on both chips).
/// </summary>
public sealed record Route(bool SameTile, int FromTile, int ToTile, int Hops, ImmutableArray<int> Resources, ImmutableArray<int> RouterPositions)
{
    /// <summary>Chip-to-chip links the message crosses (0 within a chip).</summary>
    public int ChipHops { get; init; }

    /// <summary>Routers a flit passes through: one per router visited (hops + 1, plus one more per chip entered); none within a tile.</summary>
    public int Routers => SameTile ? 0 : Hops + 1 + ChipHops;
}

/// <summary>
/// The node's shared communication resources, each a number: tile buses, the injection and
/// ejection links between a tile and its router, the four outgoing links of each router of each
/// chip, and the directed chip-to-chip links. Each chip's mesh is built as
/// <see cref="ChipSpec.RouterOf"/> says: with tiles_per_router above 1 (a concentrated mesh)
/// neighbouring tiles share a router, hops are counted between routers, and two tiles on one
/// router are 0 hops apart (docs/cost-model.md section 3). A chip's off-chip links attach at its
/// port router, the router of its tile 0 (the mesh corner): neither ISAAC nor PUMA says where its
/// HyperTransport sits, so messages between chips are charged the walk to that corner.
/// </summary>
public sealed class Mesh
{
    private readonly ChipSpec chip;
    private readonly NodeSpec node;
    private readonly int tiles;
    private readonly int tilesPerChip;
    private readonly int width;
    private readonly int routersPerChip;
    private readonly int coresPerTile;
    private readonly int meshBase;
    private readonly int chipLinkBase;

    public Mesh(Architecture arch)
    {
        chip = arch.Chip;
        node = arch.Node;
        tilesPerChip = chip.Tiles;
        tiles = arch.TotalTiles;
        width = chip.RouterMeshWidth;
        routersPerChip = width * chip.RouterMeshHeight;
        coresPerTile = arch.Tile.Cores;
        meshBase = 3 * tiles;
        chipLinkBase = meshBase + (node.Chips * 4 * routersPerChip);
        ResourceCount = chipLinkBase + node.DirectedLinks;
        ChipLink = node.Link;
    }

    public int ResourceCount { get; }

    /// <summary>The figures of every chip-to-chip link (null on a node of one chip without links).</summary>
    public ChipLinkSpec? ChipLink { get; }

    public int TileOf(int core) => core / coresPerTile;

    public int ChipOfTile(int tile) => tile / tilesPerChip;

    /// <summary>The global id of tile <paramref name="tile"/>'s router: its chip's routers come after the previous chips'.</summary>
    public int RouterOf(int tile) => (ChipOfTile(tile) * routersPerChip) + chip.RouterOf(tile % tilesPerChip);

    public int Bus(int tile) => tile;

    public bool IsBus(int resource) => resource < tiles;

    public bool IsChipLink(int resource) => resource >= chipLinkBase;

    public int Inject(int tile) => tiles + tile;

    public int Eject(int tile) => (2 * tiles) + tile;

    public string Name(int resource) => resource switch
    {
        _ when resource < tiles => $"tile {resource} bus",
        _ when resource < 2 * tiles => $"tile {resource - tiles} injection link",
        _ when resource < 3 * tiles => $"tile {resource - (2 * tiles)} ejection link",
        _ when resource < chipLinkBase => LinkName(resource - meshBase),
        _ => ChipLinkName(resource - chipLinkBase),
    };

    public Route RouteBetween(int fromCore, int toCore)
    {
        int a = TileOf(fromCore), b = TileOf(toCore);
        if (a == b)
        {
            return new Route(true, a, b, 0, [Bus(a)], []);
        }

        int chipA = ChipOfTile(a), chipB = ChipOfTile(b);
        var resources = new List<int> { Bus(a), Inject(a) };
        var routers = new List<int>();
        int hops = 0;
        if (chipA == chipB)
        {
            hops += Walk(chipA, chip.RouterOf(a % tilesPerChip), chip.RouterOf(b % tilesPerChip), resources, routers);
        }
        else
        {
            // To the port router, across the chips of the path, from the far chip's port router.
            int port = chip.RouterOf(0);
            hops += Walk(chipA, chip.RouterOf(a % tilesPerChip), port, resources, routers);
            IReadOnlyList<int> path = node.ChipPath(chipA, chipB);
            for (int k = 1; k < path.Count; k++)
            {
                resources.Add(chipLinkBase + node.LinkIndex(path[k - 1], path[k]));
                if (k < path.Count - 1)
                {
                    routers.Add((path[k] * routersPerChip) + port);
                }
            }

            hops += Walk(chipB, port, chip.RouterOf(b % tilesPerChip), resources, routers);
        }

        resources.Add(Eject(b));
        resources.Add(Bus(b));
        return new Route(false, a, b, hops, [.. resources], [.. routers]) { ChipHops = node.ChipHops(chipA, chipB) };
    }

    /// <summary>X-Y routing on chip <paramref name="onChip"/>'s router mesh: adds the links and routers visited (both ends) and returns the hops.</summary>
    private int Walk(int onChip, int fromRouter, int toRouter, List<int> resources, List<int> routers)
    {
        (int x, int y) = chip.RouterPosition(fromRouter);
        (int x1, int y1) = chip.RouterPosition(toRouter);
        int offset = onChip * routersPerChip, hops = 0;
        routers.Add(offset + (y * width) + x);
        while (x != x1 || y != y1)
        {
            // X first, then Y: deterministic and deadlock-free on a mesh.
            int dir = x < x1 ? 0 : x > x1 ? 1 : y < y1 ? 2 : 3;
            resources.Add(meshBase + ((offset + (y * width) + x) * 4) + dir);
            (x, y) = Step(x, y, dir);
            routers.Add(offset + (y * width) + x);
            hops++;
        }

        return hops;
    }

    private static (int X, int Y) Step(int x, int y, int dir) => dir switch { 0 => (x + 1, y), 1 => (x - 1, y), 2 => (x, y + 1), _ => (x, y - 1) };

    private string LinkName(int link)
    {
        int router = link / 4, onChip = router / routersPerChip;
        router %= routersPerChip;
        (int x, int y) = (router % width, router / width);
        (int nx, int ny) = Step(x, y, link % 4);
        return node.Chips == 1 ? $"mesh link ({x},{y})->({nx},{ny})" : $"chip {onChip} mesh link ({x},{y})->({nx},{ny})";
    }

    private Dictionary<int, string>? chipLinkNames;

    /// <summary>
    /// A chip-to-chip link's name, from a table made once: searching the chip pairs for every name
    /// made naming all the links of a node of many small chips quartic in the chips.
    /// </summary>
    private string ChipLinkName(int index)
    {
        Dictionary<int, string>? names = chipLinkNames;
        if (names is null)
        {
            // Built whole before it is published, so a mesh shared by threads never shows a partial table.
            names = [];
            for (int from = 0; from < node.Chips; from++)
            {
                for (int to = 0; to < node.Chips; to++)
                {
                    if (from != to && node.ChipHops(from, to) == 1)
                    {
                        names.TryAdd(node.LinkIndex(from, to), $"chip link {from}->{to}");
                    }
                }
            }

            chipLinkNames = names;
        }

        return names.TryGetValue(index, out string? name) ? name : $"chip link {index}";
    }
}
