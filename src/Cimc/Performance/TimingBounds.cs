using System.Collections.Immutable;
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
/// A replicated program (period P above 1) counts each instruction as often as the stream runs it
/// (a section of slot j once per sample n &lt; N with n mod P = j, the rest once per period), each
/// crossbar's fill once if the stream uses it, and bounds each core by its own N-sample stream
/// without contention and with every message already there (<see cref="TimingSimulator.Mode.Isolated"/>
/// over the whole batch) and the whole stream by the run without contention (its makespan, which
/// includes the pipeline's start-up): every event of those runs is no later than in the real one.
/// </summary>
public sealed record TimingBounds(double LatencyNs, double ThroughputPerS, string LatencyLimit, string ThroughputLimit)
{
    /// <summary>
    /// The layers' mvm times in sequence (<see cref="CrossbarChain"/>): in a chain of dense layers,
    /// per layer the shortest time one of its mvms can take (K' slice times, plus the pipeline fill
    /// when its crossbar runs it alone in an iteration, as the simulator charges without
    /// contention), summed over the layers; in a network with convolutions, the longest path through
    /// its DAG of layers, where a convolution's crossbar runs once per output window. Why it bounds
    /// the latency of every program cimc compiles: a layer's mvms read outputs of the layers before,
    /// and every core halts after its mvms. It ignores all data movement and vector work, so the
    /// program's own bound (<see cref="LatencyNs"/>) is never below it; it says how far the schedule
    /// is from the crossbars' time alone.
    /// </summary>
    public double MvmSequenceNs { get; init; }

    internal static TimingBounds Of(PerformanceInput input, ProgramAnalysis analysis, TimingPlan plan)
    {
        var work = new ResourceWork(input, analysis, plan, null, 1);
        TimingResult free = TimingSimulator.Run(input with { Batch = 1 }, analysis, plan, TimingSimulator.Mode.Free, criticalPath: false);
        (string latencyLimit, double latency, double sequence) = Latency(input, plan, work, free);
        TimingResult isolated = TimingSimulator.Run(input with { Batch = 1 }, analysis, plan, TimingSimulator.Mode.Isolated, criticalPath: false);
        int later = input.Batch - 1;

        if (input.Program.Period > 1)
        {
            (string limit, double ns) = Replicated(input, analysis, plan);
            return new TimingBounds(latency, ns > 0 ? input.Batch / (ns * 1e-9) : double.PositiveInfinity, latencyLimit, limit) { MvmSequenceNs = sequence };
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

    /// <summary>The latency bound alone (<see cref="LatencyNs"/> of <see cref="Of"/>), without the stream's runs and bounds.</summary>
    internal static double LatencyOf(PerformanceInput input, ProgramAnalysis analysis, TimingPlan plan) =>
        Latency(input, plan, new ResourceWork(input, analysis, plan, null, 1),
            TimingSimulator.Run(input with { Batch = 1 }, analysis, plan, TimingSimulator.Mode.Free, criticalPath: false)).Ns;

    /// <summary>One inference: the chain without contention (<paramref name="free"/>), the layers' mvms in sequence, or the busiest resource's work.</summary>
    private static (string Limit, double Ns, double Sequence) Latency(PerformanceInput input, TimingPlan plan, ResourceWork work, TimingResult free)
    {
        (string latencyLimit, double latency) = work.Busiest(w => w.Single);
        double sequence = CrossbarChain.Ns(input, plan);
        if (sequence > latency)
        {
            (latencyLimit, latency) = ("layer mvms in sequence", sequence);
        }

        if (free.LatencyNs >= latency)
        {
            (latencyLimit, latency) = ("dependences", free.LatencyNs);
        }

        return (latencyLimit, latency, sequence);
    }

    /// <summary>The shortest mvm of the given cores: K' slice times, with the fill when its crossbar runs only that mvm per iteration (0 without mvms).</summary>
    internal static double LayerMvmNs(PerformanceInput input, TimingPlan plan, HashSet<int> cores)
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

    /// <summary>The least makespan of a replicated program's stream: the busiest resource's work over the batch, or a core's isolated stream.</summary>
    private static (string Limit, double Ns) Replicated(PerformanceInput input, ProgramAnalysis analysis, TimingPlan plan)
    {
        // Each resource from the moment it can first be used (the run without contention: no real
        // event is earlier) plus its work over the stream: the pipeline's start-up counts.
        TimingResult free = TimingSimulator.Run(input, analysis, plan, TimingSimulator.Mode.Free, criticalPath: false);
        (string limit, double stream) = new ResourceWork(input, analysis, plan, null, input.Batch, free.FirstUse).Busiest(w => w.Single);
        TimingResult isolated = TimingSimulator.Run(input, analysis, plan, TimingSimulator.Mode.Isolated, criticalPath: false);
        for (int s = 0; s < isolated.CoreFinishNs.Length; s++)
        {
            if (isolated.CoreFinishNs[s] > stream)
            {
                (limit, stream) = ($"core {input.Program.Cores[s].Core} stream", isolated.CoreFinishNs[s]);
            }
        }

        // The whole stream without contention: every event no later than in the real run.
        if (free.MakespanNs > stream)
        {
            (limit, stream) = ("dependences", free.MakespanNs);
        }

        return (limit, stream);
    }

    /// <summary>
    /// Each layer's own bound (<see cref="LayerNs"/>) of a program of period 1, without running the
    /// timing simulation: the time per inference one copy of the layer needs at least, which the
    /// replicate passes balance.
    /// </summary>
    public static ImmutableArray<double> LayerLoadsNs(PerformanceInput input)
    {
        ProgramAnalysis analysis = ProgramAnalysis.Of(input);
        var plan = new TimingPlan(input, analysis);
        return [.. input.Layers.Select(l => LayerNs(input, analysis, plan, l.Cores.ToHashSet()))];
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
    private readonly Dictionary<(Unit Unit, int Core, int Index), double> releases = [];

    private enum Unit : byte { Pipeline, Crossbar, AdcGroup, Network }

    /// <param name="release">when given, each resource's work starts from its first use in that run (a release time)</param>
    public ResourceWork(PerformanceInput input, ProgramAnalysis analysis, TimingPlan plan, ISet<int>? only, int samples, FirstUse? release = null)
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
                        bool first = filled.Add(op.Xb);
                        Add((Unit.Crossbar, core.Core, op.Xb), times * op.Slices * op.SliceNs, first ? CostModel.FillSlices * op.SliceNs : 0,
                            first && release is not null ? release.Crossbar[s, op.Xb] : 0);
                        Add((Unit.AdcGroup, core.Core, op.Group), times * op.Slices * op.ConvertNs, 0, release?.AdcGroup[s, op.Group] ?? 0);
                        break;
                    case TimedKind.Memory when only is null:
                        int bus = mesh.Bus(mesh.TileOf(core.Core));
                        Add((Unit.Network, -1, bus), times * plan.BeatsNs(op.Bits, arch.Tile.BusBits), 0, release?.Network[bus] ?? 0);
                        break;
                    case TimedKind.Send when only is null && analysis.Received((core.Core, pc)):
                        foreach (int r in op.Message!.Route.Resources)
                        {
                            Add((Unit.Network, -1, r), times * plan.SerializeNs(op.Message, mesh, r), 0, release?.Network[r] ?? 0);
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

    /// <summary>Adds work to a resource; <paramref name="from"/> is a time before which it cannot start (its release), kept once: the latest given.</summary>
    private void Add((Unit, int, int) resource, double ns, double firstOnly = 0, double from = 0)
    {
        (double single, double steady) = work.GetValueOrDefault(resource);
        double start = double.IsFinite(from) ? from : 0;
        double released = releases.GetValueOrDefault(resource);
        if (start > released)
        {
            single += start - released;
            releases[resource] = start;
        }

        work[resource] = (single + ns + firstOnly, steady + ns);
    }
}
