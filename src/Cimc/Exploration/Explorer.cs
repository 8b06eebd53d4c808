using System.Collections.Immutable;
using Cimc.Diagnostics;

namespace Cimc.Exploration;

/// <summary>
/// Runs a study: chooses the points (grid, random or NSGA-II, this shard's share of them), answers
/// each from the results database when it is there and evaluates it otherwise (in parallel,
/// --jobs), storing every point as soon as it is done. Cancelling (Ctrl-C) lets the points in
/// flight finish and be stored, then returns: the database holds every finished point and a run
/// started again continues where this one stopped, ending with the same rows as an uninterrupted run.
/// At <see cref="Fidelity.Auto"/> the strategy runs on estimates (held in memory, cheap to redo),
/// the points on the estimated front and the next front behind it (<see cref="NearFronts"/>) are
/// simulated and stored as such, until those fronts hold simulations only, and the others are stored
/// as estimates: what is simulated depends on the estimates and the (deterministic) simulations
/// alone, so an interrupted auto run ends as an uninterrupted one does.
/// </summary>
public static class Explorer
{
    /// <summary>The largest grid a run lists without a --budget.</summary>
    public const long MaxGrid = 10_000_000;

    /// <summary>Fronts that auto simulates: the non-dominated points and the next front (a few percent of estimate error can swap them).</summary>
    public const int NearFronts = 2;

    /// <summary>Every point at one fidelity, by <paramref name="evaluate"/> (rows say which fidelity they hold).</summary>
    public static ExploreSummary Run(DesignSpace space, Func<DesignPoint, PointResult> evaluate, ResultStore store, ExploreSettings settings,
        Action<int, int>? progress = null, CancellationToken cancel = default) =>
        Run(space, evaluate, evaluate, store, settings with { Fidelity = Fidelity.Simulate }, progress, cancel);

    /// <summary>A study at the settings' fidelity: <paramref name="estimate"/>, <paramref name="simulate"/>, or auto (both).</summary>
    public static ExploreSummary Run(DesignSpace space, Func<DesignPoint, PointResult> estimate, Func<DesignPoint, PointResult> simulate, ResultStore store,
        ExploreSettings settings, Action<int, int>? progress = null, CancellationToken cancel = default)
    {
        settings.Validate();
        var run = new RunState(store, settings, progress, cancel);
        bool auto = settings.Fidelity == Fidelity.Auto;
        Func<DesignPoint, PointResult> first = settings.Fidelity == Fidelity.Estimate || auto ? estimate : simulate;
        try
        {
            List<(DesignPoint Point, PointResult Result)> screened = [];
            List<PointResult> Evaluate(IReadOnlyList<DesignPoint> points)
            {
                if (!auto)
                {
                    return run.Answer(points, first);
                }

                List<PointResult> results = run.Screen(points, first);
                screened.AddRange(points.Zip(results));
                return results;
            }

            switch (settings.Strategy)
            {
                case SearchStrategy.Nsga2:
                    RunNsga2(space, run, settings, Evaluate);
                    break;
                default:
                    List<DesignPoint> points = settings.Strategy == SearchStrategy.Grid ? GridPoints(space, settings) : RandomPoints(space, settings);
                    run.Total = points.Count;
                    Evaluate(points);
                    break;
            }

            if (auto)
            {
                Refine(screened, run, settings, simulate);
            }
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            run.Cancelled = true;
        }

        return new ExploreSummary(run.Requested, run.Evaluated, run.Reused, run.Invalid, run.Cancelled || cancel.IsCancellationRequested) { Simulated = run.Simulated };
    }

    /// <summary>
    /// Auto's second step: simulates the screened points on the first <see cref="NearFronts"/> fronts
    /// (by the objectives and constraints), then again those that reach these fronts once the
    /// simulations replace their estimates (a point the estimate cannot see fail, such as one whose
    /// core memory overflows, leaves the front to the next), until the near fronts hold simulations
    /// only; the other points are stored as the estimates they are.
    /// </summary>
    private static void Refine(List<(DesignPoint Point, PointResult Result)> screened, RunState run, ExploreSettings settings, Func<DesignPoint, PointResult> simulate)
    {
        var distinct = screened.DistinctBy(p => p.Point.Key).ToList();
        var current = distinct.Select(p => p.Result).ToArray();
        var simulated = new HashSet<int>();
        while (true)
        {
            List<int> valid = [.. Enumerable.Range(0, current.Length).Where(i => current[i].Valid)];
            List<Score> scores = [.. valid.Select(i => ScoreOf(current[i], settings))];
            List<List<int>> fronts = Pareto.FastNonDominatedSort([.. scores.Select(x => (IReadOnlyList<double>)x.Costs)], [.. scores.Select(x => x.Violation)]);
            List<int> todo = [.. fronts.Take(NearFronts).SelectMany(f => f).Select(k => valid[k]).Where(i => !simulated.Contains(i)).Order()];
            if (todo.Count == 0)
            {
                break;
            }

            run.Total += todo.Count;
            List<PointResult> results = run.Answer([.. todo.Select(i => distinct[i].Point)], simulate);
            for (int k = 0; k < todo.Count; k++)
            {
                current[todo[k]] = results[k];
                simulated.Add(todo[k]);
            }
        }

        run.Keep([.. Enumerable.Range(0, current.Length).Where(i => !simulated.Contains(i)).Select(i => current[i])]);
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
    private static void RunNsga2(DesignSpace space, RunState run, ExploreSettings settings, Func<IReadOnlyList<DesignPoint>, List<PointResult>> evaluate)
    {
        Shard part = settings.Part;
        long total = Math.Min(settings.Budget ?? 200, space.Size);
        int budget = (int)Math.Max(1, (total / part.Count) + (part.Index < total % part.Count ? 1 : 0));
        run.Total = budget;
        var search = new Nsga2Search(space, settings.PopulationSize, budget, settings.Seed + part.Index);
        search.Run(points => [.. evaluate(points).Select(r => ScoreOf(r, settings))], run.Cancel);
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

    private sealed class RunState(ResultStore store, ExploreSettings settings, Action<int, int>? progress, CancellationToken cancel)
    {
        private int done;
        private int evaluated;
        private int invalid;
        private int simulated;
        private readonly Dictionary<string, string> stored = store.Fidelities();

        public CancellationToken Cancel => cancel;

        public int Total { get; set; }

        public int Requested { get; private set; }

        public int Evaluated => evaluated;

        public int Reused { get; private set; }

        public int Invalid => invalid;

        public int Simulated => simulated;

        public bool Cancelled { get; set; }

        /// <summary>
        /// The results of <paramref name="points"/> in order: stored ones read back (a stored estimate
        /// does not answer for a simulation: it is simulated and upgraded), the others evaluated and stored.
        /// </summary>
        public List<PointResult> Answer(IReadOnlyList<DesignPoint> points, Func<DesignPoint, PointResult> evaluate)
        {
            var results = new PointResult?[points.Count];
            var todo = new List<int>();
            bool exact = settings.Fidelity != Fidelity.Estimate;
            for (int i = 0; i < points.Count; i++)
            {
                string key = points[i].Key;
                if (stored.TryGetValue(key, out string? fidelity) && !(exact && fidelity == "estimate") && store.Find(key) is { } row)
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

            Requested += settings.Fidelity == Fidelity.Auto ? 0 : points.Count;
            cancel.ThrowIfCancellationRequested();
            Parallel.ForEach(todo, new ParallelOptions { MaxDegreeOfParallelism = settings.Jobs, CancellationToken = cancel }, i =>
            {
                PointResult r = evaluate(points[i]);
                store.Insert(r);
                Interlocked.Increment(ref evaluated);
                if (r.Fidelity == "simulate")
                {
                    Interlocked.Increment(ref simulated);
                }

                results[i] = r;
                Tick(r);
            });
            foreach (int i in todo)
            {
                stored[points[i].Key] = results[i]!.Fidelity;
            }

            return [.. results.Select(r => r!)];
        }

        /// <summary>Auto's screening: evaluates every point (estimates are cheap) without storing; the stored rows do not decide what is simulated.</summary>
        public List<PointResult> Screen(IReadOnlyList<DesignPoint> points, Func<DesignPoint, PointResult> evaluate)
        {
            var results = new PointResult[points.Count];
            Requested += points.Count;
            cancel.ThrowIfCancellationRequested();
            Parallel.For(0, points.Count, new ParallelOptions { MaxDegreeOfParallelism = settings.Jobs, CancellationToken = cancel }, i => results[i] = evaluate(points[i]));
            return [.. results];
        }

        /// <summary>Stores screened estimates of points the database does not hold yet.</summary>
        public void Keep(IReadOnlyList<PointResult> rows)
        {
            foreach (PointResult r in rows)
            {
                cancel.ThrowIfCancellationRequested();
                if (stored.ContainsKey(r.Key))
                {
                    Reused++;
                }
                else
                {
                    store.Insert(r);
                    stored[r.Key] = r.Fidelity;
                    evaluated++;
                    invalid += r.Valid ? 0 : 1;
                }
            }
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
