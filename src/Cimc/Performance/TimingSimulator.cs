using System.Collections.Immutable;
using Cimc.Architectures;
using Cimc.Isa;

namespace Cimc.Performance;

/// <summary>A stretch of the critical path: where, what, and when.</summary>
public sealed record PathStep(string Where, string What, double StartNs, double EndNs);

/// <summary>What the timing simulation found.</summary>
public sealed record TimingResult(
    double LatencyNs,
    double MakespanNs,
    double ThroughputPerS,
    ImmutableArray<double> FinishNs,
    string BusiestResource,
    double BusiestUtilization,
    double CrossbarBusyNs,
    ImmutableArray<PathStep> CriticalPath,
    ImmutableDictionary<string, double> CriticalPathNs,
    ImmutableArray<double> CoreFinishNs)
{
    /// <summary>
    /// When each resource was first used: mesh resources (buses, links) by index, crossbars and ADC
    /// groups by (core slot, index). From a run without contention these are release times: no
    /// event of the real run is earlier (<see cref="TimingBounds"/>).
    /// </summary>
    internal FirstUse? FirstUse { get; init; }

    /// <summary>
    /// The rate between the first and the last inference of the stream, (N - 1) / (finish_N - finish_1):
    /// closer to the steady state than N / makespan but not bounded by the resource bounds (the
    /// first inference may be held up by contention the later ones do not meet); 1 / latency for N = 1.
    /// </summary>
    public double SteadyThroughputPerS => FinishNs.Length > 1 && FinishNs[^1] > FinishNs[0]
        ? (FinishNs.Length - 1) / ((FinishNs[^1] - FinishNs[0]) * 1e-9) : 1 / (FinishNs[0] * 1e-9);
}

/// <summary>When each resource of a timing run was first used (infinity: never).</summary>
internal sealed class FirstUse
{
    public FirstUse(int network, int cores, int crossbars, int groups)
    {
        Network = new double[network];
        Array.Fill(Network, double.PositiveInfinity);
        Crossbar = new double[cores, crossbars];
        AdcGroup = new double[cores, groups];
        foreach (double[,] a in new[] { Crossbar, AdcGroup })
        {
            for (int i = 0; i < a.GetLength(0); i++)
            {
                for (int j = 0; j < a.GetLength(1); j++)
                {
                    a[i, j] = double.PositiveInfinity;
                }
            }
        }
    }

    public double[] Network { get; }

    public double[,] Crossbar { get; }

    public double[,] AdcGroup { get; }
}

/// <summary>
/// Event-driven timing of a compiled program (docs/cost-model.md section 3). Each core runs its
/// straight-line stream <c>batch</c> times in a row (one inference after another, so layers on
/// different cores pipeline); the core with the earliest clock goes next, so shared resources are
/// granted in time order. A core issues in order. An <c>mvm</c> takes one cycle to issue (its
/// inputs go into one of its crossbar's two input registers) and then runs on its crossbar while
/// the core goes on; a later instruction waits only for the earlier mvms whose outputs it reads or
/// writes (<see cref="MemoryAccesses"/>), <c>halt</c> for all of them. One crossbar runs one mvm at
/// a time; crossbars sharing an ADC group take turns on its ADCs; an mvm that starts the moment
/// the previous one on its crossbar ends continues its pipeline (no fill). A <c>send</c> never
/// blocks; its message occupies each resource of its route while it uses it (<see cref="Mesh"/>);
/// a <c>recv</c> waits for it.
/// With <see cref="Mode.Free"/> every shared resource (ADC groups, buses, links) is always free
/// and an mvm is charged the least its pipeline could take: every time is then no later than in the
/// real run, which makes that run's latency a lower bound. <see cref="Mode.Isolated"/> also lets
/// every message arrive at once and charges no first fill: each core's time is then what one
/// iteration of its own stream takes at least (<see cref="TimingBounds"/>).
/// </summary>
public sealed partial class TimingSimulator
{
    /// <summary>Real: with contention. Free: no contention. Isolated: no contention, no waiting for messages.</summary>
    internal enum Mode : byte { Real, Free, Isolated }

    private enum Kind : byte { Control, Alu, Memory, Mvm, Send, Recv, Transfer, Issue }

    private record struct Ev(int Core, int Pc, Kind Kind, double Start, double End, int Pred, int To);

    /// <summary>An mvm in flight: the words it accumulates into, when it ends, its event.</summary>
    private record struct Pending(MemoryAccess Dst, double End, int Event);

    private const double Eps = 1e-9;

    private readonly PerformanceInput input;
    private readonly ProgramAnalysis analysis;
    private readonly TimingPlan plan;
    private readonly Architecture arch;
    private readonly bool contention;
    private readonly bool isolated;
    private readonly double cycle;
    private readonly List<Ev> events;
    private readonly bool tracing;
    private int eventCount;
    private readonly ResourceCalendar calendar;
    private readonly FirstUse firstUse;

    private TimingSimulator(PerformanceInput input, ProgramAnalysis analysis, TimingPlan plan, Mode mode, bool tracing)
    {
        this.tracing = tracing;
        events = tracing ? new List<Ev>(EventsPerIteration(plan) * Math.Min(input.Batch, 64)) : [];
        this.input = input;
        this.analysis = analysis;
        this.plan = plan;
        contention = mode == Mode.Real;
        isolated = mode == Mode.Isolated;
        arch = input.Arch;
        cycle = arch.CycleNs;
        calendar = new ResourceCalendar(analysis.Mesh.ResourceCount);
        firstUse = new FirstUse(analysis.Mesh.ResourceCount, input.Program.Cores.Length, arch.Core.Crossbars, arch.Core.AdcGroups);
    }

    public static TimingResult Run(PerformanceInput input, ProgramAnalysis analysis) =>
        new TimingSimulator(input, analysis, new TimingPlan(input, analysis), Mode.Real, tracing: true).Run();

    /// <summary>
    /// A run in <paramref name="mode"/>. Without <paramref name="criticalPath"/> the events are
    /// counted but not kept, and the result's critical path is empty: every other figure is the
    /// same (the events only feed the walk back along the path), and a long stream then neither
    /// stores nor copies tens of thousands of events it never reads.
    /// </summary>
    internal static TimingResult Run(PerformanceInput input, ProgramAnalysis analysis, TimingPlan plan, Mode mode, bool criticalPath) =>
        new TimingSimulator(input, analysis, plan, mode, criticalPath).Run();

    /// <summary>Events one iteration of every core's stream records: one per instruction and one more per mvm (its issue) and per send (its transfer).</summary>
    private static int EventsPerIteration(TimingPlan plan)
    {
        int n = 0;
        foreach (TimedOp[] ops in plan.Ops)
        {
            foreach (TimedOp op in ops)
            {
                n += op.Kind is TimedKind.Mvm or TimedKind.Send ? 2 : 1;
            }
        }

        return n;
    }

    private TimingResult Run()
    {
        ImmutableArray<CoreProgram> cores = input.Program.Cores;
        int n = cores.Length, batch = input.Batch, xbs = arch.Core.Crossbars, groups = arch.Core.AdcGroups;
        // A replicated program runs its stream once per period of P samples; an instruction of slot
        // j's section runs in period p only for sample p x P + j < batch (docs/isa.md).
        int period = input.Program.Period, periods = (batch + period - 1) / period;
        int[][] slotOf = [.. cores.Select(c => c.SlotsByPc())];
        var t = new double[n];
        var pc = new int[n];
        var iteration = new int[n];
        for (int s = 0; s < n; s++)
        {
            pc[s] = FirstActive(s, 0);
        }

        var last = new int[n];
        var pending = new List<Pending>[n];
        var xbFree = new double[n, xbs];       // when the crossbar's last mvm ends
        var xbEvent = new int[n, xbs];
        var xbBefore = new double[n, xbs];     // when the mvm before that one ended: its input register is free again
        var xbBeforeEvent = new int[n, xbs];
        var coreBusy = new double[n];
        var xbBusy = new double[n, xbs];
        var adcFree = new double[n, groups];
        var adcEvent = new int[n, groups];
        var adcBusy = new double[n, groups];
        var finish = new double[batch];
        var finishEvent = new int[batch];
        var channels = new Queue<(double Arrival, int Event)>?[plan.Channels];
        var waiting = new int[plan.Channels]; // the core slot blocked in a recv on the channel, or -1
        Array.Fill(waiting, -1);
        for (int s = 0; s < n; s++)
        {
            last[s] = -1;
            pending[s] = [];
            for (int x = 0; x < xbs; x++)
            {
                xbEvent[s, x] = xbBeforeEvent[s, x] = -1;
            }

            for (int g = 0; g < groups; g++)
            {
                adcEvent[s, g] = -1;
            }
        }

        Array.Fill(finishEvent, -1);
        var ready = new PriorityQueue<int, (double, int)>(n, EarliestCore.Instance);
        for (int s = 0; s < n; s++)
        {
            ready.Enqueue(s, (0, s));
        }

        long processed = 0;
        // The core with the earliest clock goes next. A core that goes on is put back and the
        // earliest taken in one step (EnqueueDequeue), which returns it at once when it is still
        // the earliest: no two entries tie, as each core is in the queue at most once.
        bool blocked = false;
        for (bool running = ready.TryDequeue(out int s, out _); running; running = !blocked && Advance(s) ? PutBack(ref s) : ready.TryDequeue(out s, out _))
        {
            blocked = false;
            if (contention && ++processed % 4096 == 0)
            {
                // Every later request comes from a core at or after its clock: older intervals cannot matter.
                calendar.Forget(Enumerable.Range(0, n).Where(c => iteration[c] < periods).Select(c => t[c]).DefaultIfEmpty(0).Min());
            }

            CoreProgram core = cores[s];
            TimedOp op = plan.Ops[s][pc[s]];
            double start = t[s];
            int pred = last[s];
            WaitForMvms(pending[s], op, ref start, ref pred);

            double end;
            Kind kind;
            switch (op.Kind)
            {
                case TimedKind.Mvm:
                    {
                        int xb = op.Xb, g = op.Group;

                        // Two input registers: the mvm issues once the one its crossbar used two mvms ago is free.
                        if (xbBefore[s, xb] > start)
                        {
                            (start, pred) = (xbBefore[s, xb], xbBeforeEvent[s, xb]);
                        }

                        int issue = Add(new Ev(core.Core, pc[s], Kind.Issue, start, start + cycle, pred, -1));
                        bool follows = xbEvent[s, xb] >= 0;
                        bool continues = follows && start <= xbFree[s, xb] + Eps;
                        double begin = Math.Max(start, follows ? xbFree[s, xb] : 0);
                        int cause = follows && xbFree[s, xb] > start ? xbEvent[s, xb] : issue;
                        double previous = follows ? xbFree[s, xb] : isolated ? 0 : double.NaN; // isolated: the stream may have left the pipeline full
                        double done = MvmEnd(op, begin, continues, previous, adcFree[s, g], out double adcStart);
                        if (done > begin + ((op.Slices + (continues ? 0 : CostModel.FillSlices)) * op.SliceNs) + Eps)
                        {
                            cause = adcEvent[s, g]; // waited for the mvm that held the ADCs
                        }

                        int id = Add(new Ev(core.Core, pc[s], Kind.Mvm, begin, done, cause, -1));
                        firstUse.Crossbar[s, xb] = Math.Min(firstUse.Crossbar[s, xb], begin);
                        firstUse.AdcGroup[s, g] = Math.Min(firstUse.AdcGroup[s, g], adcStart);
                        (adcFree[s, g], adcEvent[s, g]) = (adcStart + (op.Slices * op.ConvertNs), id);
                        adcBusy[s, g] += op.Slices * op.ConvertNs;
                        (xbBefore[s, xb], xbBeforeEvent[s, xb]) = (xbFree[s, xb], xbEvent[s, xb]);
                        (xbFree[s, xb], xbEvent[s, xb]) = (done, id);
                        xbBusy[s, xb] += done - begin;
                        pending[s].Add(new Pending(op.Output, done, id));
                        (last[s], t[s]) = (issue, start + cycle); // the core goes on while the crossbar works
                        coreBusy[s] += cycle;
                        continue;
                    }

                case TimedKind.Memory:
                    {
                        int bus = analysis.Mesh.Bus(analysis.Mesh.TileOf(core.Core));
                        double beats = plan.BeatsNs(op.Bits, arch.Tile.BusBits);
                        double begin = Reserve(bus, start, beats).Start;
                        end = begin + beats + plan.BufferLatencyNs;
                        kind = Kind.Memory;
                        break;
                    }

                case TimedKind.Send:
                    {
                        end = start + op.CoreNs; // the network interface streams the words; their time is on the bus and links
                        int id = Add(new Ev(core.Core, pc[s], Kind.Send, start, end, pred, -1));
                        double arrival = isolated ? end : Transfer(op.Hops, end);
                        int transfer = Add(new Ev(core.Core, pc[s], Kind.Transfer, end, arrival, id, op.Message!.To));
                        (channels[op.Channel] ??= new()).Enqueue((arrival, transfer));
                        if (waiting[op.Channel] is int receiver and >= 0)
                        {
                            waiting[op.Channel] = -1;
                            ready.Enqueue(receiver, (t[receiver], receiver));
                        }

                        coreBusy[s] += end - start;
                        (last[s], t[s]) = (id, end);
                        continue;
                    }

                case TimedKind.Recv:
                    {
                        if (isolated)
                        {
                            end = start + op.CoreNs;
                            kind = Kind.Recv;
                            break;
                        }

                        if (channels[op.Channel] is not { Count: > 0 } q)
                        {
                            waiting[op.Channel] = s; // resumes when the matching send puts it back (pc stays at the recv)
                            blocked = true;
                            continue;
                        }

                        (double arrival, int transfer) = q.Dequeue();
                        if (arrival > start)
                        {
                            (start, pred) = (arrival, transfer);
                        }

                        end = start + op.CoreNs; // the words were written as they arrived
                        kind = Kind.Recv;
                        break;
                    }

                default:
                    end = start + op.CoreNs;
                    kind = op.Kind == TimedKind.Control ? Kind.Control : Kind.Alu;
                    break;
            }

            int e = Add(new Ev(core.Core, pc[s], kind, start, end, pred, -1));
            coreBusy[s] += end - start;
            (last[s], t[s]) = (e, end);
            // A sample ends when the last instruction of its sections ends; a halt (run for every
            // sample) ends the period's last sample, so the makespan covers every halt.
            int slot = slotOf[s][pc[s]];
            int sample = slot >= 0 ? (iteration[s] * period) + slot : op.Halts ? Math.Min(batch, (iteration[s] + 1) * period) - 1 : -1;
            if (sample >= 0 && (op.Halts || period > 1) && end >= finish[sample])
            {
                (finish[sample], finishEvent[sample]) = (end, e);
            }
        }

        // Moves core s past the instruction it ran; false when it has run its last iteration.
        bool Advance(int s)
        {
            pc[s] = FirstActive(s, pc[s] + 1);
            if (pc[s] == cores[s].Code.Length)
            {
                if (++iteration[s] == periods)
                {
                    return false;
                }

                pc[s] = FirstActive(s, 0);
            }

            return true;
        }

        // Puts core s back by its clock and takes the earliest core into s.
        bool PutBack(ref int s)
        {
            s = ready.EnqueueDequeue(s, (t[s], s));
            return true;
        }

        // The first instruction from `from` that runs in the core's current period (the code's length if none).
        int FirstActive(int s, int from)
        {
            int[] slots = slotOf[s];
            int limit = batch - (iteration[s] * period);
            while (from < slots.Length && slots[from] >= limit)
            {
                from++;
            }

            return from;
        }

        if (iterationDone(iteration, periods) is int stuck)
        {
            throw new Diagnostics.CimcException(PerformanceInput.Code, $"core {cores[stuck].Core}",
                $"the timing simulation deadlocked at pc {pc[stuck]} ({cores[stuck].Code[pc[stuck]]}); the functional simulator would report the same program as deadlocked");
        }

        double makespan = finish.Max();
        // N inferences from an idle chip: every resource does N inferences' work within the makespan,
        // which is what makes the resource bounds of TimingBounds true bounds of this figure.
        double throughput = batch / (makespan * 1e-9);
        (string busiest, double utilization) = Busiest(cores, coreBusy, xbBusy, adcBusy, makespan);
        double xbTotal = 0;
        foreach (double b in xbBusy)
        {
            xbTotal += b;
        }

        (ImmutableArray<PathStep> path, ImmutableDictionary<string, double> byKind) = tracing ? CriticalPath(finishEvent[0]) : ([], ImmutableDictionary<string, double>.Empty);
        return new TimingResult(finish[0], makespan, throughput, [.. finish], busiest, utilization, xbTotal, path, byKind, [.. t]) { FirstUse = firstUse };

        static int? iterationDone(int[] iterations, int batch)
        {
            int i = Array.FindIndex(iterations, it => it < batch);
            return i < 0 ? null : i;
        }
    }

    /// <summary>
    /// The ready queue's order, earliest clock first and the lower core slot on a tie: the same order
    /// as the tuples' own comparison, written out so that the queue calls it directly.
    /// </summary>
    private sealed class EarliestCore : IComparer<(double Time, int Core)>
    {
        public static readonly EarliestCore Instance = new();

        public int Compare((double Time, int Core) x, (double Time, int Core) y)
        {
            int c = x.Time.CompareTo(y.Time);
            return c != 0 ? c : x.Core.CompareTo(y.Core);
        }
    }

    /// <summary>
    /// Delays an instruction until the mvms in flight whose outputs it touches have ended: it reads
    /// or writes words they accumulate into (read-after-write, write-after-write). Another mvm's
    /// accumulation into the same words commutes and does not wait; an mvm's inputs were copied into
    /// its crossbar's input register when it issued, so overwriting them does not wait either
    /// (write-after-read). <c>halt</c> waits for every mvm: the inference ends when its results are in memory.
    /// </summary>
    private static void WaitForMvms(List<Pending> pending, TimedOp op, ref double start, ref int pred)
    {
        int kept = 0;
        double now = start;
        for (int k = 0; k < pending.Count; k++)
        {
            Pending p = pending[k];
            if (p.End <= now)
            {
                continue; // ended before this instruction could start: drop it
            }

            pending[kept++] = p;
            if (p.End > start && (op.Halts || Touches(op, p.Dst)))
            {
                (start, pred) = (p.End, p.Event);
            }
        }

        pending.RemoveRange(kept, pending.Count - kept);
    }

    private static bool Touches(TimedOp op, MemoryAccess dst)
    {
        if (dst.Addr >= op.WaitSpan.To || op.WaitSpan.From >= dst.End)
        {
            return false; // no access it waits on reaches the mvm's output
        }

        foreach (MemoryAccess a in op.Waits)
        {
            if (a.Overlaps(dst))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// When an mvm starting at <paramref name="begin"/> ends. Its K' slices go through a read ->
    /// convert pipeline: read stage <c>(K' + f) x read</c>; the group's ADCs convert from
    /// <c>max(begin, group free)</c> for <c>(K' + f) x convert</c>, where the fill f is 2 slices,
    /// or 0 when it continues the pipeline of the mvm before it on the crossbar. Without
    /// contention the ADCs are free and the fill is charged only if the mvm could not have continued
    /// (the least of the two cases), so the end is never later than with contention.
    /// </summary>
    private double MvmEnd(TimedOp op, double begin, bool continues, double previousEnd, double groupFree, out double adcStart)
    {
        double k = op.Slices, fill = continues ? 0 : CostModel.FillSlices;
        if (!contention)
        {
            adcStart = begin;
            double alone = begin + ((k + CostModel.FillSlices) * op.SliceNs);
            return double.IsNaN(previousEnd) ? alone : Math.Max(begin + (k * op.SliceNs), Math.Min(alone, previousEnd + (k * op.SliceNs)));
        }

        adcStart = Math.Max(begin, groupFree);
        return Math.Max(begin + ((k + fill) * op.ReadNs), adcStart + ((k + fill) * op.ConvertNs));
    }

    /// <summary>A bus or link from <paramref name="earliest"/>: the earliest gap in the real run; at once without contention.</summary>
    private (double Start, double End) Reserve(int resource, double earliest, double hold, double until = 0)
    {
        (double Start, double End) held = contention ? calendar.Reserve(resource, earliest, hold, until) : (earliest, Math.Max(earliest + hold, until));
        firstUse.Network[resource] = Math.Min(firstUse.Network[resource], held.Start);
        return held;
    }

    /// <summary>Records an event (when tracing) and returns its id; ids count up either way, as the crossbars' and ADC groups' "has run an mvm" tests read them.</summary>
    private int Add(Ev e)
    {
        if (tracing)
        {
            events.Add(e);
        }

        return eventCount++;
    }
}
