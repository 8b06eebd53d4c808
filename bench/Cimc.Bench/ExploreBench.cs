using System.Globalization;
using System.Text;
using Cimc.Exploration;
using Cimc.Import;
using Cimc.Simulation.Devices;

namespace Cimc.Bench;

/// <summary>
/// Case 6: `cimc explore` on PUMA's MLP-L4 (issue 10's targets: 20 points/s at simulate fidelity,
/// 1,000 points/s for an estimate). Evaluates a 16-point space (ADC bits x cores per tile x tiles x
/// weight bits) into a fresh results database on every core and prints points per second: each
/// point is compiled from a shared quantized model (one per weight-bits value), priced by the
/// event-driven performance model and stored. The estimate fidelity does not exist yet.
/// </summary>
public static class ExploreBench
{
    private const string Space = """{ "arch": "puma", "params": { "core.adc.bits": [6, 8], "tile.cores": [4, 8], "chip.tiles": [138, 69], "weight-bits": [8, 16] } }""";

    public static string Run(Settings settings, TextWriter log)
    {
        string path = MlpL4.Save(seed: 6);
        string dir = Directory.CreateTempSubdirectory("cimc-bench-explore-").FullName;
        var md = new StringBuilder();
        md.Append(CultureInfo.InvariantCulture, $"## 7. cimc explore on MLP-L4 ({MlpL4.Describe}), {Environment.ProcessorCount} jobs\n\n");
        md.Append("| fidelity | points | seconds: median (min) | points/s (median) | target |\n|---|---:|---:|---:|---:|\n");
        try
        {
            DesignSpace space = DesignSpace.Parse(Space);
            Ir.Graph graph = ModelLoader.Load(path);
            Data.NdArray calibration = MlpL4.Calibration(64, 7);
            int run = 0;
            Timing t = Measure.Time(() =>
            {
                // A fresh evaluator and database each time: nothing is answered from a cache.
                using ResultStore store = ResultStore.Open(Path.Combine(dir, $"run{run++}.db"));
                var evaluator = new PointEvaluator(graph, calibration, null, DeviceModel.Ideal, 16);
                var s = new ExploreSettings(SearchStrategy.Grid, Objective.Defaults(false), Jobs: Environment.ProcessorCount);
                ExploreSummary summary = Explorer.Run(space, evaluator.Evaluate, store, s);
                if (summary.Evaluated != space.Size)
                {
                    throw new InvalidOperationException($"evaluated {summary.Evaluated} of {space.Size} points");
                }
            }, settings.CompileWarmups, settings.CompileRepetitions);
            double rate = space.Size / t.Median;
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  simulate: {rate:F1} points/s"));
            md.Append(CultureInfo.InvariantCulture, $"| simulate | {space.Size} | {t.Median:F2} ({t.Min:F2}) | {rate:F1} | 20 |\n");
            md.Append("| estimate | - | not implemented yet | - | 1,000 |\n");
        }
        finally
        {
            File.Delete(path);
            Directory.Delete(dir, recursive: true);
        }

        return md.ToString();
    }
}
