using System.Globalization;
using Cimc.Diagnostics;
using Cimc.Isa;

namespace Cimc.Architectures;

/// <summary>
/// Checks the ranges and cross-field rules of an <see cref="Architecture"/>, whether it was read
/// from JSON or changed by <see cref="Architecture.With"/>. The first problem throws a
/// <see cref="CimcException"/> whose location is the JSON key path, e.g.
/// <c>core.crossbar.rows: must be between 2 and 4096 (got 0)</c>.
/// </summary>
public static class ArchitectureValidator
{
    public const string Code = "bad-architecture";

    public const int MaxCrossbarSize = 4096;

    public static void Validate(Architecture arch)
    {
        if (string.IsNullOrWhiteSpace(arch.Name) || arch.Name.Length > 64 || arch.Name.Any(char.IsControl))
        {
            throw Error("name", "must be 1 to 64 characters on one line");
        }

        if (arch.Description.Any(c => c is '\r' or '\n'))
        {
            throw Error("description", "must be one line");
        }

        if (!(arch.ClockGhz > 0 && arch.ClockGhz <= 100))
        {
            throw Error("clock_ghz", $"must be above 0 and at most 100 (got {arch.ClockGhz.ToString(CultureInfo.InvariantCulture)})");
        }

        ChipSpec chip = arch.Chip;
        Range("chip.tiles", chip.Tiles, 1, 1 << 16);
        Range("chip.mesh.width", chip.Mesh.Width, 1, 1 << 12);
        Range("chip.mesh.height", chip.Mesh.Height, 1, 1 << 12);
        if ((long)chip.Mesh.Width * chip.Mesh.Height < chip.Tiles)
        {
            throw Error("chip.mesh", $"{chip.Mesh} mesh cannot hold {chip.Tiles} tiles");
        }

        Range("chip.noc.link_bits", chip.Noc.LinkBits, 1, 4096);
        Range("chip.noc.hop_latency_cycles", chip.Noc.HopLatencyCycles, 1, 1000);
        Range("chip.noc.tiles_per_router", chip.Noc.TilesPerRouter, 1, 64);

        Range("tile.cores", arch.Tile.Cores, 1, 1024);
        Range("tile.buffer_bytes", arch.Tile.BufferBytes, 0, 1L << 34);
        Range("tile.bus_bits", arch.Tile.BusBits, 1, 4096);

        CoreSpec core = arch.Core;
        Range("core.crossbars", core.Crossbars, 1, 1024);
        Range("core.crossbar.rows", core.Crossbar.Rows, 2, MaxCrossbarSize);
        Range("core.crossbar.cols", core.Crossbar.Cols, 2, MaxCrossbarSize);
        Range("core.crossbar.cell_bits", core.Crossbar.CellBits, 1, 8);
        Range("core.dac.bits", core.Dac.Bits, 1, 8);
        Range("core.adc.bits", core.Adc.Bits, 1, 16);
        AdcSpec adc = core.Adc;
        if (adc.GroupCrossbars == 1)
        {
            if (adc.PerGroup < 1 || adc.PerGroup > core.Crossbar.Cols)
            {
                throw Error("core.adc.per_crossbar", $"must be between 1 and core.crossbar.cols = {core.Crossbar.Cols} (got {adc.PerGroup})");
            }
        }
        else
        {
            if (adc.GroupCrossbars < 1 || adc.GroupCrossbars > core.Crossbars || core.Crossbars % adc.GroupCrossbars != 0)
            {
                throw Error("core.adc.group_crossbars", $"must be between 1 and core.crossbars = {core.Crossbars} and divide it (got {adc.GroupCrossbars})");
            }

            long columns = (long)adc.GroupCrossbars * core.Crossbar.Cols;
            if (adc.PerGroup < 1 || adc.PerGroup > columns)
            {
                throw Error("core.adc.per_group", $"must be between 1 and group_crossbars x core.crossbar.cols = {columns} (got {adc.PerGroup})");
            }
        }

        Range("core.shift_add_units", core.ShiftAddUnits, 1, 4096);
        Range("core.input_register_entries", core.InputRegisterEntries, 1, 1 << 20);
        Range("core.output_register_entries", core.OutputRegisterEntries, 1, 1 << 20);
        Range("core.vector_lanes", core.VectorLanes, 1, 4096);
        Range("core.local_memory_words", core.LocalMemoryWords, 1, 1 << 24);

        // Differential storage spends one bit on the sign, so 2 bits is the least that holds a magnitude.
        Range("default_precision.weight_bits", arch.DefaultPrecision.WeightBits, 2, 16);
        Range("default_precision.activation_bits", arch.DefaultPrecision.ActivationBits, 1, 16);
        if (!Enum.IsDefined(arch.DefaultPrecision.SignedWeights))
        {
            throw Error("default_precision.signed_weights", "must be \"differential\" or \"offset\"");
        }

        IsaFieldLimits(arch);

        if (arch.Chip.Tiles * (long)arch.Tile.Cores * arch.Core.Crossbars > 1L << 24)
        {
            throw Error("chip.tiles", $"{arch.Chip.Tiles} tiles x {arch.Tile.Cores} cores x {arch.Core.Crossbars} crossbars exceeds the limit of {1 << 24} crossbars");
        }

        ValidateNode(arch);
        if (arch.Costs is not null)
        {
            CostJson.Validate(arch.Costs);
        }

        foreach ((string key, string text) in arch.Sources)
        {
            if (key != "general" && !ArchitectureJson.KeyPaths.Contains(key))
            {
                throw Error($"sources.{key}", "names no key of the architecture (use a key path such as core.adc, or general)");
            }

            if (string.IsNullOrWhiteSpace(text))
            {
                throw Error($"sources.{key}", "must not be empty");
            }
        }
    }

    /// <summary>Most chips a node may have.</summary>
    public const int MaxChips = 4096;

    /// <summary>
    /// The node: its chip count, that chips beyond one have links, and that every global core id
    /// fits the ISA's 16-bit core field (send and recv name cores across the node), so that a node
    /// too large for the encoding is refused before any work starts rather than at emission.
    /// </summary>
    private static void ValidateNode(Architecture arch)
    {
        NodeSpec node = arch.Node;
        Range("node.chips", node.Chips, 1, MaxChips);
        if (!Enum.IsDefined(node.Topology))
        {
            throw Error("node.topology", "must be \"ring\" or \"all-to-all\"");
        }

        if (node.Link is { } link)
        {
            Positive("node.link.bandwidth_gb_per_s", link.BandwidthGBps);
            Positive("node.link.latency_ns", link.LatencyNs);
            if (!(double.IsFinite(link.EnergyPjPerBit) && link.EnergyPjPerBit >= 0))
            {
                throw Error("node.link.energy_pj_per_bit", $"must be finite and at least 0 (got {link.EnergyPjPerBit.ToString(CultureInfo.InvariantCulture)})");
            }
        }
        else if (node.Chips > 1)
        {
            throw Error("node.link", $"{arch.Name} has no chip-to-chip links, so its node holds one chip (got {node.Chips} chips)");
        }

        if (arch.TotalCores > IsaLimits.Cores)
        {
            throw Error("node.chips", $"{node.Chips} chips x {arch.CoresPerChip} cores = {arch.TotalCores} cores exceeds the {IsaLimits.Cores} core ids of the ISA's 16-bit core field (at most {IsaLimits.Cores / arch.CoresPerChip} chips of {arch.Name})");
        }

        if (arch.TotalCrossbars > 1L << 24)
        {
            throw Error("node.chips", $"{arch.TotalCrossbars} crossbars in the node exceeds the limit of {1 << 24} crossbars");
        }

        void Positive(string key, double value)
        {
            if (!(double.IsFinite(value) && value > 0))
            {
                throw Error(key, $"must be finite and above 0 (got {value.ToString(CultureInfo.InvariantCulture)})");
            }
        }
    }

    /// <summary>
    /// The machine must fit the ISA's fields (<see cref="IsaLimits"/>, derived from the operand
    /// semantics of the ISA table): otherwise a compile would run for minutes and then fail to
    /// encode an instruction ("send: field core must be in [0, 65535]").
    /// </summary>
    private static void IsaFieldLimits(Architecture arch)
    {
        Fits("chip.tiles", arch.CoresPerChip, IsaLimits.Cores, FieldRole.Core, $"{arch.Chip.Tiles} tiles x {arch.Tile.Cores} cores = {arch.CoresPerChip} cores");
        Fits("core.crossbars", arch.Core.Crossbars, IsaLimits.CrossbarsPerCore, FieldRole.Crossbar, $"{arch.Core.Crossbars} crossbars per core");
        Fits("core.crossbar.rows", arch.Core.Crossbar.Rows, IsaLimits.Rows, FieldRole.CrossbarRows, $"{arch.Core.Crossbar.Rows} rows");
        Fits("core.crossbar.cols", arch.Core.Crossbar.Cols, IsaLimits.Cols, FieldRole.CrossbarCols, $"{arch.Core.Crossbar.Cols} columns");
        Fits("core.local_memory_words", arch.Core.LocalMemoryWords, IsaLimits.LocalWords, FieldRole.Address, $"{arch.Core.LocalMemoryWords} words");
        Fits("tile.buffer_bytes", arch.Tile.BufferWords, IsaLimits.BufferWords, FieldRole.Address,
            $"{arch.Tile.BufferBytes} bytes ({arch.Tile.BufferWords} words of {TileSpec.BytesPerWord} bytes)", MemorySpace.TileBuffer);

        static void Fits(string key, long value, long limit, FieldRole role, string what, MemorySpace space = MemorySpace.Local)
        {
            if (value > limit)
            {
                throw Error(key, $"{what} exceed what the ISA can address: {IsaLimits.Field(role, space)} reaches {limit}");
            }
        }
    }

    private static void Range(string key, long value, long min, long max)
    {
        if (value < min || value > max)
        {
            throw Error(key, $"must be between {min} and {max} (got {value})");
        }
    }

    internal static CimcException Error(string key, string message) => new(Code, key, message);
}
