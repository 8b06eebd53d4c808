using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cimc.Architectures;
using Cimc.Diagnostics;

namespace Cimc.Exploration;

/// <summary>One axis of a design space: a name and the values it may take (JSON scalars, in the file's order).</summary>
public sealed record SpaceParameter(string Name, ImmutableArray<string> Values)
{
    /// <summary>A key with a dot is an architecture key path; without one, a command-line option's name.</summary>
    public bool IsArchitectureKey => IsArchitecturePath(Name);

    /// <summary>A dotted name is an architecture key path, except a per-layer option (weight-bits@LAYER), whose layer name may hold dots.</summary>
    public static bool IsArchitecturePath(string name) => !name.Contains('@') && name.Contains('.');

    /// <summary>True when every value is a number, so neighbouring values are close (NSGA-II mutates by a step).</summary>
    public bool IsOrdered => Values.All(v => JsonNode.Parse(v) is JsonValue j && j.GetValueKind() == JsonValueKind.Number);
}

/// <summary>
/// A design space file (docs/dse-study.md):
/// <c>{ "arch": "isaac", "params": { "core.crossbar.rows": [64, 128], "weight-bits": [4, 8] } }</c>.
/// <c>arch</c> is a preset or an architecture file (relative to the space file); every value is a
/// JSON scalar, or for an architecture key an object of keys set together (e.g.
/// <c>"core.crossbar": [{"rows": 64, "cols": 64}, {"rows": 128, "cols": 128}]</c>). Points are the product of the values; the first parameter varies slowest.
/// </summary>
public sealed record DesignSpace(string ArchName, Architecture BaseArch, ImmutableArray<SpaceParameter> Parameters)
{
    public const string Code = "bad-space";

    /// <summary>How many points the grid holds (saturating at long.MaxValue).</summary>
    public long Size => Parameters.Aggregate(1L, (n, p) => n > long.MaxValue / p.Values.Length ? long.MaxValue : n * p.Values.Length);

    /// <summary>The canonical JSON of the space (base architecture in full, parameters in order): a study's identity.</summary>
    public string Canonical()
    {
        var parameters = new JsonObject();
        foreach (SpaceParameter p in Parameters)
        {
            parameters[p.Name] = new JsonArray([.. p.Values.Select(v => JsonNode.Parse(v))]);
        }

        return new JsonObject
        {
            ["arch"] = ArchName,
            ["base_arch"] = JsonNode.Parse(ArchitectureJson.Write(BaseArch)),
            ["params"] = parameters,
        }.ToJsonString();
    }

    /// <summary>The point at grid index <paramref name="index"/> (mixed radix, last parameter fastest).</summary>
    public DesignPoint PointAt(long index)
    {
        var genes = new int[Parameters.Length];
        for (int i = Parameters.Length - 1; i >= 0; i--)
        {
            int n = Parameters[i].Values.Length;
            genes[i] = (int)(index % n);
            index /= n;
        }

        return Point([.. genes]);
    }

    public DesignPoint Point(ImmutableArray<int> genes) => new(this, genes);

    public static DesignSpace Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new CimcException("file-not-found", path, "no such space file");
        }

        return Parse(File.ReadAllText(path), path, Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".");
    }

    public static DesignSpace Parse(string json, string origin = "space", string baseDirectory = ".")
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw new CimcException(Code, origin, $"invalid JSON: {e.Message.Split('.')[0]}");
        }

        if (root is not JsonObject obj)
        {
            throw new CimcException(Code, origin, "a space file is a JSON object with \"arch\" and \"params\"");
        }

        foreach ((string key, _) in obj)
        {
            if (key is not ("arch" or "params"))
            {
                throw new CimcException(Code, $"{origin}: {key}", "unknown key (expected \"arch\" and \"params\")");
            }
        }

        string archName = obj["arch"] is JsonValue a && a.TryGetValue(out string? s) && s.Length > 0 ? s
            : throw new CimcException(Code, $"{origin}: arch", "needs a preset name or an architecture file");
        string archPath = ArchitectureCatalog.IsPreset(archName) || Path.IsPathRooted(archName) ? archName : Path.Combine(baseDirectory, archName);
        Architecture baseArch = ArchitectureCatalog.IsPreset(archName) ? ArchitectureCatalog.Preset(archName) : ArchitectureCatalog.Load(archPath);

        if (obj["params"] is not JsonObject ps || ps.Count == 0)
        {
            throw new CimcException(Code, $"{origin}: params", "needs an object of at least one parameter, each a list of values");
        }

        var parameters = ImmutableArray.CreateBuilder<SpaceParameter>();
        foreach ((string name, JsonNode? values) in ps)
        {
            if (name.Length == 0 || name.StartsWith('-') || name.Any(char.IsWhiteSpace))
            {
                throw new CimcException(Code, $"{origin}: params", $"'{name}' is not a parameter name (an architecture key path like core.adc.bits, or an option name without dashes like weight-bits)");
            }

            JsonArray list = values is JsonArray arr && arr.Count > 0 ? arr : values is JsonValue v ? [v.DeepClone()]
                : throw new CimcException(Code, $"{origin}: params.{name}", "needs a non-empty list of values");
            var texts = new List<string>();
            foreach (JsonNode? item in list)
            {
                bool scalar = item is JsonValue value && value.GetValueKind() is JsonValueKind.Number or JsonValueKind.String or JsonValueKind.True or JsonValueKind.False;
                if (!scalar && !(item is JsonObject && SpaceParameter.IsArchitecturePath(name)))
                {
                    throw new CimcException(Code, $"{origin}: params.{name}", "values are numbers, strings or booleans (or, for an architecture key, objects of keys to set together)");
                }

                string text = item!.ToJsonString();
                if (!texts.Contains(text))
                {
                    texts.Add(text);
                }
            }

            parameters.Add(new SpaceParameter(name, [.. texts]));
        }

        return new DesignSpace(archName, baseArch, parameters.ToImmutable());
    }
}
