using System.CommandLine;
using Cimc.Architectures;
using Cimc.Performance;

namespace Cimc.Cli.Commands;

/// <summary>
/// `cimc arch list`: the shipped presets in a table. `cimc arch show NAME|FILE [--json]`: one
/// architecture in full; with --json, the JSON that loads back to the same architecture, plus the derived `peak` figures.
/// </summary>
internal static class ArchCommand
{
    public static Command Create(CliContext context)
    {
        var list = new Command("list", "List the architecture presets.");
        list.SetAction(_ =>
        {
            context.Output.Write(ArchitecturePrinter.Table(ArchitectureCatalog.PresetNames.Select(ArchitectureCatalog.Preset)));
            return 0;
        });

        var target = new Argument<string>("NAME|FILE") { Description = "a preset name (isaac, puma, edge) or an architecture JSON file" };
        var json = new Option<bool>("--json") { Description = "print the architecture as JSON (loads back unchanged)" };
        var show = new Command("show", "Show an architecture: every figure, the derived totals and the sources.") { target, json };
        show.SetAction(parse =>
        {
            Architecture arch = ArchitectureCatalog.Load(parse.GetValue(target)!);
            string peak = arch.Costs is null ? "" : PeakMetrics.Of(arch).Describe();
            context.Output.Write(parse.GetValue(json) ? PeakMetrics.ArchitectureJsonWithPeak(arch) : ArchitecturePrinter.Describe(arch) + peak);
            return 0;
        });

        return new Command("arch", "Describe target architectures: list the presets, show one.") { list, show };
    }
}
