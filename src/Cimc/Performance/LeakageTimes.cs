using Cimc.Architectures;

namespace Cimc.Performance;

/// <summary>
/// How long each used core, tile and router leaks in one inference on an idle chip
/// (docs/cost-model.md section 4): a core from time 0 until its last instruction (its <c>halt</c>)
/// ends in the batch-1 timing run, after which it can be power-gated, as puma-simulator charges a
/// core's leakage only for the cycles until it halts; a tile (buffer, bus) until the latest finish
/// among its used cores; a router until the latest finish among the cores it serves (those of its
/// used tiles and the senders and receivers of the messages that cross it: a message has passed
/// before its receiver finishes). Each list is in the order of <see cref="UsedHardware"/>'s units.
/// </summary>
public sealed record LeakageTimes(IReadOnlyList<double> CoreNs, IReadOnlyList<double> TileNs, IReadOnlyList<double> RouterNs)
{
    /// <param name="coreFinishNs">Per core of <paramref name="used"/>, in its order: when it finishes (<see cref="TimingResult.CoreFinishNs"/> of the batch-1 run).</param>
    public static LeakageTimes Of(Architecture arch, ProgramAnalysis a, UsedHardware used, IReadOnlyList<double> coreFinishNs)
    {
        var finish = new Dictionary<int, double>();
        for (int s = 0; s < used.Cores.Count; s++)
        {
            finish[used.Cores[s]] = coreFinishNs[s];
        }

        var tiles = new Dictionary<int, double>();
        foreach ((int core, double ns) in finish)
        {
            int tile = a.Mesh.TileOf(core);
            tiles[tile] = Math.Max(tiles.GetValueOrDefault(tile), ns);
        }

        var routers = new Dictionary<int, double>();
        void Serve(int router, double ns) => routers[router] = Math.Max(routers.GetValueOrDefault(router), ns);
        foreach ((int tile, double ns) in tiles)
        {
            Serve(a.Mesh.RouterOf(tile), ns);
        }

        foreach (Message m in a.Messages.Values)
        {
            double ns = Math.Max(finish.GetValueOrDefault(m.From), finish.GetValueOrDefault(m.To));
            foreach (int router in m.Route.RouterPositions)
            {
                Serve(router, ns);
            }
        }

        return new LeakageTimes(coreFinishNs, [.. tiles.Values], [.. routers.Values]);
    }
}
