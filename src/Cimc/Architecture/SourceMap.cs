using System.Collections;
using System.Collections.Immutable;

namespace Cimc.Architectures;

/// <summary>
/// Where the figures of an architecture come from: a key path (<c>core.adc</c>, <c>chip.tiles</c>,
/// or <c>general</c>) mapped to citation text. Compares by content, ignoring order, so that two
/// architectures loaded from equal files are equal records; enumerates in the order written.
/// </summary>
public sealed class SourceMap : IReadOnlyDictionary<string, string>, IEquatable<SourceMap>
{
    private readonly ImmutableArray<KeyValuePair<string, string>> entries;
    private readonly ImmutableDictionary<string, string> lookup;

    public SourceMap(IEnumerable<KeyValuePair<string, string>> entries)
    {
        this.entries = [.. entries];
        lookup = this.entries.ToImmutableDictionary(StringComparer.Ordinal);
    }

    public static SourceMap Empty { get; } = new([]);

    public string this[string key] => lookup[key];

    public IEnumerable<string> Keys => entries.Select(e => e.Key);

    public IEnumerable<string> Values => entries.Select(e => e.Value);

    public int Count => entries.Length;

    public bool ContainsKey(string key) => lookup.ContainsKey(key);

    public bool TryGetValue(string key, out string value) => lookup.TryGetValue(key, out value!);

    /// <summary>The citation for <paramref name="keyPath"/> or, failing that, for its nearest parent key, or <c>general</c>.</summary>
    public string? For(string keyPath)
    {
        for (string? path = keyPath; path is not null; path = path.Contains('.') ? path[..path.LastIndexOf('.')] : null)
        {
            if (lookup.TryGetValue(path, out string? source))
            {
                return source;
            }
        }

        return lookup.GetValueOrDefault("general");
    }

    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, string>>)entries).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public bool Equals(SourceMap? other) =>
        other is not null && other.Count == Count && entries.All(e => other.lookup.TryGetValue(e.Key, out string? v) && v == e.Value);

    public override bool Equals(object? obj) => Equals(obj as SourceMap);

    public override int GetHashCode()
    {
        int hash = 0;
        foreach ((string key, string value) in entries)
        {
            hash ^= HashCode.Combine(key, value);
        }

        return hash;
    }
}
