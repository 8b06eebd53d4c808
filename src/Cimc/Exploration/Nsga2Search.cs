using System.Collections.Immutable;

namespace Cimc.Exploration;

/// <summary>A point's standing for selection: its costs (all minimised) and its constraint violation (0 = feasible).</summary>
public sealed record Score(double[] Costs, double Violation);

/// <summary>
/// NSGA-II over a design space (Deb et al. 2002): each gene is a parameter's value index, integer
/// (numbers, mutated by a step to a neighbouring value or anywhere) or categorical (mutated
/// anywhere); uniform crossover; binary tournaments on (front, crowding); elitist survival from
/// parents and offspring. Seeded, so a run is reproducible, and a restarted run asks for the same
/// points in the same order (the results database answers the ones already done).
///
/// The first population holds the greedy one-factor-at-a-time answer from the first value of every
/// parameter (each parameter moved alone through its values) and both corners of the grid, so the
/// search starts from what a hand sweep would try; random points fill the rest. When the whole grid
/// fits in one population the first population is the grid, and the answer is exact.
/// </summary>
public sealed class Nsga2Search(DesignSpace space, int populationSize, int budget, int seed)
{
    private readonly Random random = new(seed);
    private readonly HashSet<DesignPoint> seen = [];

    /// <summary>
    /// Runs until <c>budget</c> distinct points have been asked for, or no new point can be bred.
    /// <paramref name="evaluate"/> answers a batch in order; it may throw OperationCanceledException.
    /// </summary>
    public void Run(Func<IReadOnlyList<DesignPoint>, IReadOnlyList<Score>> evaluate, CancellationToken cancel = default)
    {
        List<DesignPoint> population = FirstPopulation();
        List<Score> scores = [.. evaluate(population)];
        while (seen.Count < budget && !cancel.IsCancellationRequested)
        {
            List<int> ranks = Ranks(scores, out double[] crowding);
            var offspring = new List<DesignPoint>();
            int wanted = Math.Min(populationSize, budget - seen.Count);
            for (int attempt = 0; offspring.Count < wanted && attempt < wanted * 50; attempt++)
            {
                DesignPoint a = population[Tournament(ranks, crowding)], b = population[Tournament(ranks, crowding)];
                DesignPoint child = Mutate(Crossover(a, b));
                if (seen.Add(child))
                {
                    offspring.Add(child);
                }
            }

            if (offspring.Count == 0)
            {
                return; // nothing new can be bred: the reachable space is exhausted
            }

            List<DesignPoint> all = [.. population, .. offspring];
            List<Score> allScores = [.. scores, .. evaluate(offspring)];
            List<int> survivors = Survivors(allScores, populationSize);
            population = [.. survivors.Select(i => all[i])];
            scores = [.. survivors.Select(i => allScores[i])];
        }
    }

    /// <summary>Elitist survival: whole fronts while they fit, then the least crowded of the next.</summary>
    public static List<int> Survivors(IReadOnlyList<Score> scores, int size)
    {
        List<List<int>> fronts = Pareto.FastNonDominatedSort([.. scores.Select(s => (IReadOnlyList<double>)s.Costs)], [.. scores.Select(s => s.Violation)]);
        var chosen = new List<int>();
        foreach (List<int> front in fronts)
        {
            if (chosen.Count + front.Count <= size)
            {
                chosen.AddRange(front);
                continue;
            }

            double[] d = Pareto.CrowdingDistance([.. scores.Select(s => (IReadOnlyList<double>)s.Costs)], front);
            chosen.AddRange(Enumerable.Range(0, front.Count).OrderByDescending(i => d[i]).ThenBy(i => front[i]).Take(size - chosen.Count).Select(i => front[i]));
            break;
        }

        return chosen;
    }

    private List<DesignPoint> FirstPopulation()
    {
        int size = (int)Math.Min(Math.Min(populationSize, budget), space.Size);
        var first = new List<DesignPoint>();
        void Add(DesignPoint p)
        {
            if (first.Count < size && seen.Add(p))
            {
                first.Add(p);
            }
        }

        if (space.Size <= populationSize)
        {
            for (long i = 0; i < space.Size; i++)
            {
                Add(space.PointAt(i));
            }

            return first;
        }

        ImmutableArray<int> start = [.. space.Parameters.Select(_ => 0)];
        Add(space.Point(start));
        Add(space.Point([.. space.Parameters.Select(p => p.Values.Length - 1)]));
        for (int g = 0; g < space.Parameters.Length; g++)
        {
            for (int v = 1; v < space.Parameters[g].Values.Length; v++)
            {
                Add(space.Point(start.SetItem(g, v)));
            }
        }

        for (int attempt = 0; first.Count < size && attempt < size * 100; attempt++)
        {
            Add(space.Point([.. space.Parameters.Select(p => random.Next(p.Values.Length))]));
        }

        return first;
    }

    private static List<int> Ranks(IReadOnlyList<Score> scores, out double[] crowding)
    {
        var costs = scores.Select(s => (IReadOnlyList<double>)s.Costs).ToList();
        List<List<int>> fronts = Pareto.FastNonDominatedSort(costs, [.. scores.Select(s => s.Violation)]);
        var ranks = new int[scores.Count];
        crowding = new double[scores.Count];
        for (int f = 0; f < fronts.Count; f++)
        {
            double[] d = Pareto.CrowdingDistance(costs, fronts[f]);
            for (int k = 0; k < fronts[f].Count; k++)
            {
                ranks[fronts[f][k]] = f;
                crowding[fronts[f][k]] = d[k];
            }
        }

        return [.. ranks];
    }

    private int Tournament(List<int> ranks, double[] crowding)
    {
        int a = random.Next(ranks.Count), b = random.Next(ranks.Count);
        return ranks[a] != ranks[b] ? (ranks[a] < ranks[b] ? a : b) : crowding[a] >= crowding[b] ? a : b;
    }

    private DesignPoint Crossover(DesignPoint a, DesignPoint b) =>
        space.Point([.. a.Genes.Select((g, i) => random.Next(2) == 0 ? g : b.Genes[i])]);

    /// <summary>Each gene changes with probability 1/genes (at least one expected change per child).</summary>
    private DesignPoint Mutate(DesignPoint p)
    {
        int[] genes = [.. p.Genes];
        for (int i = 0; i < genes.Length; i++)
        {
            SpaceParameter parameter = space.Parameters[i];
            int n = parameter.Values.Length;
            if (n < 2 || random.NextDouble() >= 1.0 / genes.Length)
            {
                continue;
            }

            genes[i] = parameter.IsOrdered && random.Next(2) == 0
                ? Math.Clamp(genes[i] + (random.Next(2) == 0 ? -1 : 1), 0, n - 1)
                : random.Next(n);
        }

        return space.Point([.. genes]);
    }
}
