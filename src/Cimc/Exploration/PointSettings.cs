using System.Collections.Frozen;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cimc.Architectures;
using Cimc.Diagnostics;
using Cimc.Quantization;
using Cimc.Simulation.Devices;

namespace Cimc.Exploration;

/// <summary>
/// What a design point means: its architecture (the base architecture's JSON with the dotted keys
/// set, read back exactly like an architecture file), its quantization and device options (the
/// undotted keys, spelled as the command-line options without dashes). A point that names an
/// option cimc does not have, or a value an architecture file or an option would refuse, throws a
/// <see cref="CimcException"/> whose message becomes the point's recorded reason. The compiler
/// options (`opt-level`, `placement`, `placement-seed`, `replication`, `replication-budget`) choose the pass pipeline.
/// </summary>
public sealed record PointSettings(Architecture Arch, QuantizationOptions Options, DeviceModel Device)
{
    /// <summary>The pass pipeline the point compiles with (default: -O2).</summary>
    public Passes.CompileSettings Compile { get; init; } = Passes.CompileSettings.Default;

    /// <summary>The command-line options a space may set, with the kind of value each takes.</summary>
    public static FrozenSet<string> OptionNames { get; } = new[]
    {
        "weight-bits", "activation-bits", "cell-bits", "dac-bits", "adc-bits", "granularity", "signed-weights", "calibration",
        "asymmetric", "adc-range", "rows-per-read", "conv-mapping", "variation", "variation-model", "stuck-at", "read-noise", "conductance-levels", "seed",
        "opt-level", "placement", "placement-seed", "replication", "replication-budget",
    }.ToFrozenSet();

    /// <param name="architectures">
    /// Architectures already read for these key paths and values (a point's architecture depends on
    /// nothing else), so that points differing only in options share one; null reads every point's.
    /// </param>
    public static PointSettings Of(DesignPoint point, DeviceModel baseDevice, ArchitectureCache? architectures = null)
    {
        var options = new Dictionary<string, string>();
        List<(string Path, string Value)>? archKeys = null;
        string? unknown = null;
        foreach ((string name, string value) in point.Settings)
        {
            if (SpaceParameter.IsArchitecturePath(name))
            {
                (archKeys ??= []).Add((name, value));
            }
            else if (OptionNames.Contains(name) || PerLayerOption(name) is not null)
            {
                options[name] = value;
            }
            else
            {
                unknown ??= name;
            }
        }

        // The architecture first, as a file would be read; then the options, which may be ones a
        // later cimc has (compiler options): such a point is recorded invalid, not fatal.
        Architecture arch = archKeys is null ? point.Space.BaseArch
            : architectures is null ? ReadArchitecture(point.Space.BaseArch, archKeys)
            : architectures.Get(point.Space.BaseArch, archKeys, ReadArchitecture);
        if (unknown is not null)
        {
            throw new CimcException("unknown-option", unknown, $"unknown option '--{unknown}' (options a space may set: {string.Join(", ", OptionNames.Order(StringComparer.Ordinal))}, weight-bits@LAYER, activation-bits@LAYER)");
        }

        if (options.Count == 0)
        {
            return new PointSettings(arch, Compiler.OptionsFor(arch), baseDevice);
        }

        arch = arch.With(cellBits: Int(options, "cell-bits"), dacBits: Int(options, "dac-bits"), adcBits: Int(options, "adc-bits"));
        QuantizationOptions q = Compiler.OptionsFor(arch, Int(options, "weight-bits"), Int(options, "activation-bits"),
            Text(options, "granularity") is { } g ? QuantizationOptions.ParseGranularity(g) : Granularity.PerChannel,
            Text(options, "signed-weights") is { } s ? QuantizationOptions.ParseEncoding(s) : null);
        var perLayer = q.PerLayer.ToBuilder();
        foreach ((string name, _) in options)
        {
            if (PerLayerOption(name) is (string option, string layer))
            {
                LayerPrecision p = perLayer.GetValueOrDefault(layer) ?? new LayerPrecision(null, null);
                int bits = Int(options, name)!.Value;
                perLayer[layer] = option == "weight-bits" ? p with { WeightBits = bits } : p with { ActivationBits = bits };
            }
        }

        q = q with
        {
            PerLayer = perLayer.ToImmutable(),
            Calibration = Text(options, "calibration") is { } c ? CalibrationMethod.Parse(c) : q.Calibration,
            AsymmetricActivations = Bool(options, "asymmetric") ?? q.AsymmetricActivations,
            AdcRange = Text(options, "adc-range") is { } r ? QuantizationOptions.ParseAdcRange(r) : q.AdcRange,
            RowsPerRead = Int(options, "rows-per-read") is int rows ? (rows >= 1 ? rows : throw new CimcException("bad-option", "--rows-per-read", "must be at least 1")) : q.RowsPerRead,
            ConvMapping = Text(options, "conv-mapping") is { } cm ? QuantizationOptions.ParseConvMapping(cm) : q.ConvMapping,
        };

        (double low, double high) = Text(options, "stuck-at") is { } sa ? DeviceModel.ParseStuckAt(sa) : (baseDevice.StuckLow, baseDevice.StuckHigh);
        DeviceModel device = baseDevice with
        {
            Variation = Double(options, "variation") ?? baseDevice.Variation,
            Model = Text(options, "variation-model") is { } m ? DeviceModel.ParseModel(m) : baseDevice.Model,
            StuckLow = low,
            StuckHigh = high,
            ReadNoise = Double(options, "read-noise") ?? baseDevice.ReadNoise,
            ConductanceLevels = Int(options, "conductance-levels") ?? baseDevice.ConductanceLevels,
            Seed = Int(options, "seed") is int seed ? (ulong)seed : baseDevice.Seed,
        };
        Passes.CompileSettings compile = Passes.CompileSettings.Default with
        {
            Level = Text(options, "opt-level") is { } level ? Passes.Pipelines.ParseLevel(level) : Passes.Pipelines.Default,
            Placement = Text(options, "placement") is { } place ? Passes.Pipelines.ParsePlacement(place) : null,
            Seed = Int(options, "placement-seed") ?? Passes.CompileSettings.Default.Seed,
            Replication = Text(options, "replication") is { } replication ? Passes.Pipelines.ParseReplication(replication) : null,
            ReplicationBudget = Text(options, "replication-budget") is { } budget ? Mapping.ReplicationBudget.Parse(budget) : Mapping.ReplicationBudget.WholeChip,
        };
        return new PointSettings(arch, q.Validate(), device.Validate()) { Compile = compile };
    }

    /// <summary>The base architecture's JSON with the key paths set, read back exactly like an architecture file.</summary>
    private static Architecture ReadArchitecture(Architecture baseArch, IReadOnlyList<(string Path, string Value)> keys)
    {
        var json = (JsonObject)JsonNode.Parse(ArchitectureJson.Write(baseArch))!;
        foreach ((string path, string value) in keys)
        {
            Set(json, path, JsonNode.Parse(value));
        }

        return ArchitectureJson.Parse(json.ToJsonString(), "point");
    }

    /// <summary>
    /// <c>weight-bits@LAYER</c> and <c>activation-bits@LAYER</c>: one layer's bits (by name or index,
    /// as in a --precision file); the evaluator refuses a layer the model does not have.
    /// </summary>
    public static (string Option, string Layer)? PerLayerOption(string name)
    {
        int at = name.IndexOf('@', StringComparison.Ordinal);
        return at > 0 && at < name.Length - 1 && name[..at] is "weight-bits" or "activation-bits" ? (name[..at], name[(at + 1)..]) : null;
    }

    /// <summary>Sets a dotted key path, creating objects on the way (the architecture reader then refuses unknown keys); an object value sets each of its keys.</summary>
    private static void Set(JsonObject root, string path, JsonNode? value)
    {
        string[] parts = path.Split('.');
        JsonObject node = root;
        foreach (string part in parts[..^1])
        {
            if (node[part] is not JsonObject child)
            {
                child = new JsonObject();
                node[part] = child;
            }

            node = child;
        }

        if (value is JsonObject fields && node[parts[^1]] is JsonObject existing)
        {
            foreach ((string key, JsonNode? field) in fields)
            {
                Set(existing, key, field?.DeepClone());
            }

            return;
        }

        node[parts[^1]] = value;
    }

    private static string? Text(Dictionary<string, string> options, string name) =>
        options.TryGetValue(name, out string? v) ? JsonNode.Parse(v) is JsonValue j && j.GetValueKind() == JsonValueKind.String ? j.GetValue<string>() : v : null;

    private static int? Int(Dictionary<string, string> options, string name) =>
        Text(options, name) is not { } t ? null
        : int.TryParse(t, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v
        : throw new CimcException("bad-option", $"--{name}", $"'{t}' is not a whole number");

    private static double? Double(Dictionary<string, string> options, string name) =>
        Text(options, name) is not { } t ? null
        : double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v
        : throw new CimcException("bad-option", $"--{name}", $"'{t}' is not a number");

    private static bool? Bool(Dictionary<string, string> options, string name) =>
        Text(options, name) switch
        {
            null => null,
            "true" => true,
            "false" => false,
            string t => throw new CimcException("bad-option", $"--{name}", $"'{t}' is not true or false"),
        };
}
