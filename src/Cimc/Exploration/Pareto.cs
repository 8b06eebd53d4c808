namespace Cimc.Exploration;

/// <summary>
/// Dominance over cost vectors (every objective minimised; a maximised one is negated first), the
/// exact non-dominated set, and NSGA-II's fast non-dominated sort and crowding distance (Deb et al.,
/// "A fast and elitist multiobjective genetic algorithm: NSGA-II", IEEE TEVC 2002, sections III-A, III-B, and
/// the constraint domination of section VI).
/// </summary>
public static class Pareto
{
    /// <summary>a is no worse than b in every objective and better in at least one.</summary>
    public static bool Dominates(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        bool better = false;
        for (int i = 0; i < a.Count; i++)
        {
            if (a[i] > b[i])
            {
                return false;
            }

            better |= a[i] < b[i];
        }

        return better;
    }

    /// <summary>
    /// Constraint domination: a feasible point (violation 0) beats an infeasible one; of two
    /// infeasible points the smaller violation wins; two feasible points compare by dominance.
    /// </summary>
    public static bool ConstrainedDominates(IReadOnlyList<double> a, double violationA, IReadOnlyList<double> b, double violationB) =>
        (violationA, violationB) switch
        {
            (0, 0) => Dominates(a, b),
            (0, _) => true,
            (_, 0) => false,
            _ => violationA < violationB,
        };

    /// <summary>The indices of the points no other point dominates (exact, quadratic).</summary>
    public static List<int> NonDominated(IReadOnlyList<IReadOnlyList<double>> costs) =>
        [.. Enumerable.Range(0, costs.Count).Where(i => !Enumerable.Range(0, costs.Count).Any(j => j != i && Dominates(costs[j], costs[i])))];

    /// <summary>
    /// Fronts in order: the first holds the points nothing dominates, the second those dominated
    /// only by the first, and so on; every index appears in exactly one front.
    /// </summary>
    public static List<List<int>> FastNonDominatedSort(IReadOnlyList<IReadOnlyList<double>> costs, IReadOnlyList<double>? violations = null)
    {
        int n = costs.Count;
        double V(int i) => violations?[i] ?? 0;
        var dominated = new List<int>[n];
        var count = new int[n];
        var fronts = new List<List<int>> { new() };
        for (int p = 0; p < n; p++)
        {
            dominated[p] = [];
            for (int q = 0; q < n; q++)
            {
                if (p == q)
                {
                    continue;
                }

                if (ConstrainedDominates(costs[p], V(p), costs[q], V(q)))
                {
                    dominated[p].Add(q);
                }
                else if (ConstrainedDominates(costs[q], V(q), costs[p], V(p)))
                {
                    count[p]++;
                }
            }

            if (count[p] == 0)
            {
                fronts[0].Add(p);
            }
        }

        for (int f = 0; fronts[f].Count > 0; f++)
        {
            var next = new List<int>();
            foreach (int p in fronts[f])
            {
                foreach (int q in dominated[p])
                {
                    if (--count[q] == 0)
                    {
                        next.Add(q);
                    }
                }
            }

            fronts.Add(next);
        }

        fronts.RemoveAt(fronts.Count - 1);
        return fronts;
    }

    /// <summary>
    /// Crowding distance of each member of one front (same order as <paramref name="front"/>): the
    /// sum over objectives of the normalised gap between its neighbours; the extremes get infinity.
    /// </summary>
    public static double[] CrowdingDistance(IReadOnlyList<IReadOnlyList<double>> costs, IReadOnlyList<int> front)
    {
        int n = front.Count;
        var distance = new double[n];
        if (n == 0)
        {
            return distance;
        }

        int objectives = costs[front[0]].Count;
        for (int m = 0; m < objectives; m++)
        {
            int[] order = [.. Enumerable.Range(0, n).OrderBy(i => costs[front[i]][m]).ThenBy(i => i)];
            double lo = costs[front[order[0]]][m], hi = costs[front[order[^1]]][m];
            distance[order[0]] = distance[order[^1]] = double.PositiveInfinity;
            if (hi - lo <= 0)
            {
                continue;
            }

            for (int k = 1; k < n - 1; k++)
            {
                distance[order[k]] += (costs[front[order[k + 1]]][m] - costs[front[order[k - 1]]][m]) / (hi - lo);
            }
        }

        return distance;
    }
}
