using System.Diagnostics;
using System.Globalization;
using System.Text;
using Cimc.Architectures;
using Cimc.Import;
using Cimc.Ir;
using Cimc.Quantization;

namespace Cimc.Bench;

/// <summary>One stage of a scale run: wall-clock and CPU seconds (all threads) it took and the process's peak resident memory once it ended.</summary>
public sealed record ScaleStage(string Name, double Seconds, double CpuSeconds, double PeakGiB);

/// <summary>
/// Case 9 (`--scale 10m,134m[,1b]`, not part of a plain run): random-weight ReLU MLPs written as
/// PyTorch state_dicts under the temporary folder, compiled as `cimc compile` does (import, the -O2
/// passes, writing the folder) for a `puma` chip with as many tiles as the model needs, at 8-bit
/// weights and activations. Each size runs in a fresh child process (this program with
/// `--scale-child`), so its peak memory (VmHWM) is its own; the child prints each stage's time and
/// the peak so far, and the CPU seconds of all its threads (on a loaded machine the wall-clock time
/// says more about the neighbours than about cimc). The scaling exponent is the slope of log(time) and log(peak) against
/// log(weights) between the smallest and the largest size.
/// </summary>
public static class ScaleBench
{
    /// <summary>
    /// Layer widths of each size: 10 M (4 x 1,600 -> 10.2 M), 134 M (8 x 4096), 1 B (4 x 16,384);
    /// wide67m (16,384 -> 2,048 -> 16,384, 67 M) has the 1 B model's input and output, twice a puma tile buffer.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, int[]> Sizes = new Dictionary<string, int[]>
    {
        ["10m"] = [1600, 1600, 1600, 1600, 1600],
        ["134m"] = [4096, 4096, 4096, 4096, 4096, 4096, 4096, 4096, 4096],
        ["1b"] = [16384, 16384, 16384, 16384, 16384],
        ["wide67m"] = [16384, 2048, 16384],
    };

    public static string Run(IReadOnlyList<string> sizes, TextWriter log)
    {
        var md = new StringBuilder();
        md.Append("## 9. scale: compile random-weight ReLU MLPs (state_dict, puma sized to fit, 8/8 bits)\n\n");
        md.Append("| model | weights | file GiB | stage | wall s | CPU s | peak GiB |\n|---|---:|---:|---|---:|---:|---:|\n");
        var totals = new List<(long Weights, double Seconds, double PeakGiB)>();
        foreach (string size in sizes)
        {
            int[] widths = Sizes[size];
            string dir = Path.Combine(Path.GetTempPath(), $"cimc-scale-{size}-{Environment.ProcessId}");
            Directory.CreateDirectory(dir);
            try
            {
                string model = Path.Combine(dir, "mlp.pt");
                log.WriteLine($"  writing {size} model ...");
                long weights = StateDictFile.Write(model, widths, seed: 1);
                double fileGiB = new FileInfo(model).Length / (double)(1L << 30);
                log.WriteLine($"  compiling {size} ({weights:N0} weights, {fileGiB:F2} GiB) in a child process ...");
                IReadOnlyList<ScaleStage> stages = Child(model, Path.Combine(dir, "out"));
                foreach (ScaleStage s in stages)
                {
                    md.Append(CultureInfo.InvariantCulture, $"| {size} | {weights:N0} | {fileGiB:F2} | {s.Name} | {s.Seconds:F2} | {s.CpuSeconds:F2} | {s.PeakGiB:F2} |\n");
                }

                md.Append(CultureInfo.InvariantCulture, $"| {size} | {weights:N0} | {fileGiB:F2} | **total** | **{stages.Sum(s => s.Seconds):F2}** | {stages.Sum(s => s.CpuSeconds):F2} | {stages.Max(s => s.PeakGiB):F2} |\n");
                totals.Add((weights, stages.Sum(s => s.Seconds), stages.Max(s => s.PeakGiB)));
            }
            finally
            {
                Directory.Delete(dir, recursive: true);
            }
        }

        if (totals.Count >= 2)
        {
            (long w0, double t0, double m0) = totals[0];
            (long w1, double t1, double m1) = totals[^1];
            double x = Math.Log((double)w1 / w0);
            md.Append(CultureInfo.InvariantCulture, $"\nScaling from {w0:N0} to {w1:N0} weights: time grows as N^{Math.Log(t1 / t0) / x:F2}, peak memory as N^{Math.Log(m1 / m0) / x:F2}.\n");
        }

        return md.ToString();
    }

    /// <summary>Runs this program with --scale-child and reads its stage lines ("stage seconds cpuSeconds peakGiB").</summary>
    private static List<ScaleStage> Child(string model, string outDir)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, UseShellExecute = false };
        string? entry = Environment.GetCommandLineArgs()[0];
        if (entry.EndsWith(".dll", StringComparison.Ordinal))
        {
            start.ArgumentList.Add(entry);
        }

        start.ArgumentList.Add("--scale-child");
        start.ArgumentList.Add(model);
        start.ArgumentList.Add(outDir);
        using Process child = Process.Start(start)!;
        var stages = new List<ScaleStage>();
        string? line;
        while ((line = child.StandardOutput.ReadLine()) is not null)
        {
            string[] parts = line.Split(' ');
            if (parts.Length == 4)
            {
                double[] v = [.. parts.Skip(1).Select(p => double.Parse(p, CultureInfo.InvariantCulture))];
                stages.Add(new ScaleStage(parts[0], v[0], v[1], v[2]));
            }
        }

        child.WaitForExit();
        if (child.ExitCode != 0)
        {
            throw new InvalidOperationException($"the scale child failed (exit {child.ExitCode}) after {string.Join(", ", stages.Select(s => s.Name))}");
        }

        return stages;
    }

    /// <summary>The child: the stages of `cimc compile MODEL --arch puma(sized) --weight-bits 8 --activation-bits 8 --activation relu -o OUT`.</summary>
    public static int ChildMain(string model, string outDir)
    {
        var clock = Stopwatch.StartNew();
        using Process self = Process.GetCurrentProcess();
        TimeSpan cpu = self.TotalProcessorTime;
        void Done(string stage)
        {
            self.Refresh();
            Console.WriteLine(FormattableString.Invariant($"{stage} {clock.Elapsed.TotalSeconds:F3} {(self.TotalProcessorTime - cpu).TotalSeconds:F3} {PeakGiB():F3}"));
            cpu = self.TotalProcessorTime;
            clock.Restart();
        }

        Graph graph = ModelLoader.Load(model, new ImportOptions(LayerActivation.Relu));
        Done("import");
        Architecture arch = SizedPuma(graph);
        QuantizationOptions options = Compiler.OptionsFor(arch, 8, 8);
        Compilation c = Compiler.Compile(graph, arch, options, new InputRangeCalibration(0, 1), CompileStage.Asm,
            stage => Done(stage.ToString().ToLowerInvariant()), new Passes.CompileSettings { Verify = false, Estimate = true });
        CompiledFolder.Write(outDir, c);
        Done("write");
        return 0;
    }

    /// <summary>puma with enough tiles for the model's crossbars at 8-bit weights (offset encoding: 4 slices of 2-bit cells), on a square mesh.</summary>
    private static Architecture SizedPuma(Graph graph)
    {
        Architecture puma = ArchitectureCatalog.Preset("puma");
        long crossbars = 0;
        foreach (Dense d in graph.Nodes.Select(n => n.Op).OfType<Dense>())
        {
            crossbars += 4L * ((d.InFeatures + 127) / 128) * ((d.OutFeatures + 127) / 128);
        }

        int tiles = (int)((crossbars + puma.CrossbarsPerTile - 1) / puma.CrossbarsPerTile) + 1;
        int width = (int)Math.Ceiling(Math.Sqrt(tiles));
        return puma with { Chip = puma.Chip with { Tiles = tiles, Mesh = new MeshSpec(width, (tiles + width - 1) / width) } };
    }

    /// <summary>Peak resident memory of this process so far (VmHWM), in GiB.</summary>
    private static double PeakGiB()
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / (double)(1 << 20);
            }
        }

        return double.NaN;
    }
}
