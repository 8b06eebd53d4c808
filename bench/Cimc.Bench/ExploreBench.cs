using System.Diagnostics;
using System.Globalization;
using System.Text;
using Cimc.Exploration;
using Cimc.Import;
using Cimc.Simulation.Devices;

namespace Cimc.Bench;

/// <summary>
/// Case 7: `cimc explore` on PUMA's MLP-L4 at both fidelities (issue 10's targets on 2 cores: 20
/// points/s simulated, 1,000 points/s estimated). Simulate: a 16-point space (ADC bits x cores per tile x
/// tiles x weight bits), each point compiled from the shared quantized model and crossbar cutting and
/// priced by the event-driven performance model. Estimate: a 1,152-point space (ADC bits and sharing,
/// DAC and cell bits, cores per tile, tiles, weight bits) priced by the analytic estimator. Each
/// repetition starts from a fresh evaluator and an empty results database (one SQLite row per
/// point), so the rates include quantizing the model and storing every point. The rate is a study's
/// steady rate: tiered compilation recompiles the compiler's methods (instrumented, then optimized)
/// over its first hundred or so simulated points, which a 16-point repetition would otherwise charge
/// to the points (100-180 CPU ms per point in the first repetition against about 45 once settled), so
/// simulate warms up for <see cref="SimulateWarmups"/> repetitions; the first repetition's CPU time
/// per point is printed too.
/// </summary>
public static class ExploreBench
{
    private const string SimulateSpace = """{ "arch": "puma", "params": { "core.adc.bits": [6, 8], "tile.cores": [4, 8], "chip.tiles": [138, 69], "weight-bits": [8, 16] } }""";

    private const string EstimateSpace = """{ "arch": "puma", "params": { "core.adc.bits": [4, 5, 6, 7, 8, 9], "core.adc.per_group": [1, 2, 4, 8], "core.dac.bits": [1, 2], "core.crossbar.cell_bits": [1, 2, 4], "tile.cores": [4, 8], "chip.tiles": [138, 168], "weight-bits": [8, 16] } }""";

    /// <summary>Unmeasured simulate repetitions (16 points each) before the timed ones: tiering has settled by then.</summary>
    public const int SimulateWarmups = 6;

    public static string Run(Settings settings, TextWriter log)
    {
        string path = MlpL4.Save(seed: 6);
        string dir = Directory.CreateTempSubdirectory("cimc-bench-explore-").FullName;
        var md = new StringBuilder();
        md.Append(CultureInfo.InvariantCulture, $"## 7. cimc explore on MLP-L4 ({MlpL4.Describe}), {Environment.ProcessorCount} jobs\n\n");
        md.Append("| fidelity | points | seconds: median (min) | points/s (median) | CPU s per point (median) | points/s on idle cores | target | first repetition: CPU per point |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
        try
        {
            Ir.Graph graph = ModelLoader.Load(path);
            Data.NdArray calibration = MlpL4.Calibration(64, 7);
            int run = 0;
            foreach ((Fidelity fidelity, string text, int target) in new[] { (Fidelity.Simulate, SimulateSpace, 20), (Fidelity.Estimate, EstimateSpace, 1000) })
            {
                DesignSpace space = DesignSpace.Parse(text);
                var cpu = new List<double>();
                Timing t = Measure.Time(() =>
                {
                    TimeSpan before = Process.GetCurrentProcess().TotalProcessorTime;
                    // A fresh evaluator and database each time: nothing is answered from a cache.
                    using ResultStore store = ResultStore.Open(Path.Combine(dir, $"run{run++}.db"));
                    var evaluator = new PointEvaluator(graph, calibration, null, DeviceModel.Ideal, 16);
                    var s = new ExploreSettings(SearchStrategy.Grid, Objective.Defaults(false), Jobs: Environment.ProcessorCount) { Fidelity = fidelity };
                    ExploreSummary summary = Explorer.Run(space, evaluator.Estimate, evaluator.Simulate, store, s);
                    if (summary.Evaluated != space.Size || summary.Invalid != 0)
                    {
                        throw new InvalidOperationException($"evaluated {summary.Evaluated} of {space.Size} points, {summary.Invalid} invalid");
                    }

                    cpu.Add((Process.GetCurrentProcess().TotalProcessorTime - before).TotalSeconds / space.Size);
                }, fidelity == Fidelity.Simulate ? Math.Max(settings.CompileWarmups, SimulateWarmups) : settings.CompileWarmups, settings.CompileRepetitions);
                double rate = space.Size / t.Median;
                double perPoint = Timing.Of(cpu.TakeLast(t.Repetitions).ToList()).Median;
                double idle = Environment.ProcessorCount / perPoint;
                string name = fidelity.ToString().ToLowerInvariant();
                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name}: {rate:F1} points/s ({perPoint * 1000:F2} CPU ms per point: {idle:F0} points/s on {Environment.ProcessorCount} idle cores; first repetition {cpu[0] * 1000:F2} CPU ms per point)"));
                md.Append(CultureInfo.InvariantCulture, $"| {name} | {space.Size:N0} | {t.Median:F2} ({t.Min:F2}) | {rate:F1} | {perPoint * 1000:F2} ms | {idle:F0} | {target:N0} | {cpu[0] * 1000:F2} ms |\n");
            }
        }
        finally
        {
            string load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "unknown";
            md.Append(CultureInfo.InvariantCulture, $"\nLoad average while measuring: {load}. Points/s on idle cores is cores / CPU seconds per point: what the wall clock shows when nothing else runs.\n");
            File.Delete(path);
            Directory.Delete(dir, recursive: true);
        }

        return md.ToString();
    }
}
