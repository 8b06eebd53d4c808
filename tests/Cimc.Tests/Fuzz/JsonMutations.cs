using System.Text;
using System.Text.Json.Nodes;

namespace Cimc.Tests.Fuzz;

/// <summary>
/// Mutations of a JSON document that keep it parseable, so they reach the validator: a number set
/// to an edge value, a value replaced by one of another type, a key renamed (with control bytes)
/// or removed.
/// </summary>
internal static class JsonMutations
{
    private static JsonNode?[] Values() =>
    [
        0, -1, 1, 3, 1e9, 1e300, -1e300, 2147483648, 0.5, "\u001b[2J", "", true, null, new JsonArray(), new JsonObject(),
    ];

    public static (byte[] Bytes, string What) Any(Random rng, byte[] seed)
    {
        JsonNode root = JsonNode.Parse(seed)!;
        var slots = new List<(JsonObject Parent, string Key)>();
        Collect(root, slots);
        (JsonObject parent, string key) = slots[rng.Next(slots.Count)];
        string what;
        switch (rng.Next(3))
        {
            case 0:
                JsonNode?[] values = Values();
                JsonNode? value = values[rng.Next(values.Length)];
                what = $"'{key}' = {value?.ToJsonString() ?? "null"}";
                parent[key] = value;
                break;
            case 1:
                JsonNode? old = parent[key];
                parent.Remove(key);
                string renamed = rng.Next(2) == 0 ? key + "\u001b[31m" : key + "\u0000x";
                parent[renamed] = old?.DeepClone();
                what = $"'{key}' renamed with control bytes";
                break;
            default:
                parent.Remove(key);
                what = $"'{key}' removed";
                break;
        }

        return (Encoding.UTF8.GetBytes(root.ToJsonString()), what);
    }

    private static void Collect(JsonNode? node, List<(JsonObject, string)> slots)
    {
        if (node is JsonObject o)
        {
            foreach ((string key, JsonNode? child) in o.ToList())
            {
                slots.Add((o, key));
                Collect(child, slots);
            }
        }
        else if (node is JsonArray a)
        {
            foreach (JsonNode? child in a)
            {
                Collect(child, slots);
            }
        }
    }
}
