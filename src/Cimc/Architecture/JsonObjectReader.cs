using System.Globalization;
using System.Text.Json;
using Cimc.Diagnostics;

namespace Cimc.Architectures;

/// <summary>
/// One JSON object of a configuration file, read strictly: on construction it refuses duplicate
/// keys and keys outside <c>allowed</c> (suggesting the nearest allowed one); each getter refuses a
/// missing key or a value of the wrong type. Errors name the key path, e.g. <c>core.crossbar.rows</c>.
/// </summary>
internal sealed class JsonObjectReader
{
    private readonly JsonElement element;
    private readonly string path;

    public JsonObjectReader(JsonElement element, string path, IReadOnlyList<string> allowed)
    {
        this.element = element;
        this.path = path;
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw Error(path.Length == 0 ? "(root)" : path, $"must be an object (got {Kind(element)})");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (JsonProperty property in element.EnumerateObject())
        {
            if (!seen.Add(property.Name))
            {
                throw Error(Key(property.Name), "appears twice");
            }

            if (!allowed.Contains(property.Name))
            {
                string? near = Nearest(property.Name, allowed);
                string hint = near is null ? $"expected one of {string.Join(", ", allowed)}" : $"did you mean '{near}'?";
                throw Error(Key(property.Name), $"unknown key ({hint})");
            }
        }
    }

    public bool Has(string key) => element.TryGetProperty(key, out _);

    /// <summary>The raw value of <paramref name="key"/>, for a reader that must look at its form before reading it strictly.</summary>
    public JsonElement Raw(string key) => Get(key);

    public JsonObjectReader Object(string key, IReadOnlyList<string> allowed) => new(Get(key), Key(key), allowed);

    /// <summary>An array of objects, each read strictly with <paramref name="allowed"/> keys; paths are <c>key[i].field</c>.</summary>
    public IReadOnlyList<JsonObjectReader> Objects(string key, IReadOnlyList<string> allowed)
    {
        JsonElement value = Get(key);
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw Error(Key(key), $"must be an array (got {Kind(value)})");
        }

        return [.. value.EnumerateArray().Select((e, i) => new JsonObjectReader(e, $"{Key(key)}[{i}]", allowed))];
    }

    public string String(string key)
    {
        JsonElement value = Get(key);
        return value.ValueKind == JsonValueKind.String ? value.GetString()! : throw Error(Key(key), $"must be a string (got {Kind(value)})");
    }

    public int Int(string key)
    {
        long value = Long(key);
        return value is >= int.MinValue and <= int.MaxValue ? (int)value : throw Error(Key(key), $"is out of range (got {value})");
    }

    public long Long(string key)
    {
        JsonElement value = Get(key);
        if (value.ValueKind != JsonValueKind.Number)
        {
            throw Error(Key(key), $"must be an integer (got {Kind(value)})");
        }

        return value.TryGetInt64(out long result) ? result : throw Error(Key(key), $"must be an integer (got {value.GetRawText()})");
    }

    public double Double(string key)
    {
        JsonElement value = Get(key);
        return value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out double result) && double.IsFinite(result)
            ? result
            : throw Error(Key(key), $"must be a number (got {Kind(value)})");
    }

    /// <summary>An object of string values, in file order.</summary>
    public IEnumerable<KeyValuePair<string, string>> StringMap(string key)
    {
        JsonElement value = Get(key);
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Error(Key(key), $"must be an object (got {Kind(value)})");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<KeyValuePair<string, string>>();
        foreach (JsonProperty property in value.EnumerateObject())
        {
            string at = $"{Key(key)}.{property.Name}";
            if (!seen.Add(property.Name))
            {
                throw Error(at, "appears twice");
            }

            if (property.Value.ValueKind != JsonValueKind.String)
            {
                throw Error(at, $"must be a string (got {Kind(property.Value)})");
            }

            result.Add(new(property.Name, property.Value.GetString()!));
        }

        return result;
    }

    private JsonElement Get(string key) =>
        element.TryGetProperty(key, out JsonElement value) ? value : throw Error(Key(key), "required key is missing");

    private string Key(string key) => path.Length == 0 ? key : $"{path}.{key}";

    private static CimcException Error(string key, string message) => ArchitectureValidator.Error(key, message);

    private static string Kind(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number => value.GetRawText().Length <= 24 ? value.GetRawText() : "a number",
        JsonValueKind.String => "a string",
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => value.ValueKind.ToString().ToLower(CultureInfo.InvariantCulture),
    };

    /// <summary>The allowed key within edit distance 2 of <paramref name="name"/>, if any (a likely typo).</summary>
    private static string? Nearest(string name, IReadOnlyList<string> allowed) =>
        allowed.Select(a => (Key: a, Distance: EditDistance(name, a)))
            .Where(c => c.Distance <= Math.Min(2, Math.Max(1, name.Length / 3)))
            .OrderBy(c => c.Distance)
            .Select(c => c.Key)
            .FirstOrDefault();

    private static int EditDistance(string a, string b)
    {
        int[] previous = [.. Enumerable.Range(0, b.Length + 1)];
        for (int i = 1; i <= a.Length; i++)
        {
            int[] current = new int[b.Length + 1];
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j], current[j - 1]) + 1);
            }

            previous = current;
        }

        return previous[b.Length];
    }
}
