using System.Collections.Immutable;
using System.CommandLine;
using System.Globalization;
using System.Text;
using Cimc.Architectures;
using Cimc.Diagnostics;
using Cimc.Performance;
using Cimc.Quantization;

namespace Cimc.Cli.Commands;

/// <summary>
/// `cimc simulate DIR|MODEL [--arch PRESET|FILE] [--batch N] [--json] [-o DIR]`: timing, energy and
/// area of a compiled program. Given a folder from `cimc compile`, it reads program.bin and
/// summary.json (the architecture defaults to the one compiled for) and writes report.json into that
/// folder; given a model, it compiles it first (same options as compile) and writes report.json into
/// -o DIR, or the current directory.
/// </summary>
internal static class SimulateCommand
{
    public const int DefaultBatch = 16;

    public static Command Create(CliContext context)
    {
        var target = new Argument<string>("DIR|MODEL") { Description = "a folder written by cimc compile, or a model file to compile first" };
        Option<string?> activation = CommonOptions.Activation();
        Option<bool> json = CommonOptions.Json();
        var batch = new Option<int>("--batch") { Description = "inferences streamed through the pipeline", DefaultValueFactory = _ => DefaultBatch };
        var output = new Option<string?>("--output", "-o") { Description = "where report.json goes when given a model (default: the current directory)" };
        var binder = new CompileOptionsBinder();
        var command = new Command("simulate", "Timing, energy and area of a compiled program on its chip.") { target, activation, json, batch, output };
        binder.AddTo(command, archRequired: false);

        // Parsed like everywhere, but refused: cimc's cost model charges the same time and energy for any device.
        var device = new DeviceOptionsBinder();
        device.AddTo(command, withSeeds: false);
        command.SetAction(parse =>
        {
            if (device.FirstGiven(parse) is { } option)
            {
                throw new Diagnostics.CimcException("not-modelled", option,
                    "device non-idealities change what a program computes, not its time or energy in cimc's cost model: give them to cimc accuracy or cimc run");
            }

            string path = parse.GetValue(target)!;
            if (!Directory.Exists(path) && !File.Exists(path))
            {
                throw new Diagnostics.CimcException("file-not-found", path, "no such file or folder (expected a model file or a folder written by cimc compile)");
            }

            (ImmutableArray<PerformanceInput> inputs, string model, string outDir, ImmutableArray<string> warnings) = Directory.Exists(path)
                ? FromFolder(path, parse, binder)
                : FromModel(context, path, parse, binder, parse.GetValue(activation), parse.GetValue(output));
            if (!Directory.Exists(path))
            {
                // A compiled folder's warnings were printed by cimc compile (report.json still carries them).
                foreach (string warning in warnings)
                {
                    context.Warn(warning);
                }
            }

            PerformanceReport report = ReloadReport.Evaluate([.. inputs.Select(i => i with { Batch = parse.GetValue(batch) })], model) with { Warnings = warnings };
            string text = CommonOptions.ToJson(report);
            Directory.CreateDirectory(outDir);
            string file = Path.Combine(outDir, ReportFile);
            File.WriteAllText(file, text + "\n");
            context.Output.Write(parse.GetValue(json) ? text + "\n" : Table(report, file));
            return 0;
        });
        return command;
    }

    private static (ImmutableArray<PerformanceInput>, string, string, ImmutableArray<string>) FromFolder(string path, ParseResult parse, CompileOptionsBinder binder)
    {
        var folder = CompiledFolder.Read(path);
        Architecture arch = parse.GetValue(binder.Arch) is null ? folder.RequireArchitecture() : binder.LoadArchitecture(parse);
        return (folder.SegmentPerformance(arch), folder.Summary!.Model, path, folder.Summary.Warnings.IsDefault ? [] : folder.Summary.Warnings);
    }

    /// <summary>Timing, energy and area of a compiled folder, written to its report.json (what `cimc report` needs).</summary>
    public static PerformanceReport SimulateFolder(string path, int batch)
    {
        var folder = CompiledFolder.Read(path);
        PerformanceReport report = ReloadReport.Evaluate([.. folder.SegmentPerformance(folder.RequireArchitecture()).Select(i => i with { Batch = batch })], folder.Summary!.Model);
        File.WriteAllText(Path.Combine(path, ReportFile), CommonOptions.ToJson(report) + "\n");
        return report;
    }

    public const string ReportFile = "report.json";

    private static (ImmutableArray<PerformanceInput>, string, string, ImmutableArray<string>) FromModel(CliContext context, string modelPath, ParseResult parse, CompileOptionsBinder binder, string? activation, string? outDir)
    {
        if (parse.GetValue(binder.Arch) is null)
        {
            throw new CimcException("bad-option", "--arch", "give the chip to compile for with --arch PRESET|FILE");
        }

        Architecture arch = binder.LoadArchitecture(parse);
        Compilation c = Compiler.Compile(CommonOptions.LoadModel(modelPath, activation), arch, binder.Quantization(parse, arch), binder.FindCalibration(parse, modelPath),
            settings: binder.Settings(parse, context.Output) with { WeightImage = false });
        CompileOptionsBinder.WritePassTimes(parse, binder, c, context.Output);
        context.Note(c.Calibration is InputRangeCalibration r
            ? $"{r.Assumption}; timing, energy and area do not depend on them"
            : c.Calibration?.Describe() ?? "the model carries its own quantization");
        return (PerformanceInputs.Segments(c), c.Graph.Name, outDir ?? ".", c.Warnings());
    }

    /// <summary>The human form: headline figures against the lower bound, the breakdowns, the critical path.</summary>
    public static string Table(PerformanceReport r, string file)
    {
        var sb = new StringBuilder();
        void Line(string label, string text) => sb.Append(CultureInfo.InvariantCulture, $"{label,-22} {text}\n");
        sb.Append(CultureInfo.InvariantCulture, $"{r.Model} on {r.Arch}: {r.CoresUsed} cores, {r.CrossbarsUsed} crossbars, batch {r.Batch}\n");
        Line("latency", $"{Ns(r.LatencyNs)} (lower bound {Ns(r.LowerBoundLatencyNs)}, {r.LatencyNs / r.LowerBoundLatencyNs:0.00}x; set by {r.LowerBoundLimit})");
        Line("throughput", $"{r.ThroughputPerS:N0} inferences/s (upper bound {r.UpperBoundThroughputPerS:N0}, set by {r.UpperBoundThroughputLimit}; steady {r.SteadyThroughputPerS:N0}/s)");
        Line("energy", $"{r.EnergyNj:N1} nJ per inference on an idle chip ({r.TopsPerW:0.###} TOPS/W); {r.EnergyPerInferenceSteadyNj:N1} nJ each in a stream of {r.Batch}");
        foreach ((string k, double v) in r.EnergyBreakdownNj)
        {
            Line($"  {k}", $"{v:N2} nJ ({(r.EnergyNj > 0 ? v / r.EnergyNj : 0):P1})");
        }

        if (r.Segments > 1)
        {
            Line("weight reloading", $"{r.Segments} segments: {r.ReloadCellWrites:N0} cell writes per batch of {r.Batch} ({Ns(r.ReloadWriteNs)}, {r.ReloadWriteEnergyNj:N1} nJ = {r.ReloadWriteEnergyPerInferenceNj:N1} nJ per inference); " +
                $"{r.ReloadWritesPerCellPerInference:0.####} writes per cell per inference; {r.ReloadActivationBytes:N0} activation bytes per inference off the chip");
        }

        Line("area", $"{r.AreaMm2:N2} mm^2 ({r.TopsPerMm2:0.####} TOPS/mm^2); the program uses {r.AreaUsedMm2:N2} mm^2 ({r.TopsPerMm2Used:0.####} TOPS/mm^2)");
        foreach ((string k, double v) in r.AreaBreakdownMm2)
        {
            Line($"  {k}", $"{v:N3} mm^2 ({v / r.AreaMm2:P1})");
        }

        Line("utilization", $"crossbars {r.CrossbarUtilization:P1} busy, ADCs {r.AdcUtilization:P1}");
        Line("busiest resource", $"{r.BusiestResource} ({r.BusiestUtilization:P1} busy)");
        Line("critical path", string.Join(", ", r.CriticalPathNs.Select(kv => $"{kv.Key} {Ns(kv.Value)}")));
        Line("report", file);
        return sb.ToString();
    }

    private static string Ns(double ns) => ns >= 1e6 ? $"{ns / 1e6:0.###} ms" : ns >= 1e3 ? $"{ns / 1e3:0.###} us" : $"{ns:0.#} ns";
}
