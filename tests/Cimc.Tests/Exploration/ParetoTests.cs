using Cimc.Exploration;
using CsCheck;

namespace Cimc.Tests.Exploration;

public sealed class ParetoTests
{
    /// <summary>Brute force: peel the constrained-non-dominated points off the remaining set, front by front.</summary>
    private static List<HashSet<int>> Peel(double[][] costs, double[] violations)
    {
        var remaining = Enumerable.Range(0, costs.Length).ToHashSet();
        var fronts = new List<HashSet<int>>();
        while (remaining.Count > 0)
        {
            var front = remaining.Where(i => !remaining.Any(j => j != i && Pareto.ConstrainedDominates(costs[j], violations[j], costs[i], violations[i]))).ToHashSet();
            fronts.Add(front);
            remaining.ExceptWith(front);
        }

        return fronts;
    }

    [Fact]
    public void The_fast_non_dominated_sort_gives_the_fronts_of_a_brute_force_dominance_check_on_random_points()
    {
        Gen.Select(Gen.Int[1, 40], Gen.Int[1, 4], Gen.Int[2, 6], Gen.Int).Sample((n, m, range, seed) =>
        {
            var random = new Random(seed);
            // Few distinct values, so ties and duplicate points are common; some points infeasible.
            double[][] costs = [.. Enumerable.Range(0, n).Select(_ => Enumerable.Range(0, m).Select(_ => (double)random.Next(range)).ToArray())];
            double[] violations = [.. Enumerable.Range(0, n).Select(_ => random.Next(4) == 0 ? random.Next(1, 3) : 0.0)];
            List<List<int>> fast = Pareto.FastNonDominatedSort(costs, violations);
            List<HashSet<int>> slow = Peel(costs, violations);
            Assert.Equal(slow.Count, fast.Count);
            for (int f = 0; f < slow.Count; f++)
            {
                Assert.True(slow[f].SetEquals(fast[f]), $"front {f} differs");
            }

            Assert.Equal(n, fast.Sum(f => f.Count));
            double[][] feasible = [.. costs.Where((_, i) => violations[i] == 0)];
            var nonDominated = Pareto.NonDominated(feasible).ToHashSet();
            Assert.True(nonDominated.SetEquals(Peel(feasible, new double[feasible.Length]).FirstOrDefault() ?? []));
        }, iter: 300);
    }

    [Fact]
    public void A_feasible_point_beats_an_infeasible_one_and_the_smaller_violation_wins_between_infeasible_ones()
    {
        Assert.True(Pareto.ConstrainedDominates([9, 9], 0, [1, 1], 0.5));
        Assert.False(Pareto.ConstrainedDominates([1, 1], 0.5, [9, 9], 0));
        Assert.True(Pareto.ConstrainedDominates([9, 9], 0.1, [1, 1], 0.5));
        Assert.False(Pareto.ConstrainedDominates([1, 2], 0, [2, 1], 0));
        Assert.False(Pareto.Dominates([1, 1], [1, 1]));
    }

    [Fact]
    public void Crowding_distance_is_infinite_at_the_extremes_and_the_normalised_neighbour_gap_inside()
    {
        double[][] costs = [[0, 10], [1, 6], [4, 2], [10, 0]];
        double[] d = Pareto.CrowdingDistance(costs, [0, 1, 2, 3]);
        Assert.True(double.IsPositiveInfinity(d[0]) && double.IsPositiveInfinity(d[3]));
        Assert.Equal((4.0 / 10) + (8.0 / 10), d[1], 12);
        Assert.Equal((9.0 / 10) + (6.0 / 10), d[2], 12);
    }
}
