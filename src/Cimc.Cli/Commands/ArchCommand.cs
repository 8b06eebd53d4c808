using System.CommandLine;
using Cimc.Architectures;
using Cimc.Exploration;
using Cimc.Performance;

namespace Cimc.Cli.Commands;

/// <summary>
/// `cimc arch list`: the shipped presets in a table. `cimc arch show NAME|FILE [--json]`: one
/// architecture in full; with --json, the JSON that loads back to the same architecture, plus the derived `peak` figures.
/// `cimc arch trends NAME|FILE -o DIR`: the cost model's trend charts (src/Cimc/Exploration/CostTrends.cs).
/// </summary>
internal static class ArchCommand
{
    public static Command Create(CliContext context)
    {
        Option<bool> listJson = CommonOptions.Json();
        var list = new Command("list", "List the architecture presets.") { listJson };
        list.SetAction(parse =>
        {
            Architecture[] presets = [.. ArchitectureCatalog.PresetNames.Select(ArchitectureCatalog.Preset)];
            context.Output.Write(parse.GetValue(listJson)
                ? CommonOptions.ToJson(presets.Select(a => new
                {
                    a.Name,
                    a.Description,
                    a.ClockGhz,
                    a.Chip.Tiles,
                    a.TotalCores,
                    a.TotalCrossbars,
                    CrossbarRows = a.Core.Crossbar.Rows,
                    CrossbarCols = a.Core.Crossbar.Cols,
                    a.Core.Crossbar.CellBits,
                    DacBits = a.Core.Dac.Bits,
                    AdcBits = a.Core.Adc.Bits,
                    a.DefaultPrecision.WeightBits,
                    a.DefaultPrecision.ActivationBits,
                })) + "\n"
                : ArchitecturePrinter.Table(presets));
            return 0;
        });

        var target = new Argument<string>("NAME|FILE") { Description = "a preset name (isaac, puma, edge) or an architecture JSON file" };
        var json = new Option<bool>("--json") { Description = "print the architecture as JSON (loads back unchanged)" };
        var chips = new Option<string?>("--chips") { Description = "show a node of this many chips (totals, peak figures and area count every chip and its links)" };
        var show = new Command("show", "Show an architecture: every figure, the derived totals and the sources.") { target, json, chips };
        show.SetAction(parse =>
        {
            string name = parse.GetValue(target)!;
            string? count = parse.GetValue(chips);
            Architecture arch = CompileOptionsBinder.WithChips(ArchitectureCatalog.Load(name), count is "auto" ? throw new Diagnostics.CimcException("bad-option", "--chips", "auto needs a network; give a number to arch show") : count);
            if (parse.GetValue(json))
            {
                context.Output.Write(PeakMetrics.ArchitectureJsonWithPeak(arch));
                return 0;
            }

            // Where the description lives, as a path in the repository (a preset) or the file given.
            context.Output.Write(ArchitecturePrinter.Describe(arch) + (arch.Costs is null ? "" : PeakMetrics.Of(arch).Describe()));
            context.Output.WriteLine(ArchitectureCatalog.IsPreset(name) ? $"file       src/Cimc/Architecture/Presets/{name}.json (built in; --json prints it)" : $"file       {name}");
            return 0;
        });

        var trendTarget = new Argument<string>("NAME|FILE") { Description = "a preset name (isaac, puma, edge) or an architecture JSON file" };
        var outDir = new Option<string>("--output", "-o") { Description = "folder for the SVG charts and trends.csv", Required = true };
        var trends = new Command("trends", "Chart energy per MAC, mvm latency and chip area against ADC bits, crossbar size, cell bits and DAC bits.") { trendTarget, outDir };
        trends.SetAction(parse =>
        {
            Architecture arch = ArchitectureCatalog.Load(parse.GetValue(trendTarget)!);
            if (arch.Costs is null)
            {
                throw new Diagnostics.CimcException("no-costs", "--arch", $"architecture '{arch.Name}' has no costs object: trends need one (docs/cost-model.md section 1)");
            }

            string dir = parse.GetValue(outDir)!;
            Directory.CreateDirectory(dir);
            var points = CostTrends.Sweep(arch);
            File.WriteAllText(Path.Combine(dir, "trends.csv"), CostTrends.Csv(points));
            foreach ((string file, string svg) in CostTrends.Charts(arch, points))
            {
                File.WriteAllText(Path.Combine(dir, file), svg);
                context.Output.WriteLine(Path.Combine(dir, file));
            }

            return 0;
        });

        return new Command("arch", "Describe target architectures: list the presets, show one, chart its cost trends.") { list, show, trends };
    }
}
