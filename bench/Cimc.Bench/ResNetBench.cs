using System.Globalization;
using System.Text;
using System.Text.Json;
using Cimc.Architectures;
using Cimc.Data;
using Cimc.Import;
using Cimc.Ir;
using Cimc.Performance;
using Cimc.Quantization;
using Cimc.Reference;

namespace Cimc.Bench;

/// <summary>
/// Case 11 (`--only 11`, not part of a plain run): the generated CIFAR ResNet-18 (11.2 M weights,
/// <see cref="ResNet18"/>) written under the temporary folder, then
/// - 16 random images in [0, 1) as the calibration.npy beside it (cimc quantizes a convolutional
///   network from samples);
/// - its float inference, cimc's reference against ONNX Runtime on those images (time and the
///   largest difference);
/// - `cimc compile MODEL --arch ARCH --weight-bits 8 --activation-bits 8 -o DIR` and
///   `cimc simulate DIR`, each in a child process of its own so that its peak memory is its own,
///   timed per stage against issue 11's targets (under 60 s and 4 GB).
/// ARCH is isaac unless `--arch NAME|FILE` names another chip. isaac has the crossbars: im2col at
/// 8-bit weights (4 slices of 2-bit cells) needs about 2,800 of its 16,128, which the case prints.
/// When the compile child refuses the model (a chip too small in some resource: the line says which
/// and how much is needed) the refusal is printed and the rest skipped.
/// </summary>
public static class ResNetBench
{
    public const string ArchName = "isaac";

    /// <summary>Random images written as the calibration.npy beside the model (cimc quantizes a conv network from samples).</summary>
    public const int CalibrationImages = 16;

    private const int Bits = 8;

    /// <summary>The issue's targets for compile and for simulate.</summary>
    private const double TargetSeconds = 60, TargetGiB = 4;

    public static string Run(Settings settings, TextWriter log, string archName = ArchName)
    {
        // A file is passed to the child processes by its full path.
        archName = File.Exists(archName) ? Path.GetFullPath(archName) : archName;
        string dir = Path.Combine(Path.GetTempPath(), $"cimc-resnet18-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        try
        {
            string model = Path.Combine(dir, "resnet18.onnx"), outDir = Path.Combine(dir, "out");
            long weights = ResNet18.Write(model, seed: 1);
            NdArray images = ResNet18.RandomImages(CalibrationImages, seed: 2);
            Npy.Write(Path.Combine(dir, CalibrationFiles.BesideModel), images);
            var md = new StringBuilder();
            md.Append(CultureInfo.InvariantCulture, $"## 11. ResNet-18 ({ResNet18.Describe(ResNet18.FullWidth)}; {weights:N0} weights)\n\n");
            md.Append(FloatSection(model, images, settings, log));

            Architecture arch = ArchitectureCatalog.Load(archName);
            long needed = Im2colCrossbars(ModelLoader.Load(model), arch);
            md.Append(CultureInfo.InvariantCulture, $"\nCompiled for `{arch.Name}` ({arch.Chip.Tiles} tiles, tile buffers of {Compiler.Header(arch).BufferWords:N0} words, core memories of {arch.Core.LocalMemoryWords:N0} words) at {Bits}/{Bits} bits: im2col needs about {needed:N0} crossbars ({Bits}-bit weights, {SlicesPerWeight(arch)} slices), of the chip's {arch.TotalCrossbars:N0}.\n\n");
            log.WriteLine($"  cimc compile (child process) ...");
            ChildRun compile = Child(["compile", model, outDir, archName]);
            if (compile.Refusal is { } refusal)
            {
                md.Append(CultureInfo.InvariantCulture, $"**skipped: cimc compile did not compile the model**: {refusal}\n(`--only 11 --arch FILE` compiles for another chip, e.g. isaac with the resources the line names enlarged.)\n");
                log.WriteLine(md.ToString());
                return md.ToString();
            }

            log.WriteLine($"  cimc simulate (child process) ...");
            ChildRun simulate = Child(["simulate", outDir]);
            if (simulate.Refusal is { } simulateRefusal)
            {
                md.Append(CultureInfo.InvariantCulture, $"**skipped: cimc simulate failed**: {simulateRefusal}\n");
                log.WriteLine(md.ToString());
                return md.ToString();
            }

            md.Append("| command | stage | wall s | CPU s | peak GiB |\n|---|---|---:|---:|---:|\n");
            foreach ((string command, ChildRun run) in new[] { ("compile", compile), ("simulate", simulate) })
            {
                foreach (ScaleStage s in run.Stages)
                {
                    md.Append(CultureInfo.InvariantCulture, $"| {command} | {s.Name} | {s.Seconds:F2} | {s.CpuSeconds:F2} | {s.PeakGiB:F2} |\n");
                }

                double total = run.Stages.Sum(s => s.Seconds), peak = run.Stages.Max(s => s.PeakGiB);
                string verdict = total < TargetSeconds && peak < TargetGiB ? "within" : "**over**";
                md.Append(CultureInfo.InvariantCulture, $"| {command} | **total** | **{total:F2}** | {run.Stages.Sum(s => s.CpuSeconds):F2} | **{peak:F2}** ({verdict} {TargetSeconds:F0} s, {TargetGiB:F0} GB) |\n");
            }

            md.Append('\n').Append(ReportLine(outDir)).Append('\n');
            log.WriteLine(md.ToString());
            return md.ToString();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// A child run; a child that crashed (an internal error while cimc's conv support is being wired
    /// up) is reported like a refusal, so the case still prints what it measured.
    /// </summary>
    private static ChildRun Child(string[] args)
    {
        try
        {
            return ChildStages.Run(["--resnet18-child", .. args]);
        }
        catch (InvalidOperationException e)
        {
            return new ChildRun([], e.Message + " (its error is printed above)");
        }
    }

    /// <summary>cimc's float reference and ONNX Runtime on the same random images in [0, 1): time per image and the largest difference.</summary>
    private static string FloatSection(string model, NdArray x, Settings settings, TextWriter log)
    {
        int images = x.Rows;
        log.WriteLine($"  float inference of {images} images ...");
        Graph graph = ModelLoader.Load(model);
        float[] ours = [];
        Timing cimc = Measure.Time(() => ours = FloatExecutor.Run(graph, x).Data, 1, settings.SimRepetitions);
        (Timing ort, float[] theirs) = OnnxRuntimeBench.OnnxRuntimeRun(model, x, settings);
        double maxDiff = ours.Zip(theirs).Max(p => Math.Abs(p.First - p.Second));
        return "| float inference, " + images + " random images | time, s: median (min) | ms per image | / ONNX Runtime |\n|---|---:|---:|---:|\n"
            + FormattableString.Invariant($"| ONNX Runtime | {ort.Median:F3} ({ort.Min:F3}) | {1000 * ort.Median / images:F1} | 1.00 |\n")
            + FormattableString.Invariant($"| cimc float reference (`cimc infer`) | {cimc.Median:F3} ({cimc.Min:F3}) | {1000 * cimc.Median / images:F1} | {cimc.Median / ort.Median:F1} |\n")
            + FormattableString.Invariant($"\nLargest |cimc - ONNX Runtime| over the {images} x 10 logits: {maxDiff:G3}.\n");
    }

    /// <summary>Crossbars of the im2col matrices ([k*k*Cin, Cout] per conv, [in, out] per dense) cut into crossbar blocks, times the weight slices.</summary>
    private static long Im2colCrossbars(Graph graph, Architecture arch)
    {
        CrossbarSpec xbar = arch.Core.Crossbar;
        long Blocks(long rows, long cols) => ((rows + xbar.Rows - 1) / xbar.Rows) * ((cols + xbar.Cols - 1) / xbar.Cols);
        long blocks = graph.Nodes.Sum(n => n.Op switch
        {
            Conv2d c => Blocks(c.PatchSize, c.OutChannels),
            Dense d => Blocks(d.InFeatures, d.OutFeatures),
            _ => 0L,
        });
        return blocks * SlicesPerWeight(arch);
    }

    private static int SlicesPerWeight(Architecture arch) => (Bits + arch.Core.Crossbar.CellBits - 1) / arch.Core.Crossbar.CellBits;

    /// <summary>The headline figures of the report.json that `cimc simulate` wrote.</summary>
    private static string ReportLine(string outDir)
    {
        using JsonDocument report = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "report.json")));
        var fields = new List<string>();
        foreach (string name in new[] { "crossbars_used", "cores_used", "latency_ns", "throughput_per_s", "energy_nj" })
        {
            if (report.RootElement.TryGetProperty(name, out JsonElement v))
            {
                fields.Add($"{name} {v}");
            }
        }

        return $"report.json: {string.Join(", ", fields)}.";
    }

    /// <summary>
    /// The children: `compile MODEL OUT ARCH` runs the stages of `cimc compile MODEL --arch ARCH
    /// --weight-bits 8 --activation-bits 8 -o OUT` (calibrated with the calibration.npy beside the
    /// model, as the command finds it); `simulate OUT` those of `cimc simulate OUT` (batch 16).
    /// </summary>
    public static int ChildMain(string[] args) => ChildStages.ChildMain(clock =>
    {
        if (args is ["compile", string model, string outDir, string archName])
        {
            Graph graph = ModelLoader.Load(model);
            clock.Done("import");
            Architecture arch = ArchitectureCatalog.Load(archName);
            CalibrationSource calibration = CalibrationFiles.Find(null, model, 1, InputRangeCalibration.Default);
            Compilation c = Compiler.Compile(graph, arch, Compiler.OptionsFor(arch, Bits, Bits), calibration, CompileStage.Asm,
                stage => clock.Done(stage.ToString().ToLowerInvariant()), new Passes.CompileSettings { Verify = false, Estimate = true });
            CompiledFolder.Write(outDir, c);
            clock.Done("write");
        }
        else if (args is ["simulate", string folderPath])
        {
            var folder = CompiledFolder.Read(folderPath);
            clock.Done("read");
            PerformanceReport report = PerformanceReport.Evaluate(folder.Performance(folder.RequireArchitecture()) with { Batch = 16 }, folder.Summary!.Model);
            clock.Done("evaluate");
            File.WriteAllText(Path.Combine(folderPath, "report.json"), JsonFormat.Write(report) + "\n");
            clock.Done("write");
        }
        else
        {
            throw new ArgumentException($"bad child arguments '{string.Join(' ', args)}'");
        }
    });
}
