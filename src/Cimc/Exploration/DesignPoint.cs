using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Cimc.Exploration;

/// <summary>
/// One point of a design space: a value index per parameter (its genes). Its canonical
/// configuration (parameters sorted by name, values as JSON) names it across runs, shards and
/// machines; <see cref="Key"/> hashes that, and is the results database's primary key.
/// </summary>
public sealed record DesignPoint(DesignSpace Space, ImmutableArray<int> Genes)
{
    /// <summary>The value (JSON text) of each parameter, in the space's order.</summary>
    public IEnumerable<(string Name, string Value)> Settings =>
        Space.Parameters.Select((p, i) => (p.Name, p.Values[Genes[i]]));

    public string Canonical()
    {
        var config = new JsonObject();
        foreach ((string name, string value) in Settings.OrderBy(s => s.Name, StringComparer.Ordinal))
        {
            config[name] = JsonNode.Parse(value);
        }

        return config.ToJsonString();
    }

    public string Key => KeyOf(Canonical());

    /// <summary>The first 16 bytes of SHA-256 of the canonical configuration, in hex.</summary>
    public static string KeyOf(string canonical) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)).AsSpan(0, 16));

    public bool Equals(DesignPoint? other) => other is not null && Genes.SequenceEqual(other.Genes);

    public override int GetHashCode() => Genes.Aggregate(17, (h, g) => (h * 31) + g);
}
