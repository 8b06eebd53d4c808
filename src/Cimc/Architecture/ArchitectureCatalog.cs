using System.Collections.Immutable;
using System.Reflection;
using Cimc.Diagnostics;

namespace Cimc.Architectures;

/// <summary>
/// The shipped presets (embedded JSON under Architecture/Presets) and loading by preset name or
/// file path: the one way the rest of the compiler obtains an <see cref="Architecture"/>.
/// </summary>
public static class ArchitectureCatalog
{
    /// <summary>Preset names in the order they are listed.</summary>
    public static ImmutableArray<string> PresetNames { get; } = ["isaac", "puma", "edge"];

    /// <summary>Every preset: name and one-line description.</summary>
    public static IReadOnlyList<(string Name, string Description)> List() =>
        [.. PresetNames.Select(n => (n, Preset(n).Description))];

    public static bool IsPreset(string name) => PresetNames.Contains(name);

    /// <summary>A shipped preset by name.</summary>
    public static Architecture Preset(string name)
    {
        if (!IsPreset(name))
        {
            throw Unknown(name);
        }

        string resource = $"cimc.architecture.{name}.json"; // LogicalName set in Cimc.csproj
        using Stream stream = typeof(ArchitectureCatalog).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"architecture preset resource '{resource}' is missing from the assembly");
        using var reader = new StreamReader(stream);
        return ArchitectureJson.Parse(reader.ReadToEnd(), $"preset {name}");
    }

    /// <summary>A preset name (isaac, puma, edge) or the path of an architecture JSON file.</summary>
    public static Architecture Load(string presetOrPath)
    {
        if (IsPreset(presetOrPath))
        {
            return Preset(presetOrPath);
        }

        if (!File.Exists(presetOrPath))
        {
            throw Unknown(presetOrPath);
        }

        const long maxBytes = 1 << 20;
        if (new FileInfo(presetOrPath).Length > maxBytes)
        {
            throw new CimcException(ArchitectureValidator.Code, presetOrPath, $"an architecture file is at most {maxBytes} bytes");
        }

        return ArchitectureJson.Parse(File.ReadAllText(presetOrPath), presetOrPath);
    }

    private static CimcException Unknown(string name) =>
        new("unknown-architecture", "", $"unknown architecture '{name}': not a preset ({string.Join(", ", PresetNames)}) nor a file");
}
