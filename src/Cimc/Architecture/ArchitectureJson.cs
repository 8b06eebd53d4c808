using System.Collections.Frozen;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Cimc.Diagnostics;

namespace Cimc.Architectures;

/// <summary>
/// Reads and writes the architecture JSON format (snake_case keys; docs/architecture.md). Reading
/// refuses unknown keys (with a suggestion for a likely typo), duplicate and missing keys and values
/// of the wrong type, naming the key path; then <see cref="ArchitectureValidator"/> checks ranges.
/// <see cref="Write"/> emits every key, so <c>Parse(Write(a)) == a</c>.
/// </summary>
public static class ArchitectureJson
{
    // The schema's shape, in the order Write emits it; reading, writing and the sources check all use it.
    // `peak` is derived (`cimc arch show --json` prints it, src/Cimc/Performance/PeakMetrics.cs) and ignored when read.
    private static readonly string[] RootKeys = ["name", "description", "clock_ghz", "node", "chip", "tile", "core", "default_precision", "costs", "sources", "peak"];
    private static readonly string[] NodeKeys = ["chips", "topology", "link"];
    private static readonly string[] LinkKeys = ["bandwidth_gb_per_s", "latency_ns", "energy_pj_per_bit"];
    private static readonly string[] ChipKeys = ["tiles", "mesh", "noc"];
    private static readonly string[] MeshKeys = ["width", "height"];
    private static readonly string[] NocKeys = ["link_bits", "hop_latency_cycles", "tiles_per_router"];
    private static readonly string[] TileKeys = ["cores", "buffer_bytes", "bus_bits"];
    private static readonly string[] CoreKeys = ["crossbars", "crossbar", "dac", "adc", "shift_add_units", "input_register_entries", "output_register_entries", "vector_lanes", "local_memory_words"];
    private static readonly string[] CrossbarKeys = ["rows", "cols", "cell_bits"];
    private static readonly string[] DacKeys = ["bits"];
    private static readonly string[] AdcKeys = ["bits", "per_crossbar", "per_group", "group_crossbars"];
    private static readonly string[] PrecisionKeys = ["weight_bits", "activation_bits", "signed_weights"];

    /// <summary>Every key path of the schema (<c>chip</c>, <c>chip.mesh</c>, <c>chip.mesh.width</c>, ...), for citing sources.</summary>
    public static FrozenSet<string> KeyPaths { get; } = BuildKeyPaths();

    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = false,
        MaxDepth = 16,
    };

    /// <summary>Parses and validates an architecture; <paramref name="origin"/> (a file name) locates syntax errors.</summary>
    public static Architecture Parse(string json, string origin = "architecture")
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, DocumentOptions);
        }
        catch (JsonException e)
        {
            long line = (e.LineNumber ?? 0) + 1;
            long column = (e.BytePositionInLine ?? 0) + 1;
            throw new CimcException(ArchitectureValidator.Code, origin, $"invalid JSON at line {line}, column {column}: {Reason(e.Message)}");
        }

        using (document)
        {
            Architecture arch = Read(new JsonObjectReader(document.RootElement, "", RootKeys));
            ArchitectureValidator.Validate(arch);
            return arch;
        }
    }

    /// <summary>The JSON form of <paramref name="arch"/>, indented, every key present, ending in a newline.</summary>
    public static string Write(Architecture arch)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("name", arch.Name);
            w.WriteString("description", arch.Description);
            w.WriteNumber("clock_ghz", arch.ClockGhz);
            if (arch.Node != NodeSpec.Single)
            {
                WriteNode(w, arch.Node);
            }

            w.WriteStartObject("chip");
            w.WriteNumber("tiles", arch.Chip.Tiles);
            w.WriteStartObject("mesh");
            w.WriteNumber("width", arch.Chip.Mesh.Width);
            w.WriteNumber("height", arch.Chip.Mesh.Height);
            w.WriteEndObject();
            w.WriteStartObject("noc");
            w.WriteNumber("link_bits", arch.Chip.Noc.LinkBits);
            w.WriteNumber("hop_latency_cycles", arch.Chip.Noc.HopLatencyCycles);
            w.WriteNumber("tiles_per_router", arch.Chip.Noc.TilesPerRouter);
            w.WriteEndObject();
            w.WriteEndObject();

            w.WriteStartObject("tile");
            w.WriteNumber("cores", arch.Tile.Cores);
            w.WriteNumber("buffer_bytes", arch.Tile.BufferBytes);
            w.WriteNumber("bus_bits", arch.Tile.BusBits);
            w.WriteEndObject();

            CoreSpec core = arch.Core;
            w.WriteStartObject("core");
            w.WriteNumber("crossbars", core.Crossbars);
            w.WriteStartObject("crossbar");
            w.WriteNumber("rows", core.Crossbar.Rows);
            w.WriteNumber("cols", core.Crossbar.Cols);
            w.WriteNumber("cell_bits", core.Crossbar.CellBits);
            w.WriteEndObject();
            w.WriteStartObject("dac");
            w.WriteNumber("bits", core.Dac.Bits);
            w.WriteEndObject();
            w.WriteStartObject("adc");
            w.WriteNumber("bits", core.Adc.Bits);
            if (core.Adc.GroupCrossbars == 1)
            {
                w.WriteNumber("per_crossbar", core.Adc.PerGroup);
            }
            else
            {
                w.WriteNumber("per_group", core.Adc.PerGroup);
                w.WriteNumber("group_crossbars", core.Adc.GroupCrossbars);
            }

            w.WriteEndObject();
            w.WriteNumber("shift_add_units", core.ShiftAddUnits);
            w.WriteNumber("input_register_entries", core.InputRegisterEntries);
            w.WriteNumber("output_register_entries", core.OutputRegisterEntries);
            w.WriteNumber("vector_lanes", core.VectorLanes);
            w.WriteNumber("local_memory_words", core.LocalMemoryWords);
            w.WriteEndObject();

            w.WriteStartObject("default_precision");
            w.WriteNumber("weight_bits", arch.DefaultPrecision.WeightBits);
            w.WriteNumber("activation_bits", arch.DefaultPrecision.ActivationBits);
            w.WriteString("signed_weights", SignedWeightsName(arch.DefaultPrecision.SignedWeights));
            w.WriteEndObject();

            if (arch.Costs is not null)
            {
                CostJson.Write(w, arch.Costs);
            }

            w.WriteStartObject("sources");
            foreach ((string key, string text) in arch.Sources)
            {
                w.WriteString(key, text);
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static void WriteNode(Utf8JsonWriter w, NodeSpec node)
    {
        w.WriteStartObject("node");
        w.WriteNumber("chips", node.Chips);
        w.WriteString("topology", TopologyName(node.Topology));
        if (node.Link is { } link)
        {
            w.WriteStartObject("link");
            w.WriteNumber("bandwidth_gb_per_s", link.BandwidthGBps);
            w.WriteNumber("latency_ns", link.LatencyNs);
            w.WriteNumber("energy_pj_per_bit", link.EnergyPjPerBit);
            w.WriteEndObject();
        }

        w.WriteEndObject();
    }

    public static string TopologyName(ChipTopology t) => t switch
    {
        ChipTopology.Ring => "ring",
        ChipTopology.AllToAll => "all-to-all",
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, null),
    };

    /// <summary><c>node</c>: optional (one chip without links when absent); <c>link</c> optional too, but needed for more than one chip (the validator says so).</summary>
    private static NodeSpec ReadNode(JsonObjectReader root)
    {
        if (!root.Has("node"))
        {
            return NodeSpec.Single;
        }

        JsonObjectReader node = root.Object("node", NodeKeys);
        string topology = node.String("topology");
        ChipLinkSpec? link = null;
        if (node.Has("link"))
        {
            JsonObjectReader l = node.Object("link", LinkKeys);
            link = new ChipLinkSpec(l.Double("bandwidth_gb_per_s"), l.Double("latency_ns"), l.Double("energy_pj_per_bit"));
        }

        return new NodeSpec(node.Int("chips"), topology switch
        {
            "ring" => ChipTopology.Ring,
            "all-to-all" => ChipTopology.AllToAll,
            _ => throw ArchitectureValidator.Error("node.topology", $"must be \"ring\" or \"all-to-all\" (got \"{topology}\")"),
        }, link);
    }

    public static string SignedWeightsName(SignedWeights s) => s switch
    {
        SignedWeights.Differential => "differential",
        SignedWeights.Offset => "offset",
        SignedWeights.TwosComplement => "twos-complement",
        _ => throw new ArgumentOutOfRangeException(nameof(s), s, null),
    };

    private static Architecture Read(JsonObjectReader root)
    {
        JsonObjectReader chip = root.Object("chip", ChipKeys);
        JsonObjectReader mesh = chip.Object("mesh", MeshKeys);
        JsonObjectReader noc = chip.Object("noc", NocKeys);
        JsonObjectReader tile = root.Object("tile", TileKeys);
        JsonObjectReader core = root.Object("core", CoreKeys);
        JsonObjectReader crossbar = core.Object("crossbar", CrossbarKeys);
        JsonObjectReader dac = core.Object("dac", DacKeys);
        JsonObjectReader adc = core.Object("adc", AdcKeys);
        JsonObjectReader precision = root.Object("default_precision", PrecisionKeys);
        return new Architecture(
            root.String("name"),
            root.String("description"),
            root.Double("clock_ghz"),
            new ChipSpec(chip.Int("tiles"), new MeshSpec(mesh.Int("width"), mesh.Int("height")), new NocSpec(noc.Int("link_bits"), noc.Int("hop_latency_cycles"), noc.Int("tiles_per_router"))),
            new TileSpec(tile.Int("cores"), tile.Long("buffer_bytes"), tile.Int("bus_bits")),
            new CoreSpec(
                core.Int("crossbars"),
                new CrossbarSpec(crossbar.Int("rows"), crossbar.Int("cols"), crossbar.Int("cell_bits")),
                new DacSpec(dac.Int("bits")),
                ReadAdc(adc),
                core.Int("shift_add_units"),
                core.Int("input_register_entries"),
                core.Int("output_register_entries"),
                core.Int("vector_lanes"),
                core.Int("local_memory_words")),
            new PrecisionSpec(precision.Int("weight_bits"), precision.Int("activation_bits"), ParseSignedWeights(precision.String("signed_weights"))),
            root.Has("sources") ? new SourceMap(root.StringMap("sources")) : SourceMap.Empty,
            root.Has("costs") ? CostJson.Read(root.Raw("costs")) : null)
        {
            Node = ReadNode(root),
        };

        SignedWeights ParseSignedWeights(string value) => value switch
        {
            "differential" => SignedWeights.Differential,
            "offset" => SignedWeights.Offset,
            "twos-complement" => SignedWeights.TwosComplement,
            _ => throw ArchitectureValidator.Error("default_precision.signed_weights", $"must be \"differential\", \"offset\" or \"twos-complement\" (got \"{value}\")"),
        };
    }

    /// <summary>
    /// <c>core.adc</c>: <c>bits</c> and either <c>per_crossbar</c> (each crossbar has its own ADCs) or
    /// <c>per_group</c> with <c>group_crossbars</c> (that many consecutive crossbars share them).
    /// </summary>
    private static AdcSpec ReadAdc(JsonObjectReader adc)
    {
        int bits = adc.Int("bits");
        bool grouped = adc.Has("per_group") || adc.Has("group_crossbars");
        if (!grouped)
        {
            return new AdcSpec(bits, adc.Int("per_crossbar"));
        }

        if (adc.Has("per_crossbar"))
        {
            throw ArchitectureValidator.Error("core.adc.per_crossbar", "cannot be given with per_group and group_crossbars (use per_group for ADCs shared by a group)");
        }

        int group = adc.Int("group_crossbars");
        return group >= 2 ? new AdcSpec(bits, adc.Int("per_group"), group)
            : throw ArchitectureValidator.Error("core.adc.group_crossbars", $"must be at least 2 (got {group}; for ADCs of one crossbar write per_crossbar)");
    }

    // System.Text.Json appends "Path: $ | LineNumber: 2 | BytePositionInLine: 4." to its reason; we print our own.
    private static string Reason(string message)
    {
        int cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        cut = cut < 0 ? message.IndexOf(" LineNumber:", StringComparison.Ordinal) : cut;
        return (cut < 0 ? message : message[..cut]).ReplaceLineEndings(" ").Trim();
    }

    private static FrozenSet<string> BuildKeyPaths()
    {
        var paths = new List<string>();
        void Add(string prefix, string[] keys) => paths.AddRange(keys.Select(k => prefix.Length == 0 ? k : $"{prefix}.{k}"));
        Add("", RootKeys.Where(k => k is not "sources" and not "costs" and not "peak").ToArray());
        paths.AddRange(CostJson.KeyPaths());
        Add("node", NodeKeys);
        Add("node.link", LinkKeys);
        Add("chip", ChipKeys);
        Add("chip.mesh", MeshKeys);
        Add("chip.noc", NocKeys);
        Add("tile", TileKeys);
        Add("core", CoreKeys);
        Add("core.crossbar", CrossbarKeys);
        Add("core.dac", DacKeys);
        Add("core.adc", AdcKeys);
        Add("default_precision", PrecisionKeys);
        return paths.ToFrozenSet(StringComparer.Ordinal);
    }
}
