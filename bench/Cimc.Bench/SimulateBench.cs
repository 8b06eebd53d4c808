using System.Text;
using Cimc.Architectures;
using Cimc.Import;
using Cimc.Ir;
using Cimc.Performance;

namespace Cimc.Bench;

/// <summary>
/// Case 5: `cimc simulate` on PUMA's MLP-L4 (issue 4's target: under 1 s). Times the performance
/// model alone (event counts, one inference alone, then the pipelined stream of 16) on a compiled
/// program, and the whole command (import, compile, performance model) as `cimc simulate MODEL` runs it.
/// </summary>
public static class SimulateBench
{
    public static string Run(Settings settings, TextWriter log)
    {
        string path = MlpL4.Save(seed: 4);
        var md = new StringBuilder();
        md.Append($"## 5. cimc simulate on MLP-L4 ({MlpL4.Describe}, 16-bit, batch 16)\n\n");
        md.Append("| preset | performance model, s: median (min) | whole command, s: median (min) | latency µs | energy µJ | under 1 s |\n|---|---:|---:|---:|---:|---|\n");
        try
        {
            foreach (string name in new[] { "puma", "isaac" })
            {
                log.WriteLine($"  simulate {name} ...");
                Architecture arch = ArchitectureCatalog.Preset(name);
                Data.NdArray calibration = MlpL4.Calibration(64, 5);
                Compilation c = Compiler.Compile(ModelLoader.Load(path), arch, Compiler.OptionsFor(arch), calibration);
                PerformanceReport report = PerformanceReport.Evaluate(PerformanceInputs.For(c, 16), "mlp-l4");
                Timing model = Measure.Time(() => PerformanceReport.Evaluate(PerformanceInputs.For(c, 16), "mlp-l4"), settings.CompileWarmups, settings.CompileRepetitions);
                Timing whole = Measure.Time(() =>
                {
                    Graph g = ModelLoader.Load(path);
                    Compilation again = Compiler.Compile(g, arch, Compiler.OptionsFor(arch), calibration);
                    PerformanceReport.Evaluate(PerformanceInputs.For(again, 16), "mlp-l4");
                }, settings.CompileWarmups, settings.CompileRepetitions);
                md.Append($"| {name} | {model.Median:F3} ({model.Min:F3}) | {whole.Median:F3} ({whole.Min:F3}) | {report.LatencyNs / 1000:F1} | {report.EnergyNj / 1000:F1} | {(whole.Median < 1 ? "yes" : model.Median < 1 ? "model only" : "no")} |\n");
            }
        }
        finally
        {
            File.Delete(path);
        }

        return md.ToString();
    }
}
