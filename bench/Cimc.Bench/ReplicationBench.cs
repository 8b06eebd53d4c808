using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Cimc.Architectures;
using Cimc.Data;
using Cimc.Import;
using Cimc.Mapping;
using Cimc.Passes;
using Cimc.Performance;

namespace Cimc.Bench;

/// <summary>
/// Case 8: weight replication on MLP-L4 on puma, streamed at batch 64 (issue 9's target: throughput
/// at least 3x the -O0 figure and at least 0.8x the replicated mapping's bound). Per row: the level
/// and replicate pass, the replica counts and period, crossbars used, compile time (median of the
/// settings' repetitions, verifiers off), the batch-1 latency beside its bound and the batch-64
/// throughput beside its bound (the timing model, docs/cost-model.md section 3).
/// docs/optimizations.md quotes this table.
/// </summary>
public static class ReplicationBench
{
    public const int Batch = 64;

    public static string Run(Settings settings, TextWriter log)
    {
        string path = MlpL4.Save(seed: 4);
        NdArray calibration = MlpL4.Calibration(64, 5);
        Architecture arch = ArchitectureCatalog.Preset("puma");
        var md = new StringBuilder();
        md.Append(CultureInfo.InvariantCulture, $"## 8. Replication: MLP-L4 on puma, batch {Batch}\n\n");
        md.Append("| level | replication | replicas | period | crossbars | compile s | latency µs (bound) | throughput /s (bound) | x -O0 | of bound |\n|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
        try
        {
            double? baseline = null;
            foreach ((OptLevel level, string label, ReplicationChoice? choice, Pass? search) in Rows())
            {
                log.WriteLine($"  -{level} {label} ...");
                ImmutableArray<Pass> plain = Pipelines.For(level, null, ReplicationChoice.None);
                var options = new CompileSettings
                {
                    Level = level,
                    Replication = choice,
                    Passes = search is null ? null : [.. plain.Take(2), search, .. plain.Skip(2)],
                    Verify = false,
                };
                Compilation c = Compiler.Compile(ModelLoader.Load(path), arch, Compiler.OptionsFor(arch), calibration, CompileStage.Asm, options);
                Timing compile = Measure.Time(() => Compiler.Compile(ModelLoader.Load(path), arch, Compiler.OptionsFor(arch), calibration, CompileStage.Asm, options),
                    settings.CompileWarmups, settings.CompileRepetitions);
                PerformanceReport one = PerformanceReport.Evaluate(PerformanceInputs.For(c, 1), "mlp_l4");
                PerformanceReport many = PerformanceReport.Evaluate(PerformanceInputs.For(c, Batch), "mlp_l4");
                baseline ??= many.ThroughputPerS;
                md.Append(CultureInfo.InvariantCulture,
                    $"| -{level} | {label} | {string.Join(",", c.Mapped!.Layers.Select(l => l.Replicas))} | {c.Mapped.Period} | {c.Mapped.ReplicatedCrossbars} | {compile.Median:F3} | {one.LatencyNs / 1000:F2} ({one.LowerBoundLatencyNs / 1000:F2}) | {many.ThroughputPerS:F0} ({many.UpperBoundThroughputPerS:F0}) | {many.ThroughputPerS / baseline:F2} | {many.ThroughputPerS / many.UpperBoundThroughputPerS:F2} |\n");
            }
        }
        finally
        {
            File.Delete(path);
        }

        return md.ToString();
    }

    /// <summary>The rows: a level, a label, a --replication value, or a replicate pass that no value names (run after map).</summary>
    private static IEnumerable<(OptLevel, string, ReplicationChoice?, Pass?)> Rows()
    {
        yield return (OptLevel.O0, "none", null, null);
        yield return (OptLevel.O2, "none", null, null);
        yield return (OptLevel.O2, "greedy", null, PassCatalog.ReplicateGreedy);
        yield return (OptLevel.O2, "balance (minmax)", ReplicationChoice.Balance, null);
        yield return (OptLevel.O2, "max", ReplicationChoice.Max, null);
        yield return (OptLevel.O3, "balance (level default)", null, null);
    }
}
