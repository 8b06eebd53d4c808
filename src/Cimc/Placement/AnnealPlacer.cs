using Cimc.Architectures;
using Cimc.Mapping;

namespace Cimc.Placement;

/// <summary>
/// The anneal place pass: starts from the greedy placement and refines it by simulated annealing
/// over moves of one slot to a free core or swaps of two slots on different tiles, minimising
/// traffic x hops plus the busiest link's load (<see cref="PlacementCost"/>). Seeded and
/// deterministic: the same model, chip and seed give the same placement. The move count grows with
/// the slots (capped) so that MLP-L4 on puma stays well under the -O3 budget of 10 s. Guarantees
/// an objective no worse than the greedy start (it keeps the best state seen).
/// </summary>
public static class AnnealPlacer
{
    public static PlacedModel Place(MappedModel mapped, Architecture arch, int seed)
    {
        var mesh = new MeshCost(arch);
        ChipShape chip = Compiler.Shape(arch);
        var traffic = SlotTraffic.Of(mapped, chip.CrossbarsPerCore);
        int[] start = GreedyPlacer.Cores(mapped, arch, mesh);
        return Placer.Assign(mapped, chip, new Annealer(traffic, chip, mesh, start, seed).Run(Math.Min(200_000, 20_000 + (200 * traffic.Slots))));
    }

    private sealed class Annealer
    {
        private readonly SlotTraffic traffic;
        private readonly ChipShape chip;
        private readonly MeshCost mesh;
        private readonly Random rng;
        private readonly List<int>[] edgesOf;
        private readonly int[] core;
        private readonly int[] slotOnCore;
        private readonly long[] load;
        private long trafficHops;

        public Annealer(SlotTraffic traffic, ChipShape chip, MeshCost mesh, int[] start, int seed)
        {
            this.traffic = traffic;
            this.chip = chip;
            this.mesh = mesh;
            rng = new Random(seed);
            core = [.. start];
            slotOnCore = Enumerable.Repeat(-1, chip.Cores).ToArray();
            for (int s = 0; s < core.Length; s++)
            {
                slotOnCore[core[s]] = s;
            }

            edgesOf = Enumerable.Range(0, traffic.Slots).Select(_ => new List<int>()).ToArray();
            for (int i = 0; i < traffic.Edges.Length; i++)
            {
                edgesOf[traffic.Edges[i].From].Add(i);
                edgesOf[traffic.Edges[i].To].Add(i);
            }

            load = new long[mesh.ResourceCount];
            for (int i = 0; i < traffic.Edges.Length; i++)
            {
                Route(i, +1);
            }
        }

        private long Objective => trafficHops + load.Max();

        public int[] Run(int moves)
        {
            if (traffic.Slots < 2 && chip.Cores < 2)
            {
                return core;
            }

            long current = Objective, bestCost = current;
            int[] best = [.. core];
            double temperature = Math.Max(1, current / 50.0), cooling = Math.Pow(1e-3, 1.0 / moves);
            for (int m = 0; m < moves; m++, temperature *= cooling)
            {
                // A slot moves only within its chip: the partition fixed which chip holds it.
                int a = rng.Next(traffic.Slots), perChip = chip.CoresPerChip, target = (core[a] / perChip * perChip) + rng.Next(perChip);
                int b = slotOnCore[target];
                if (b == a || mesh.TileOf(target) == mesh.TileOf(core[a]))
                {
                    continue;
                }

                int from = core[a];
                Move(a, b, from, target);
                long next = Objective;
                if (next <= current || rng.NextDouble() < Math.Exp((current - next) / temperature))
                {
                    current = next;
                    if (current < bestCost)
                    {
                        bestCost = current;
                        best = [.. core];
                    }
                }
                else
                {
                    Move(a, b, target, from);
                }
            }

            return best;
        }

        /// <summary>Slot a goes from core <paramref name="from"/> to <paramref name="to"/>; slot b (or none, -1) goes the other way.</summary>
        private void Move(int a, int b, int from, int to)
        {
            var touched = edgesOf[a].Concat(b >= 0 ? edgesOf[b] : []).Distinct().ToList();
            foreach (int e in touched)
            {
                Route(e, -1);
            }

            core[a] = to;
            slotOnCore[to] = a;
            slotOnCore[from] = b;
            if (b >= 0)
            {
                core[b] = from;
            }

            foreach (int e in touched)
            {
                Route(e, +1);
            }
        }

        private void Route(int edge, int sign)
        {
            TrafficEdge e = traffic.Edges[edge];
            int a = mesh.TileOf(core[e.From]), b = mesh.TileOf(core[e.To]);
            trafficHops += sign * e.Words * mesh.Hops(a, b);
            foreach (int link in mesh.Links(a, b))
            {
                load[link] += sign * e.Words;
            }
        }
    }
}
