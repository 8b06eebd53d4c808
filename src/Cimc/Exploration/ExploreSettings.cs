using System.Collections.Immutable;
using System.Globalization;
using Cimc.Diagnostics;

namespace Cimc.Exploration;

public enum SearchStrategy
{
    /// <summary>Every point of the product, in order (the first --budget of them).</summary>
    Grid,

    /// <summary>--budget distinct points drawn uniformly with --seed.</summary>
    Random,

    /// <summary>NSGA-II with --budget evaluations.</summary>
    Nsga2,
}

/// <summary>A deterministic share of a study: shard <c>Index</c> of <c>Count</c> (written <c>i/n</c>, 0-based).</summary>
public sealed record Shard(int Index, int Count)
{
    public static Shard Whole { get; } = new(0, 1);

    public static Shard Parse(string text)
    {
        string[] parts = text.Split('/');
        return parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int i)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n)
            && n >= 1 && n <= 100_000 && i < n
            ? new Shard(i, n)
            : throw new CimcException("bad-option", "--shard", $"'{text}' is not i/n with 0 <= i < n (e.g. 0/4)");
    }

    /// <summary>Whether the <paramref name="position"/>-th point of the study's list belongs to this shard.</summary>
    public bool Owns(long position) => position % Count == Index;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Index}/{Count}");
}

/// <summary>How a study runs: the strategy and its budget and seed, what it optimises, and how it is spread.</summary>
public sealed record ExploreSettings(
    SearchStrategy Strategy,
    ImmutableArray<Objective> Objectives,
    long? Budget = null,
    int Seed = 1,
    int Jobs = 1,
    Shard? Shard = null,
    int PopulationSize = 24)
{
    public ImmutableArray<Constraint> Constraints { get; init; } = [];

    /// <summary>Estimate, simulate (the default) or auto (<see cref="Explorer"/>).</summary>
    public Fidelity Fidelity { get; init; } = Fidelity.Simulate;

    public static Fidelity ParseFidelity(string text) => text switch
    {
        "estimate" => Fidelity.Estimate,
        "simulate" => Fidelity.Simulate,
        "auto" => Fidelity.Auto,
        _ => throw new CimcException("bad-option", "--fidelity", $"unknown fidelity '{text}'; expected estimate, simulate or auto"),
    };

    public Shard Part => Shard ?? Exploration.Shard.Whole;

    public static SearchStrategy ParseStrategy(string text) => text switch
    {
        "grid" => SearchStrategy.Grid,
        "random" => SearchStrategy.Random,
        "nsga2" => SearchStrategy.Nsga2,
        _ => throw new CimcException("bad-option", "--strategy", $"unknown strategy '{text}'; expected grid, random or nsga2"),
    };

    public ExploreSettings Validate()
    {
        if (Budget is < 1)
        {
            throw new CimcException("bad-option", "--budget", "must be at least 1");
        }

        if (Jobs is < 1 or > 1024)
        {
            throw new CimcException("bad-option", "--jobs", $"must be between 1 and 1024 (got {Jobs})");
        }

        if (Objectives.IsDefaultOrEmpty)
        {
            throw new CimcException("bad-option", "--objectives", "needs at least one objective");
        }

        return this;
    }
}

/// <summary>What a run did: points asked for, evaluated now, found already in the database, invalid, and whether it was stopped.</summary>
public sealed record ExploreSummary(int Requested, int Evaluated, int Reused, int Invalid, bool Cancelled)
{
    /// <summary>Of the points evaluated now, those compiled and simulated.</summary>
    public int Simulated { get; init; }
}
