using System.Globalization;
using System.Text;

namespace Cimc.Architectures;

/// <summary>The text forms of architectures: a one-row-per-chip table and a full description.</summary>
public static class ArchitecturePrinter
{
    /// <summary>One row per architecture: crossbar, converters, how many of everything, clock, precision.</summary>
    public static string Table(IEnumerable<Architecture> architectures)
    {
        string[] header = ["name", "crossbar", "cell", "dac", "adc", "tiles x cores x crossbars", "clock", "precision"];
        var rows = architectures.Select(a => new[]
        {
            a.Name,
            a.Core.Crossbar.ToString(),
            $"{a.Core.Crossbar.CellBits}b",
            $"{a.Core.Dac.Bits}b",
            $"{a.Core.Adc.Bits}b",
            $"{a.Chip.Tiles} x {a.Tile.Cores} x {a.Core.Crossbars} = {a.TotalCrossbars:N0}",
            Clock(a.ClockGhz),
            Precision(a.DefaultPrecision),
        }).ToList();
        int[] widths = [.. header.Select((h, c) => rows.Select(r => r[c].Length).Append(h.Length).Max())];
        var sb = new StringBuilder();
        foreach (string[] row in rows.Prepend(header))
        {
            sb.Append(string.Join("  ", row.Select((v, c) => v.PadRight(widths[c]))).TrimEnd()).Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>Everything in an architecture, one concept a line, then the derived totals and the sources.</summary>
    public static string Describe(Architecture a)
    {
        CoreSpec core = a.Core;
        NocSpec noc = a.Chip.Noc;
        var sb = new StringBuilder();
        void Line(string label, string text) => sb.Append(CultureInfo.InvariantCulture, $"{label,-10} {text}\n");
        sb.Append(CultureInfo.InvariantCulture, $"{a.Name}: {a.Description}\n");
        Line("clock", $"{Clock(a.ClockGhz)} ({a.CycleNs.ToString("0.###", CultureInfo.InvariantCulture)} ns per cycle)");
        if (a.Node.Link is { } link)
        {
            string chips = a.Chips == 1 ? "1 chip (--chips N for more)" : $"{a.Chips} chips";
            Line("node", $"{chips}, {ArchitectureJson.TopologyName(a.Node.Topology)} of chip-to-chip links: {F(link.BandwidthGBps)} GB/s each way, {F(link.LatencyNs)} ns, {F(link.EnergyPjPerBit)} pJ/bit");
        }

        Line("chip", $"{a.Chip.Tiles} tiles on a {a.Chip.Mesh} mesh (row-major), {a.Chip.Routers} routers ({noc.TilesPerRouter} tile{Plural(noc.TilesPerRouter)} per router), {noc.LinkBits}-bit links, {noc.HopLatencyCycles} cycle{Plural(noc.HopLatencyCycles)} per hop");
        Line("tile", $"{a.Tile.Cores} cores, {a.Tile.BufferBytes:N0}-byte shared buffer, {a.Tile.BusBits}-bit bus");
        Line("core", $"{core.Crossbars} crossbars of {core.Crossbar} with {core.Crossbar.CellBits}-bit cells ({core.Crossbar.Levels} levels)");
        Line("", $"{core.Dac.Bits}-bit DAC per row; {core.Adc.Bits}-bit ADC, {(core.Adc.GroupCrossbars == 1 ? $"{core.Adc.PerGroup} per crossbar" : $"{core.Adc.PerGroup} per group of {core.Adc.GroupCrossbars} crossbars")} ({core.ColumnsPerAdc} columns per ADC)");
        Line("", $"{core.ShiftAddUnits} shift-and-add units, {core.VectorLanes}-lane vector ALU");
        Line("", $"registers {core.InputRegisterEntries:N0} in / {core.OutputRegisterEntries:N0} out, local memory {core.LocalMemoryWords:N0} words (one chip entry each)");
        Line("precision", Precision(a.DefaultPrecision));
        Line("totals", $"{(a.Chips == 1 ? "" : $"{a.Chips} chips, {a.TotalTiles:N0} tiles, ")}{a.TotalCores:N0} cores, {a.TotalCrossbars:N0} crossbars, {a.TotalCells:N0} cells ({a.TotalCellBits / 8 / 1024:N0} KiB of weight storage)");
        if (a.Sources.Count > 0)
        {
            sb.Append("sources\n");
            int width = a.Sources.Keys.Max(k => k.Length);
            foreach ((string key, string text) in a.Sources)
            {
                sb.Append(CultureInfo.InvariantCulture, $"  {key.PadRight(width)}  {text}\n");
            }
        }

        return sb.ToString();
    }

    private static string Clock(double ghz) =>
        ghz >= 1 ? $"{ghz.ToString("0.###", CultureInfo.InvariantCulture)} GHz" : $"{(ghz * 1000).ToString("0.###", CultureInfo.InvariantCulture)} MHz";

    private static string Precision(PrecisionSpec p) =>
        $"w{p.WeightBits}/a{p.ActivationBits} {ArchitectureJson.SignedWeightsName(p.SignedWeights)}";

    private static string F(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);

    private static string Plural(int n) => n == 1 ? "" : "s";
}
