using Cimc.Diagnostics;

namespace Cimc.Import.Torch.Pickle;

/// <summary>
/// A Python dict (or OrderedDict): insertion-ordered, keys restricted to scalars (str, int, bool,
/// float, None) so that hashing can never recurse into hostile nested data.
/// </summary>
internal sealed class PyDict
{
    private readonly List<KeyValuePair<object?, object?>> _items = [];
    private readonly Dictionary<object, int> _index = new(KeyComparer.Instance);

    public int Count => _items.Count;

    public IEnumerable<KeyValuePair<object?, object?>> Items => _items;

    public IEnumerable<object?> Keys => _items.Select(p => p.Key);

    public void Set(object? key, object? value, string location)
    {
        object k = KeyOf(key, location);
        if (_index.TryGetValue(k, out int at))
        {
            // Python keeps the first insertion position when a key is assigned again.
            _items[at] = new(key, value);
            return;
        }

        _index[k] = _items.Count;
        _items.Add(new(key, value));
    }

    public bool TryGet(object? key, out object? value)
    {
        if (key is string or long or bool or double or null && _index.TryGetValue(key ?? NoneKey, out int at))
        {
            value = _items[at].Value;
            return true;
        }

        value = null;
        return false;
    }

    private static readonly object NoneKey = new();

    private static object KeyOf(object? key, string location) => key switch
    {
        null => NoneKey,
        string or long or bool or double => key,
        _ => throw new CimcException("bad-pickle", location, $"unsupported dictionary key of type {PickleText.TypeName(key)}"),
    };

    private sealed class KeyComparer : IEqualityComparer<object>
    {
        public static readonly KeyComparer Instance = new();

        public new bool Equals(object? x, object? y) => x switch
        {
            // Python: 1 == 1.0 == True share a slot; cimc's files never rely on that, so compare by type.
            string s => y is string t && string.Equals(s, t, StringComparison.Ordinal),
            _ => object.Equals(x, y),
        };

        public int GetHashCode(object obj) => obj is string s ? StringComparer.Ordinal.GetHashCode(s) : obj.GetHashCode();
    }
}
