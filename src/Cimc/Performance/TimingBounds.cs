using Cimc.Architectures;
using Cimc.Isa;

namespace Cimc.Performance;

/// <summary>
/// Bounds that the timing simulation can never beat (docs/cost-model.md section 3), from the work
/// each resource must do per inference, counted with the simulator's own durations
/// (<see cref="TimingPlan"/>):
/// <list type="bullet">
/// <item>a crossbar: K' slice times per mvm (plus one pipeline fill for the first inference);</item>
/// <item>an ADC group: K' conversion times per mvm on its crossbars;</item>
/// <item>a core's pipeline: every instruction's least time on the core (issue, vector work, loads);</item>
/// <item>a tile bus and a link: the beats of every load, store and received message over it.</item>
/// </list>
/// A resource does one thing at a time, so one inference takes at least the busiest resource's
/// work, and a stream of N at least its first inference's work plus N - 1 times its steady work:
/// the throughput (N over the stream's makespan) is at most N over that. A core runs its iterations
/// one after another, so the stream also takes at least the core's first iteration without
/// contention plus N - 1 times one iteration of the core alone (every message already there). The
/// latency bound is also at least the run without contention (<see cref="TimingSimulator"/>):
/// the chain of dependent work through the program, and at least every layer's mvm time in
/// sequence (<see cref="MvmSequenceNs"/>).
/// </summary>
public sealed record TimingBounds(double LatencyNs, double ThroughputPerS, string LatencyLimit, string ThroughputLimit)
{
    /// <summary>
    /// The layers' mvm times in sequence: per layer, the shortest time one of its mvms can take
    /// (K' slice times, plus the pipeline fill when its crossbar runs it alone in an iteration,
    /// as the simulator charges without contention), summed over the layers. Why it bounds the
    /// latency of every program cimc compiles: a layer's outputs are computed from all of its
    /// column block's mvms and feed the next layer's mvms, so the network output waits for a chain
    /// of one mvm per layer, each starting after the one before ended. It ignores all data
    /// movement and vector work, so the program's own bound (<see cref="LatencyNs"/>) is never
    /// below it; it says how far the schedule is from the crossbars' time alone.
    /// </summary>
    public double MvmSequenceNs { get; init; }

    internal static TimingBounds Of(PerformanceInput input, ProgramAnalysis analysis, TimingPlan plan)
    {
        var work = new ResourceWork(input, analysis, plan, null);
        TimingResult free = TimingSimulator.Run(input with { Batch = 1 }, analysis, plan, TimingSimulator.Mode.Free);
        TimingResult isolated = TimingSimulator.Run(input with { Batch = 1 }, analysis, plan, TimingSimulator.Mode.Isolated);
        int later = input.Batch - 1;

        // One inference: the chain without contention, the layers' mvms in sequence, or the busiest resource's work.
        (string latencyLimit, double latency) = work.Busiest(w => w.Single);
        double sequence = input.Layers.Sum(layer => LayerMvmNs(input, plan, [.. layer.Cores]));
        if (sequence > latency)
        {
            (latencyLimit, latency) = ("layer mvms in sequence", sequence);
        }

        if (free.LatencyNs >= latency)
        {
            (latencyLimit, latency) = ("dependences", free.LatencyNs);
        }

        // N inferences: a resource's first inference and N - 1 more; a core's first iteration as in the
        // run without contention, then N - 1 more, each at least one iteration of the core alone
        // (its iterations run one after another: halt waits for its mvms).
        (string streamLimit, double stream) = work.Busiest(w => w.Single + (later * w.Steady));
        for (int s = 0; s < isolated.CoreFinishNs.Length; s++)
        {
            double core = free.CoreFinishNs[s] + (later * isolated.CoreFinishNs[s]);
            if (core > stream)
            {
                (streamLimit, stream) = ($"core {input.Program.Cores[s].Core} iteration", core);
            }
        }

        return new TimingBounds(latency, stream > 0 ? input.Batch / (stream * 1e-9) : double.PositiveInfinity, latencyLimit, streamLimit) { MvmSequenceNs = sequence };
    }

    /// <summary>The shortest mvm of the given cores: K' slice times, with the fill when its crossbar runs only that mvm per iteration (0 without mvms).</summary>
    private static double LayerMvmNs(PerformanceInput input, TimingPlan plan, HashSet<int> cores)
    {
        double shortest = double.PositiveInfinity;
        for (int s = 0; s < input.Program.Cores.Length; s++)
        {
            if (!cores.Contains(input.Program.Cores[s].Core))
            {
                continue;
            }

            TimedOp[] ops = plan.Ops[s];
            var perCrossbar = ops.Where(op => op.Kind == TimedKind.Mvm).GroupBy(op => op.Xb).ToDictionary(g => g.Key, g => g.Count());
            foreach (TimedOp op in ops.Where(op => op.Kind == TimedKind.Mvm))
            {
                double fill = perCrossbar[op.Xb] == 1 ? CostModel.FillSlices : 0;
                shortest = Math.Min(shortest, (op.Slices + fill) * op.SliceNs);
            }
        }

        return double.IsPositiveInfinity(shortest) ? 0 : shortest;
    }

    /// <summary>The busiest of the given cores' crossbars, ADC groups and pipelines in one inference: a layer's own bound.</summary>
    internal static double LayerNs(PerformanceInput input, ProgramAnalysis analysis, TimingPlan plan, ISet<int> cores) =>
        new ResourceWork(input, analysis, plan, cores).Busiest(w => w.Single).Ns;
}

/// <summary>The work of each resource per inference: alone (Single, with the first fill) and streamed (Steady).</summary>
internal sealed class ResourceWork
{
    private readonly Dictionary<(Unit Unit, int Core, int Index), (double Single, double Steady)> work = [];
    private readonly Mesh mesh;

    private enum Unit : byte { Pipeline, Crossbar, AdcGroup, Network }

    public ResourceWork(PerformanceInput input, ProgramAnalysis analysis, TimingPlan plan, ISet<int>? only)
    {
        Architecture arch = input.Arch;
        mesh = analysis.Mesh;
        for (int s = 0; s < input.Program.Cores.Length; s++)
        {
            CoreProgram core = input.Program.Cores[s];
            if (only is not null && !only.Contains(core.Core))
            {
                continue;
            }

            var filled = new HashSet<int>();
            for (int pc = 0; pc < core.Code.Length; pc++)
            {
                TimedOp op = plan.Ops[s][pc];
                Add((Unit.Pipeline, core.Core, 0), op.CoreNs);
                switch (op.Kind)
                {
                    case TimedKind.Mvm:
                        Add((Unit.Crossbar, core.Core, op.Xb), op.Slices * op.SliceNs, filled.Add(op.Xb) ? CostModel.FillSlices * op.SliceNs : 0);
                        Add((Unit.AdcGroup, core.Core, op.Group), op.Slices * op.ConvertNs);
                        break;
                    case TimedKind.Memory when only is null:
                        Add((Unit.Network, -1, mesh.Bus(mesh.TileOf(core.Core))), plan.BeatsNs(op.Bits, arch.Tile.BusBits));
                        break;
                    case TimedKind.Send when only is null && analysis.Received((core.Core, pc)):
                        foreach (int r in op.Message!.Route.Resources)
                        {
                            Add((Unit.Network, -1, r), plan.SerializeNs(op.Message, mesh, r));
                        }

                        break;
                }
            }
        }
    }

    public (string Name, double Ns) Busiest(Func<(double Single, double Steady), double> measure)
    {
        ((Unit Unit, int Core, int Index) Key, double Ns)? best = null;
        foreach ((var key, var w) in work)
        {
            if (measure(w) > (best?.Ns ?? 0))
            {
                best = (key, measure(w));
            }
        }

        return best is not { } b ? ("none", 0) : (b.Key.Unit switch
        {
            Unit.Pipeline => $"core {b.Key.Core} pipeline",
            Unit.Crossbar => $"core {b.Key.Core} crossbar {b.Key.Index}",
            Unit.AdcGroup => $"core {b.Key.Core} ADC group {b.Key.Index}",
            _ => mesh.Name(b.Key.Index),
        }, b.Ns);
    }

    private void Add((Unit, int, int) resource, double ns, double firstOnly = 0)
    {
        (double single, double steady) = work.GetValueOrDefault(resource);
        work[resource] = (single + ns + firstOnly, steady + ns);
    }
}
