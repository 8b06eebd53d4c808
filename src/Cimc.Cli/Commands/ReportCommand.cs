using System.CommandLine;
using System.Text.Json;
using Cimc.Architectures;
using Cimc.Diagnostics;
using Cimc.Performance;
using Cimc.Reporting;

namespace Cimc.Cli.Commands;

/// <summary>`cimc report DIR -o report.html`: the report.json that `cimc simulate` wrote into DIR, as one self-contained HTML page.</summary>
internal static class ReportCommand
{
    public static Command Create(CliContext context)
    {
        var dir = new Argument<string>("DIR") { Description = "a folder written by cimc compile; its report.json (from cimc simulate) is made first if missing" };
        var output = new Option<string>("--output", "-o") { Description = "the HTML file to write", Required = true };
        Option<bool> asJson = CommonOptions.Json();
        var command = new Command("report", "Write a self-contained HTML report of a simulated program.") { dir, output, asJson };
        command.SetAction(parse =>
        {
            string folder = parse.GetValue(dir)!;
            string json = Path.Combine(folder, SimulateCommand.ReportFile);
            if (!File.Exists(json))
            {
                if (!Directory.Exists(folder))
                {
                    throw new CimcException("file-not-found", folder, "no such folder (expected the output of cimc compile)");
                }

                SimulateCommand.SimulateFolder(folder, SimulateCommand.DefaultBatch);
                context.Note($"no report.json in {folder}: simulated it first (batch {SimulateCommand.DefaultBatch}, as cimc simulate {folder}) and wrote {json}");
            }

            PerformanceReport report;
            try
            {
                report = JsonSerializer.Deserialize<PerformanceReport>(File.ReadAllText(json), CommonOptions.JsonOptions)
                    ?? throw new CimcException("bad-report", json, "empty report");
            }
            catch (JsonException e)
            {
                throw new CimcException("bad-report", json, $"not a report written by cimc simulate ({e.Message})");
            }

            int perCore = ArchitectureCatalog.IsPreset(report.Arch) ? ArchitectureCatalog.Preset(report.Arch).Core.Crossbars : report.Layers.SelectMany(l => l.CrossbarsPerCore).DefaultIfEmpty(0).Max();
            string file = parse.GetValue(output)!;
            File.WriteAllText(file, HtmlReport.Render(report, perCore));
            context.Output.WriteLine(parse.GetValue(asJson) ? CommonOptions.ToJson(new { Output = file, Report = json }) : $"wrote {file}");
            return 0;
        });
        return command;
    }
}
