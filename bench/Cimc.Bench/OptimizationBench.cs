using System.Globalization;
using System.Text;
using Cimc.Architectures;
using Cimc.Data;
using Cimc.Diagnostics;
using Cimc.Import;
using Cimc.Ir;
using Cimc.Passes;
using Cimc.Performance;

namespace Cimc.Bench;

/// <summary>
/// Case 6: the optimization levels. For the shipped model and MLP-L4 on every preset, at -O0, -O2
/// and -O3: compile time (ModelLoader.Load + Compiler.Compile without the verifiers, as `cimc
/// compile` runs by default), and the timing model's single-inference latency and streamed
/// throughput (batch 16), each beside its bound. The compile targets on MLP-L4: -O2 under
/// 1 s, -O3 under 10 s. docs/optimizations.md quotes these tables.
/// </summary>
public static class OptimizationBench
{
    private static readonly OptLevel[] Levels = [OptLevel.O0, OptLevel.O2, OptLevel.O3];

    public static string Run(Settings settings, string root, TextWriter log)
    {
        string mlpL4 = MlpL4.Save(seed: 4);
        var md = new StringBuilder();
        md.Append("## 6. Optimization levels: compile time and the timing model's figures\n\n");
        md.Append("| model | preset | level | compile s: median (min) | latency µs (bound) | throughput /s, batch 16 (bound) |\n|---|---|---|---:|---:|---:|\n");
        try
        {
            string shipped = Path.Combine(root, "examples", "fashion-mnist", "mlp.onnx");
            NdArray shippedCalibration = Npy.Read(Path.Combine(root, "examples", "fashion-mnist", "calibration.npy"));
            foreach ((string name, string path, NdArray calibration) in new[] { ("fashion-mnist mlp", shipped, shippedCalibration), ("MLP-L4", mlpL4, MlpL4.Calibration(64, 5)) })
            {
                foreach (string preset in new[] { "isaac", "puma", "edge" })
                {
                    Architecture arch = ArchitectureCatalog.Preset(preset);
                    foreach (OptLevel level in Levels)
                    {
                        log.WriteLine($"  {name} {preset} -{level} ...");
                        md.Append(Row(name, path, calibration, arch, level, settings));
                    }
                }
            }
        }
        finally
        {
            File.Delete(mlpL4);
        }

        return md.ToString();
    }

    private static string Row(string name, string path, NdArray calibration, Architecture arch, OptLevel level, Settings settings)
    {
        var options = new CompileSettings { Level = level, Verify = false };
        Compilation c;
        try
        {
            c = Compiler.Compile(ModelLoader.Load(path), arch, Compiler.OptionsFor(arch), calibration, CompileStage.Asm, options);
        }
        catch (CimcException e) when (e.Diagnostic.Code == "does-not-fit")
        {
            return $"| {name} | {arch.Name} | -{level} | does not fit: {e.Diagnostic.Location} | | |\n";
        }

        Timing compile = Measure.Time(() => Compiler.Compile(ModelLoader.Load(path), arch, Compiler.OptionsFor(arch), calibration, CompileStage.Asm, options),
            settings.CompileWarmups, settings.CompileRepetitions);
        PerformanceReport one = PerformanceReport.Evaluate(PerformanceInputs.For(c, 1), name);
        PerformanceReport many = PerformanceReport.Evaluate(PerformanceInputs.For(c, 16), name);
        return string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {arch.Name} | -{level} | {compile.Median:F3} ({compile.Min:F3}) | {one.LatencyNs / 1000:F2} ({one.LowerBoundLatencyNs / 1000:F2}) | {many.ThroughputPerS:F0} ({many.UpperBoundThroughputPerS:F0}) |\n");
    }
}
