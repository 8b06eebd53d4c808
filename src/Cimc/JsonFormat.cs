using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cimc;

/// <summary>
/// The one JSON style of every file and `--json` output cimc writes: snake_case keys, indented, nulls
/// left out, and text as written (`->` stays `->`: these files are read by people and scripts, never
/// pasted into HTML, so HTML-safe escaping only hurt).
/// </summary>
public static class JsonFormat
{
    public static JsonSerializerOptions Options { get; } = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string Write<T>(T value) => JsonSerializer.Serialize(value, Options);
}
