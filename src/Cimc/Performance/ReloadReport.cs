using System.Collections.Immutable;
using Cimc.Architectures;
using Cimc.Diagnostics;
using Cimc.Isa;

namespace Cimc.Performance;

/// <summary>
/// The cost of a weight-reloading program (docs/cost-model.md section 3b): a batch of B inferences
/// runs through segment 0, then the crossbars are rewritten with segment 1's weights and the batch
/// runs through it, and so on; between segments each inference's codes leave the node over its
/// chip-to-chip link to off-chip memory and come back. Every batch rewrites every segment (the last
/// segment's weights are on the crossbars when the next batch starts), so the writes cost the same for
/// a batch of one as for B and amortize over B.
/// </summary>
public static class ReloadReport
{
    /// <summary>Each segment priced alone at the batch, then joined with the writes and the activation traffic.</summary>
    public static PerformanceReport Evaluate(IReadOnlyList<PerformanceInput> segments, string model)
    {
        if (segments.Count == 1)
        {
            return PerformanceReport.Evaluate(segments[0], model);
        }

        Architecture arch = segments[0].Arch;
        ChipLinkSpec link = arch.Node.Link ?? throw new CimcException(PerformanceInput.Code, "--arch",
            $"architecture '{arch.Name}' has no node.link: a weight-reloading program keeps activations off the chip between segments, and the link's figures price that traffic (docs/architecture.md)");
        int batch = segments[0].Batch;
        List<PerformanceReport> parts = [.. segments.Select(s => PerformanceReport.Evaluate(s, model))];
        List<CellWrites.Cost> writes = [.. segments.Select(s => CellWrites.Of(s.Program, arch))];

        // Bits per inference that cross each boundary, out to memory and back: the codes the next
        // segment takes, at the bits of its input range.
        List<long> boundaryBits = [.. segments.Skip(1).Select(s => 2L * s.Program.Input.Len * Math.Max(1, 64 - long.LeadingZeroCount(s.Program.Input.QMax)))];
        double TrafficNs(long bits, int inferences) => (2 * link.LatencyNs) + link.SerializeNs(bits * inferences);
        double trafficSingleNs = boundaryBits.Sum(b => TrafficNs(b, 1)), trafficBatchNs = boundaryBits.Sum(b => TrafficNs(b, batch));
        long trafficBits = boundaryBits.Sum();
        double trafficNj = trafficBits * link.EnergyPjPerBit / 1000;

        double writeNs = writes.Sum(w => w.Ns), writeNj = writes.Sum(w => w.EnergyPj) / 1000;
        long cellWrites = writes.Sum(w => w.Cells);
        double makespan = parts.Sum(p => p.MakespanNs) + writeNs + trafficBatchNs;
        double latency = parts.Sum(p => p.LatencyNs) + writeNs + trafficSingleNs;
        double energy = parts.Sum(p => p.EnergyNj) + writeNj + trafficNj;
        double throughput = batch * 1e9 / makespan; // makespan in ns
        long macs = segments.Sum(s => s.Macs);
        double ops = 2.0 * macs;
        PerformanceReport first = parts[0];

        var breakdown = Sum(parts.Select(p => p.EnergyBreakdownNj));
        breakdown["offchip"] = breakdown.GetValueOrDefault("offchip") + trafficNj;
        breakdown[WritesKey] = writeNj;
        var counts = Sum(parts.Select(p => p.Counts.ToDictionary(kv => kv.Key, kv => (double)kv.Value))).ToDictionary(kv => kv.Key, kv => (long)kv.Value);
        counts["cell_writes"] = cellWrites;
        var critical = Sum(parts.Select(p => p.CriticalPathNs));
        critical[WritesKey] = writeNs;
        critical["offchip_activations"] = trafficSingleNs;

        // Each crossbar is written once per segment that uses it, per batch.
        int maxWritesPerBatch = segments.SelectMany(s => s.Program.Cores.SelectMany(c => c.Code.Where(i => i.Opcode == Opcode.Mvm).Select(i => (c.Core, Xb: (int)i["xb"])).Distinct()))
            .GroupBy(k => k).Select(g => g.Count()).DefaultIfEmpty(0).Max();
        PerformanceReport longest = parts.MaxBy(p => p.MakespanNs)!;
        bool writesDominate = writeNs > parts.Sum(p => p.MakespanNs);

        return first with
        {
            LatencyNs = latency,
            ThroughputPerS = throughput,
            LowerBoundLatencyNs = parts.Sum(p => p.LowerBoundLatencyNs) + writeNs + trafficSingleNs,
            UpperBoundThroughputPerS = batch * 1e9 / (parts.Sum(p => batch * 1e9 / p.UpperBoundThroughputPerS) + writeNs + trafficBatchNs),
            MakespanNs = makespan,
            EnergyNj = energy,
            EnergyBreakdownNj = breakdown,
            EnergyLines = [.. parts.SelectMany(p => p.EnergyLines),
                new EnergyLine("weight_writes", "cell_write", cellWrites, CellWrites.EnergyPjPerCell, writeNj * 1000),
                new EnergyLine("offchip", "activation_bit", trafficBits, link.EnergyPjPerBit, trafficNj * 1000)],
            LeakagePowerMw = parts.Max(p => p.LeakagePowerMw),
            LeakageBreakdownMw = parts.MaxBy(p => p.LeakagePowerMw)!.LeakageBreakdownMw,
            Counts = counts,
            Macs = macs,
            TopsPerW = energy > 0 ? ops / (energy * 1e-9) / 1e12 : 0,
            TopsPerMm2 = first.AreaMm2 > 0 ? ops * throughput / 1e12 / first.AreaMm2 : 0,
            CrossbarUtilization = parts.Sum(p => p.CrossbarUtilization * p.MakespanNs) / makespan,
            AdcUtilization = parts.Sum(p => p.AdcUtilization * p.MakespanNs) / makespan,
            CoresUsed = parts.Max(p => p.CoresUsed),
            CrossbarsUsed = parts.Sum(p => p.CrossbarsUsed),
            BusiestResource = writesDominate ? WritesKey : longest.BusiestResource,
            BusiestUtilization = writesDominate ? writeNs / makespan : longest.BusiestUtilization * longest.MakespanNs / makespan,
            CriticalPathNs = critical.OrderByDescending(kv => kv.Value).ToDictionary(kv => kv.Key, kv => kv.Value),
            CriticalPath = SinglePath(parts, writes, boundaryBits.Select(b => TrafficNs(b, 1)).ToList()),
            Layers = [.. parts.SelectMany(p => p.Layers)],
            LowerBoundLimit = $"{parts.Count} segments: weight writes and activation traffic, then each segment's {string.Join(", ", parts.Select(p => p.LowerBoundLimit).Distinct())}",
            UpperBoundThroughputLimit = $"{parts.Count} segments at batch {batch}: weight writes, activation traffic and each segment's {string.Join(", ", parts.Select(p => p.UpperBoundThroughputLimit).Distinct())}",
            SteadyThroughputPerS = throughput,
            MvmSequenceBoundNs = parts.Sum(p => p.MvmSequenceBoundNs),
            EnergyPerInferenceSteadyNj = parts.Sum(p => p.EnergyPerInferenceSteadyNj) + (writeNj / batch) + trafficNj,
            LeakageBreakdownNj = Sum(parts.Select(p => p.LeakageBreakdownNj)),
            AreaUsedMm2 = parts.Max(p => p.AreaUsedMm2),
            TopsPerMm2Used = parts.Max(p => p.AreaUsedMm2) is double used and > 0 ? ops * throughput / 1e12 / used : 0,
            OffchipBytes = parts.Sum(p => p.OffchipBytes) + ((trafficBits + 7) / 8),
            OffchipEnergyNj = parts.Sum(p => p.OffchipEnergyNj) + trafficNj,
            Segments = parts.Count,
            ReloadCellWrites = cellWrites,
            ReloadWriteNs = writeNs,
            ReloadWriteEnergyNj = writeNj,
            ReloadWriteEnergyPerInferenceNj = writeNj / batch,
            ReloadWritesPerCellPerInference = (double)maxWritesPerBatch / batch,
            ReloadActivationBytes = (trafficBits + 7) / 8,
        };
    }

    /// <summary>The energy_breakdown_nj and critical_path_ns key of the crossbar writes.</summary>
    public const string WritesKey = "weight_writes";

    private static Dictionary<string, double> Sum(IEnumerable<Dictionary<string, double>> parts)
    {
        var sum = new Dictionary<string, double>();
        foreach (Dictionary<string, double> part in parts)
        {
            foreach ((string key, double value) in part)
            {
                sum[key] = sum.GetValueOrDefault(key) + value;
            }
        }

        return sum;
    }

    /// <summary>One inference's path: each segment's writes, its own critical path shifted to when it starts, then the activations' round trip.</summary>
    private static ImmutableArray<PathStep> SinglePath(List<PerformanceReport> parts, List<CellWrites.Cost> writes, List<double> trafficNs)
    {
        var steps = ImmutableArray.CreateBuilder<PathStep>();
        double t = 0;
        for (int k = 0; k < parts.Count; k++)
        {
            steps.Add(new PathStep("node", $"write segment {k}'s weights ({writes[k].Crossbars} crossbars)", t, t + writes[k].Ns));
            t += writes[k].Ns;
            double start = t;
            steps.AddRange(parts[k].CriticalPath.Select(s => s with { StartNs = s.StartNs + start, EndNs = s.EndNs + start }));
            t += parts[k].LatencyNs;
            if (k < trafficNs.Count)
            {
                steps.Add(new PathStep("link", $"segment {k}'s output codes to memory and back", t, t + trafficNs[k]));
                t += trafficNs[k];
            }
        }

        return steps.ToImmutable();
    }
}
