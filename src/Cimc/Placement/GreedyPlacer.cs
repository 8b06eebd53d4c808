using Cimc.Architectures;
using Cimc.Mapping;

namespace Cimc.Placement;

/// <summary>
/// The greedy place pass: slots in order (layer by layer), each to the tile with a free core that
/// adds the least traffic x hops to the slots already placed (ties: nearest the previous slot's
/// tile, then the lowest tile); a tile's cores fill in ascending order. The first slot goes to the
/// tile at the mesh's centre, so a pipeline can spread in every direction rather than from a
/// corner. Expects a mapped model that fits (<see cref="Placer.Slots"/>); guarantees every block
/// placed once, layers on disjoint cores, and an objective (<see cref="PlacementCost"/>) no worse
/// than linear placement's (it returns the linear one otherwise). Deterministic. On a node of
/// several chips each slot stays on the chip <see cref="ChipPartition"/> gave it.
/// <code>
/// linear: layer 0 -> cores 0..31 (tiles 0..3), layer 1 -> cores 32..95 (tiles 4..11), ...
/// greedy: layer 0 around the centre tile, layer 1 on the tiles nearest layer 0's roots, ...
/// </code>
/// </summary>
public static class GreedyPlacer
{
    public static PlacedModel Place(MappedModel mapped, Architecture arch) => Placer.Assign(mapped, Compiler.Shape(arch), Cores(mapped, arch, new MeshCost(arch)));

    /// <summary>The core of each slot: greedy, or linear when greedy is not better.</summary>
    public static int[] Cores(MappedModel mapped, Architecture arch, MeshCost mesh)
    {
        ChipShape chip = Compiler.Shape(arch);
        _ = Placer.Slots(mapped, chip); // refuses a network that does not fit
        var traffic = SlotTraffic.Of(mapped, chip.CrossbarsPerCore);
        int[] chipOf = ChipPartition.Of(traffic, chip);
        int[] linear = ChipPartition.LinearCores(chipOf, chip);
        int[] greedy = Greedy(traffic, chip, mesh, chipOf);
        return mesh.Evaluate(traffic, greedy).Objective < mesh.Evaluate(traffic, linear).Objective ? greedy : linear;
    }

    private static int[] Greedy(SlotTraffic traffic, ChipShape chip, MeshCost mesh, int[] chipOf)
    {
        var neighbours = Enumerable.Range(0, traffic.Slots).Select(_ => new List<(int Slot, long Words)>()).ToArray();
        foreach (TrafficEdge e in traffic.Edges)
        {
            neighbours[e.From].Add((e.To, e.Words));
            neighbours[e.To].Add((e.From, e.Words));
        }

        var used = new int[chip.Tiles];
        var core = Enumerable.Repeat(-1, traffic.Slots).ToArray();
        int perChip = chip.TilesPerChip;
        int rows = (perChip + mesh.MeshWidth - 1) / mesh.MeshWidth;
        int centre = Math.Min(perChip - 1, (rows / 2 * mesh.MeshWidth) + (mesh.MeshWidth / 2));
        int previous = centre;
        for (int s = 0; s < traffic.Slots; s++)
        {
            // A slot stays on its chip (the partition's); each chip's first slot starts at its centre.
            int first = chipOf[s] * perChip;
            if (s == 0 || chipOf[s] != chipOf[s - 1])
            {
                previous = first + centre;
            }

            (long Cost, int Near, int Tile) best = (long.MaxValue, int.MaxValue, -1);
            for (int t = first; t < first + perChip; t++)
            {
                if (used[t] == chip.CoresPerTile)
                {
                    continue;
                }

                long cost = 0;
                foreach ((int other, long words) in neighbours[s])
                {
                    if (core[other] >= 0)
                    {
                        cost += words * mesh.Hops(t, mesh.TileOf(core[other]));
                    }
                }

                (long, int, int) candidate = (cost, mesh.Hops(previous, t), t);
                if (candidate.CompareTo(best) < 0)
                {
                    best = candidate;
                }
            }

            core[s] = (best.Tile * chip.CoresPerTile) + used[best.Tile]++;
            previous = best.Tile;
        }

        return core;
    }
}
