using Cimc.Exploration;

namespace Cimc.Tests.Exploration;

public sealed class Nsga2Tests
{
    /// <summary>x, y, z in 0..9: f1 = x, f2 = (1 + y + z)(10 - x); the front is y = z = 0, ten points of 1000.</summary>
    private static readonly DesignSpace Space = DesignSpace.Parse("""{ "arch": "isaac", "params": { "x": [0,1,2,3,4,5,6,7,8,9], "y": [0,1,2,3,4,5,6,7,8,9], "z": [0,1,2,3,4,5,6,7,8,9] } }""");

    private static Score Evaluate(DesignPoint p) =>
        new([p.Genes[0], (1 + p.Genes.Skip(1).Sum()) * (10.0 - p.Genes[0])], 0);

    private static List<DesignPoint> Run(DesignSpace space, int budget, int seed, int population = 20)
    {
        var asked = new List<DesignPoint>();
        new Nsga2Search(space, population, budget, seed).Run(batch =>
        {
            asked.AddRange(batch);
            return [.. batch.Select(Evaluate)];
        });
        return asked;
    }

    [Fact]
    public void The_same_seed_asks_for_the_same_points_in_the_same_order_and_another_seed_does_not()
    {
        List<DesignPoint> a = Run(Space, 120, 7), b = Run(Space, 120, 7), c = Run(Space, 120, 8);
        Assert.Equal(a.Select(p => p.Key), b.Select(p => p.Key));
        Assert.NotEqual(a.Select(p => p.Key), c.Select(p => p.Key));
    }

    [Fact]
    public void It_asks_for_each_point_once_and_stays_within_the_budget()
    {
        List<DesignPoint> asked = Run(Space, 150, 3);
        Assert.Equal(150, asked.Count);
        Assert.Equal(asked.Count, asked.Select(p => p.Key).Distinct().Count());
    }

    [Fact]
    public void A_grid_that_fits_in_one_population_is_evaluated_whole_and_the_search_stops()
    {
        DesignSpace small = DesignSpace.Parse("""{ "arch": "isaac", "params": { "x": [0,1,2], "y": ["a","b"] } }""");
        List<DesignPoint> asked = Run(small, 100, 1);
        Assert.Equal(6, asked.Count);
        Assert.Equal(Enumerable.Range(0, 6).Select(i => small.PointAt(i).Key).Order(), asked.Select(p => p.Key).Order());
    }

    [Fact]
    public void With_a_fifth_of_the_grid_it_finds_most_of_the_true_front_and_beats_random_sampling()
    {
        int OnFront(IEnumerable<DesignPoint> points) => points.Count(p => p.Genes[1] == 0 && p.Genes[2] == 0);
        int found = OnFront(Run(Space, 200, 1));
        var random = new Random(1);
        int byChance = OnFront(Enumerable.Range(0, 1000).OrderBy(_ => random.Next()).Take(200).Select(i => Space.PointAt(i)));
        Assert.True(found >= 8, $"NSGA-II found {found} of the 10 front points");
        Assert.True(found > byChance, $"NSGA-II {found}, random {byChance}");
    }

    [Fact]
    public void Survival_keeps_whole_better_fronts_and_the_least_crowded_of_the_last()
    {
        // Front 0: (0,4) (1,3) (2,2) (4,0); front 1: (5,5); an infeasible point last.
        Score[] scores = [new([0, 4], 0), new([1, 3], 0), new([2, 2], 0), new([4, 0], 0), new([5, 5], 0), new([0, 0], 1)];
        Assert.Equal([0, 1, 2, 3, 4], Nsga2Search.Survivors(scores, 5).Order());
        List<int> three = Nsga2Search.Survivors(scores, 3);
        Assert.Contains(0, three);
        Assert.Contains(3, three);
        Assert.DoesNotContain(4, three);
    }
}
