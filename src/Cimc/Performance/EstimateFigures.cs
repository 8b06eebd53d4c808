using Cimc.Architectures;

namespace Cimc.Performance;

/// <summary>The figures of an <see cref="Estimator"/> walk, from its inferences' finishing times and the first one's events.</summary>
internal static class EstimateFigures
{
    /// <summary>
    /// Latency from the first inference; the makespan of <paramref name="batch"/> from the walked
    /// ones (<paramref name="finish"/>), the rest at the pace of the last two; energy from the first
    /// inference's events and each used core's, tile's and router's leakage until it is done.
    /// </summary>
    /// <param name="clock">per core id: when it halted in the first inference</param>
    /// <param name="used">the cores the program uses</param>
    public static Estimate Of(Architecture arch, EstimateTally tally, IReadOnlyList<double> finish, EventCounts counts, double[] clock, IReadOnlyList<int> used,
        int batch, double ops, int crossbars)
    {
        double latency = finish[0];
        double pace = finish.Count > 1 ? finish[^1] - finish[^2] : 0;
        double makespan = finish[^1] + ((batch - finish.Count) * pace);
        double throughput = batch / (makespan * 1e-9);

        double dynamicNj = CostModel.Dynamic(arch, counts).Sum(t => t.EnergyPj) / 1000;
        double energy = dynamicNj + CostModel.LeakageNj(arch, Leakage(tally, clock, used)).Sum(s => s.Value);
        double area = CostModel.ChipArea(arch).Sum(s => s.Value);
        return Estimate.Of(latency, throughput, energy, area, crossbars, used.Count, ops);
    }

    /// <summary>Each core until it halts, each tile until its last core halts, each router until the last core it serves halts (<see cref="LeakageTimes"/>).</summary>
    private static LeakageTimes Leakage(EstimateTally tally, double[] clock, IReadOnlyList<int> used)
    {
        var tiles = new Dictionary<int, double>();
        foreach (int core in used)
        {
            int tile = tally.TileOf(core);
            tiles[tile] = Math.Max(tiles.GetValueOrDefault(tile), clock[core]);
        }

        var routers = new Dictionary<int, double>();
        foreach ((int tile, double ns) in tiles)
        {
            int router = tally.RouterOf(tile);
            routers[router] = Math.Max(routers.GetValueOrDefault(router), ns);
        }

        foreach ((int router, HashSet<int> users) in tally.RouterUsers)
        {
            routers[router] = Math.Max(routers.GetValueOrDefault(router), users.Max(c => clock[c]));
        }

        return new LeakageTimes([.. used.Select(c => clock[c])], [.. tiles.Values], [.. routers.Values]);
    }
}
