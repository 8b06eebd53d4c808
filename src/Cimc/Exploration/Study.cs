using System.Collections.Immutable;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Cimc.Exploration;

/// <summary>
/// A study as its database holds it: the rows, the parameters (from the space in <c>meta</c>), the
/// objectives and constraints it was run with, and its exact non-dominated front. The CSV export
/// and the HTML report both read it, so they agree on what the front is.
/// </summary>
public sealed record Study(
    IReadOnlyDictionary<string, string> Meta,
    ImmutableArray<string> Parameters,
    ImmutableArray<Objective> Objectives,
    ImmutableArray<Constraint> Constraints,
    ImmutableArray<PointResult> Rows)
{
    /// <summary>The meta a run writes: the study's identity plus how it was run.</summary>
    public static Dictionary<string, string> MetaFor(DesignSpace space, string modelPath, string modelHash, string data, int batch, ExploreSettings settings) => new()
    {
        ["cimc_version"] = typeof(Study).Assembly.GetName().Version?.ToString() ?? "unknown",
        ["model"] = Path.GetFileName(modelPath),
        ["model_hash"] = modelHash,
        ["space"] = space.Canonical(),
        ["data"] = data,
        ["batch"] = batch.ToString(CultureInfo.InvariantCulture),
        ["objectives"] = string.Join(",", settings.Objectives.Select(o => o.Name)),
        ["constraints"] = string.Join(";", settings.Constraints.Select(c => c.ToString())),
    };

    /// <summary>SHA-256 of a file, in hex (the model's identity in meta).</summary>
    public static string HashFile(string path)
    {
        using FileStream stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    public static Study Load(ResultStore store, ImmutableArray<Objective>? objectives = null)
    {
        Dictionary<string, string> meta = store.Meta();
        ImmutableArray<string> parameters = meta.TryGetValue("space", out string? space) && JsonNode.Parse(space)?["params"] is JsonObject ps
            ? [.. ps.Select(p => p.Key)]
            : [];
        ImmutableArray<Objective> objs = objectives ?? (meta.TryGetValue("objectives", out string? o) && o.Length > 0 ? Objective.ParseList(o) : Objective.Defaults(false));
        ImmutableArray<Constraint> constraints = meta.TryGetValue("constraints", out string? c) && c.Length > 0
            ? [.. c.Split(';').Select(Constraint.Parse)]
            : [];
        return new Study(meta, parameters, objs, constraints, [.. store.All()]);
    }

    /// <summary>The rows that count: valid, meeting every constraint, with every objective.</summary>
    public IEnumerable<PointResult> Feasible =>
        Rows.Where(r => r.Valid && Objectives.All(o => o.Cost(r) is not null) && Constraints.All(c => c.Violation(r) == 0));

    /// <summary>The exact non-dominated set of the feasible rows, ordered by the first objective.</summary>
    public ImmutableArray<PointResult> Front()
    {
        List<PointResult> feasible = [.. Feasible];
        List<int> front = Pareto.NonDominated([.. feasible.Select(Costs)]);
        return [.. front.Select(i => feasible[i]).OrderBy(r => Objectives[0].Cost(r)).ThenBy(r => r.Key, StringComparer.Ordinal)];
    }

    public IReadOnlyList<double> Costs(PointResult r) => [.. Objectives.Select(o => o.Cost(r)!.Value)];

    /// <summary>A parameter's value in a row (JSON text; strings without quotes).</summary>
    public static string Value(PointResult r, string parameter) =>
        JsonNode.Parse(r.Config)?[parameter] switch
        {
            JsonValue v when v.TryGetValue(out string? s) => s,
            JsonNode n => n.ToJsonString(),
            null => "",
        };

    /// <summary>One row per point: key, a column per parameter, valid and reason, every figure, fidelity (estimate or simulate) and, last, pareto (true on the front).</summary>
    public string Csv()
    {
        var front = Front().Select(r => r.Key).ToHashSet();
        var sb = new StringBuilder();
        sb.AppendLine(string.Join(',', ["key", .. Parameters, "valid", "reason", .. PointResult.MetricNames, "fidelity", "pareto"]));
        foreach (PointResult r in Rows)
        {
            IEnumerable<string> cells = [r.Key, .. Parameters.Select(p => Value(r, p)), r.Valid ? "true" : "false", r.Reason ?? "",
                .. PointResult.MetricNames.Select(m => r.Metric(m) is double v ? v.ToString("R", CultureInfo.InvariantCulture) : ""),
                r.Fidelity, front.Contains(r.Key) ? "true" : "false"];
            sb.AppendLine(string.Join(',', cells.Select(Quote)));
        }

        return sb.ToString();
    }

    private static string Quote(string s) => s.IndexOfAny([',', '"', '\n', '\r']) < 0 ? s : $"\"{s.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
}
