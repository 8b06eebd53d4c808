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
/// the chain of dependent work through the program.
/// A replicated program (period P above 1) counts each instruction as often as the stream runs it
/// (a section of slot j once per sample n &lt; N with n mod P = j, the rest once per period), each
/// crossbar's fill once if the stream uses it, and bounds each core by its own N-sample stream
/// without contention and with every message already there (<see cref="TimingSimulator.Mode.Isolated"/>
/// over the whole batch): every event of that run is no later than in the real one.
/// </summary>
public sealed record TimingBounds(double LatencyNs, double ThroughputPerS, string LatencyLimit, string ThroughputLimit)
{
    internal static TimingBounds Of(PerformanceInput input, ProgramAnalysis analysis, TimingPlan plan)
    {
        var work = new ResourceWork(input, analysis, plan, null, 1);
        TimingResult free = TimingSimulator.Run(input with { Batch = 1 }, analysis, plan, TimingSimulator.Mode.Free);
        TimingResult isolated = TimingSimulator.Run(input with { Batch = 1 }, analysis, plan, TimingSimulator.Mode.Isolated);
        int later = input.Batch - 1;

        // One inference: the chain without contention, or the busiest resource's work.
        (string latencyLimit, double latency) = work.Busiest(w => w.Single);
        if (free.LatencyNs >= latency)
        {
            (latencyLimit, latency) = ("dependences", free.LatencyNs);
        }

        if (input.Program.Period > 1)
        {
            (string limit, double ns) = Replicated(input, analysis, plan);
            return new TimingBounds(latency, ns > 0 ? input.Batch / (ns * 1e-9) : double.PositiveInfinity, latencyLimit, limit);
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

        return new TimingBounds(latency, stream > 0 ? input.Batch / (stream * 1e-9) : double.PositiveInfinity, latencyLimit, streamLimit);
    }

    /// <summary>The least makespan of a replicated program's stream: the busiest resource's work over the batch, or a core's isolated stream.</summary>
    private static (string Limit, double Ns) Replicated(PerformanceInput input, ProgramAnalysis analysis, TimingPlan plan)
    {
        (string limit, double stream) = new ResourceWork(input, analysis, plan, null, input.Batch).Busiest(w => w.Single);
        TimingResult isolated = TimingSimulator.Run(input, analysis, plan, TimingSimulator.Mode.Isolated);
        for (int s = 0; s < isolated.CoreFinishNs.Length; s++)
        {
            if (isolated.CoreFinishNs[s] > stream)
            {
                (limit, stream) = ($"core {input.Program.Cores[s].Core} stream", isolated.CoreFinishNs[s]);
            }
        }

        return (limit, stream);
    }

    /// <summary>The busiest of the given cores' crossbars, ADC groups and pipelines in one inference: a layer's own bound.</summary>
    internal static double LayerNs(PerformanceInput input, ProgramAnalysis analysis, TimingPlan plan, ISet<int> cores) =>
        new ResourceWork(input, analysis, plan, cores, 1).Busiest(w => w.Single).Ns;
}

/// <summary>
/// The work of each resource in a stream of <c>samples</c> inferences: Single with the first fill,
/// Steady without it. For a program of period 1 that is one inference's work (samples = 1); for a
/// replicated one each instruction counts as often as the stream of that many samples runs it.
/// </summary>
internal sealed class ResourceWork
{
    private readonly Dictionary<(Unit Unit, int Core, int Index), (double Single, double Steady)> work = [];
    private readonly Mesh mesh;

    private enum Unit : byte { Pipeline, Crossbar, AdcGroup, Network }

    public ResourceWork(PerformanceInput input, ProgramAnalysis analysis, TimingPlan plan, ISet<int>? only, int samples)
    {
        Architecture arch = input.Arch;
        mesh = analysis.Mesh;
        int period = input.Program.Period, periods = (samples + period - 1) / period;
        for (int s = 0; s < input.Program.Cores.Length; s++)
        {
            CoreProgram core = input.Program.Cores[s];
            if (only is not null && !only.Contains(core.Core))
            {
                continue;
            }

            var filled = new HashSet<int>();
            int[] slots = core.SlotsByPc();
            for (int pc = 0; pc < core.Code.Length; pc++)
            {
                // How often the stream runs this instruction: once per period, or once per sample of its slot.
                int times = slots[pc] < 0 ? periods : slots[pc] < samples ? ((samples - 1 - slots[pc]) / period) + 1 : 0;
                if (times == 0)
                {
                    continue;
                }

                TimedOp op = plan.Ops[s][pc];
                Add((Unit.Pipeline, core.Core, 0), times * op.CoreNs);
                switch (op.Kind)
                {
                    case TimedKind.Mvm:
                        Add((Unit.Crossbar, core.Core, op.Xb), times * op.Slices * op.SliceNs, filled.Add(op.Xb) ? CostModel.FillSlices * op.SliceNs : 0);
                        Add((Unit.AdcGroup, core.Core, op.Group), times * op.Slices * op.ConvertNs);
                        break;
                    case TimedKind.Memory when only is null:
                        Add((Unit.Network, -1, mesh.Bus(mesh.TileOf(core.Core))), times * plan.BeatsNs(op.Bits, arch.Tile.BusBits));
                        break;
                    case TimedKind.Send when only is null && analysis.Received((core.Core, pc)):
                        foreach (int r in op.Message!.Route.Resources)
                        {
                            Add((Unit.Network, -1, r), times * plan.SerializeNs(op.Message, mesh, r));
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
