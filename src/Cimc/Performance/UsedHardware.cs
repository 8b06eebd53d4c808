namespace Cimc.Performance;

/// <summary>
/// The hardware a program occupies: the cores that hold code, the tiles holding those cores, and the
/// routers of those tiles and of every message's path (tiles_per_router tiles share a router). Leakage
/// is charged for it and report.json's area_used_mm2 is its area (docs/cost-model.md section 4).
/// </summary>
public sealed record UsedHardware(IReadOnlyList<int> Cores, IReadOnlySet<int> Tiles, int Routers)
{
    public static UsedHardware Of(Architectures.Architecture arch, ProgramAnalysis a, IEnumerable<int> usedCores)
    {
        var cores = usedCores.ToList();
        var tiles = cores.Select(a.Mesh.TileOf).ToHashSet();
        int routers = tiles.Select(a.Mesh.RouterOf).Concat(a.Messages.Values.SelectMany(m => m.Route.RouterPositions)).Distinct().Count();
        return new UsedHardware(cores, tiles, routers);
    }
}
