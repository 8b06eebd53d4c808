using System.Collections.Immutable;
using Cimc.Diagnostics;

namespace Cimc.Exploration;

/// <summary>
/// Runs a study: chooses the points (grid, random or NSGA-II, this shard's share of them), answers
/// each from the results database when it is there and evaluates it otherwise (in parallel,
/// --jobs), storing every point as soon as it is done. Cancelling (Ctrl-C) lets the points in
/// flight finish and be stored, then returns: the database holds every finished point and a run
/// started again continues where this one stopped, ending with the same rows as an uninterrupted run.
/// </summary>
public static class Explorer
{
    /// <summary>The largest grid a run lists without a --budget.</summary>
    public const long MaxGrid = 10_000_000;

    public static ExploreSummary Run(DesignSpace space, Func<DesignPoint, PointResult> evaluate, ResultStore store, ExploreSettings settings,
        Action<int, int>? progress = null, CancellationToken cancel = default)
    {
        settings.Validate();
        var run = new RunState(evaluate, store, settings, progress, cancel);
        try
        {
            switch (settings.Strategy)
            {
                case SearchStrategy.Nsga2:
                    RunNsga2(space, run, settings);
                    break;
                default:
                    List<DesignPoint> points = settings.Strategy == SearchStrategy.Grid ? GridPoints(space, settings) : RandomPoints(space, settings);
                    run.Total = points.Count;
                    run.Answer(points);
                    break;
            }
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            run.Cancelled = true;
        }

        return new ExploreSummary(run.Requested, run.Evaluated, run.Reused, run.Invalid, run.Cancelled || cancel.IsCancellationRequested);
    }

    /// <summary>The grid in order (the first --budget points), this shard's share.</summary>
    public static List<DesignPoint> GridPoints(DesignSpace space, ExploreSettings settings)
    {
        long count = Math.Min(space.Size, settings.Budget ?? long.MaxValue);
        if (count > MaxGrid)
        {
            throw new CimcException("bad-option", "--budget", $"the grid has {space.Size:N0} points: give --budget N or use --strategy random or nsga2");
        }

        var points = new List<DesignPoint>();
        for (long i = 0; i < count; i++)
        {
            if (settings.Part.Owns(i))
            {
                points.Add(space.PointAt(i));
            }
        }

        return points;
    }

    /// <summary>--budget distinct grid points drawn with --seed (all of them when the grid is smaller), this shard's share.</summary>
    public static List<DesignPoint> RandomPoints(DesignSpace space, ExploreSettings settings)
    {
        long budget = settings.Budget ?? 100;
        if (budget > MaxGrid)
        {
            throw new CimcException("bad-option", "--budget", $"at most {MaxGrid:N0} points per run");
        }

        var random = new Random(settings.Seed);
        var chosen = new List<long>();
        if (budget >= space.Size)
        {
            chosen.AddRange(Enumerable.Range(0, (int)space.Size).Select(i => (long)i));
        }
        else
        {
            var seen = new HashSet<long>();
            while (chosen.Count < budget)
            {
                long i = random.NextInt64(space.Size);
                if (seen.Add(i))
                {
                    chosen.Add(i);
                }
            }
        }

        return [.. chosen.Where((_, position) => settings.Part.Owns(position)).Select(space.PointAt)];
    }

    /// <summary>
    /// Islands: each shard runs its own NSGA-II (seed + shard index) on its share of the budget;
    /// merging the shards' databases merges their fronts.
    /// </summary>
    private static void RunNsga2(DesignSpace space, RunState run, ExploreSettings settings)
    {
        Shard part = settings.Part;
        long total = Math.Min(settings.Budget ?? 200, space.Size);
        int budget = (int)Math.Max(1, (total / part.Count) + (part.Index < total % part.Count ? 1 : 0));
        run.Total = budget;
        var search = new Nsga2Search(space, settings.PopulationSize, budget, settings.Seed + part.Index);
        search.Run(points => [.. run.Answer(points).Select(r => ScoreOf(r, settings))], run.Cancel);
    }

    /// <summary>Costs by the objectives; violation by the constraints; an invalid point is worse than any infeasible one.</summary>
    public static Score ScoreOf(PointResult r, ExploreSettings settings)
    {
        if (!r.Valid)
        {
            return new Score([.. settings.Objectives.Select(_ => 0.0)], 1e300);
        }

        double missing = settings.Objectives.Count(o => o.Cost(r) is null);
        return new Score([.. settings.Objectives.Select(o => o.Cost(r) ?? 0)], missing + settings.Constraints.Sum(c => c.Violation(r)));
    }

    private sealed class RunState(Func<DesignPoint, PointResult> evaluate, ResultStore store, ExploreSettings settings, Action<int, int>? progress, CancellationToken cancel)
    {
        private int done;
        private int evaluated;
        private int invalid;
        private readonly HashSet<string> stored = store.Keys();

        public CancellationToken Cancel => cancel;

        public int Total { get; set; }

        public int Requested { get; private set; }

        public int Evaluated => evaluated;

        public int Reused { get; private set; }

        public int Invalid => invalid;

        public bool Cancelled { get; set; }

        /// <summary>The results of <paramref name="points"/> in order: stored ones read back, the others evaluated and stored.</summary>
        public List<PointResult> Answer(IReadOnlyList<DesignPoint> points)
        {
            var results = new PointResult?[points.Count];
            var todo = new List<int>();
            for (int i = 0; i < points.Count; i++)
            {
                string key = points[i].Key;
                if (stored.Contains(key) && store.Find(key) is { } row)
                {
                    results[i] = row;
                    Reused++;
                    Tick(row);
                }
                else
                {
                    todo.Add(i);
                }
            }

            Requested += points.Count;
            cancel.ThrowIfCancellationRequested();
            Parallel.ForEach(todo, new ParallelOptions { MaxDegreeOfParallelism = settings.Jobs, CancellationToken = cancel }, i =>
            {
                PointResult r = evaluate(points[i]);
                store.Insert(r);
                Interlocked.Increment(ref evaluated);
                results[i] = r;
                Tick(r);
            });
            foreach (int i in todo)
            {
                stored.Add(points[i].Key);
            }

            return [.. results.Select(r => r!)];
        }

        private void Tick(PointResult r)
        {
            if (!r.Valid)
            {
                Interlocked.Increment(ref invalid);
            }

            int now = Interlocked.Increment(ref done);
            progress?.Invoke(now, Math.Max(Total, now));
        }
    }
}
