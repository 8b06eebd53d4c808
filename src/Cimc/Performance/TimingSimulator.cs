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
    ImmutableDictionary<string, double> CriticalPathNs);

/// <summary>
/// Event-driven timing of a compiled program (docs/cost-model.md section 3). Each core runs its
/// straight-line stream <c>batch</c> times in a row (one inference after another, so layers on
/// different cores pipeline); the core with the earliest clock goes next, so shared resources are
/// granted in time order. An <c>mvm</c> issues in one cycle and keeps its crossbar busy for
/// <see cref="CostModel.MvmNs"/>; crossbars of a core run concurrently (each has its own DACs),
/// except that crossbars sharing an ADC group take turns on its ADCs (an mvm's conversions start
/// when the previous mvm's on that group are done), and any other instruction waits until the
/// core's outstanding mvms finish. A <c>send</c>
/// never blocks; its message occupies each resource of its route while it serializes
/// (<see cref="Mesh"/>); a <c>recv</c> waits for it.
/// </summary>
public sealed partial class TimingSimulator
{
    private enum Kind : byte { Control, Alu, Memory, Mvm, Send, Recv, Transfer }

    private record struct Ev(int Core, int Pc, Kind Kind, double Start, double End, int Pred, int To);

    private readonly PerformanceInput input;
    private readonly ProgramAnalysis analysis;
    private readonly Architecture arch;
    private readonly double cycle;
    private readonly double step;
    private readonly List<Ev> events = [];
    private readonly double[] resourceFree;
    private readonly double[] resourceBusy;

    private TimingSimulator(PerformanceInput input, ProgramAnalysis analysis)
    {
        this.input = input;
        this.analysis = analysis;
        arch = input.Arch;
        cycle = arch.CycleNs;
        step = Math.Max(cycle, input.Costs.LocalMemory.AccessLatencyNs);
        resourceFree = new double[analysis.Mesh.ResourceCount];
        resourceBusy = new double[analysis.Mesh.ResourceCount];
    }

    public static TimingResult Run(PerformanceInput input, ProgramAnalysis analysis) => new TimingSimulator(input, analysis).Run();

    private double VectorNs(long len) => cycle + (Math.Ceiling((double)len / arch.Core.VectorLanes) * step);

    private TimingResult Run()
    {
        ImmutableArray<CoreProgram> cores = input.Program.Cores;
        int n = cores.Length, batch = input.Batch, lanesPerBus = arch.Tile.BusBits;
        var t = new double[n];
        var pc = new int[n];
        var iteration = new int[n];
        var last = new int[n];
        var mvmDone = new double[n];
        var mvmEvent = new int[n];
        var xbFree = new double[n, arch.Core.Crossbars];
        var xbEvent = new int[n, arch.Core.Crossbars];
        var coreBusy = new double[n];
        var xbBusy = new double[n, arch.Core.Crossbars];
        var adcFree = new double[n, arch.Core.AdcGroups];
        var adcEvent = new int[n, arch.Core.AdcGroups];
        var finish = new double[batch];
        var finishEvent = new int[batch];
        var channels = new Dictionary<(int, int, int), Queue<(double Arrival, int Event)>>();
        var waiting = new Dictionary<(int, int, int), int>();
        var slotOf = new Dictionary<int, int>();
        for (int s = 0; s < n; s++)
        {
            slotOf[cores[s].Core] = s;
            last[s] = mvmEvent[s] = -1;
            for (int x = 0; x < arch.Core.Crossbars; x++)
            {
                xbEvent[s, x] = -1;
            }

            for (int g = 0; g < arch.Core.AdcGroups; g++)
            {
                adcEvent[s, g] = -1;
            }
        }

        Array.Fill(finishEvent, -1);
        var ready = new PriorityQueue<int, (double, int)>();
        for (int s = 0; s < n; s++)
        {
            ready.Enqueue(s, (0, s));
        }

        while (ready.TryDequeue(out int s, out _))
        {
            CoreProgram core = cores[s];
            Instruction i = core.Code[pc[s]];
            double start = t[s];
            int pred = last[s];
            if (i.Opcode != Opcode.Mvm && mvmDone[s] > start)
            {
                (start, pred) = (mvmDone[s], mvmEvent[s]);
            }

            double end;
            Kind kind;
            switch (i.Opcode)
            {
                case Opcode.Mvm:
                    {
                        int xb = (int)i["xb"];
                        if (xbFree[s, xb] > start)
                        {
                            (start, pred) = (xbFree[s, xb], xbEvent[s, xb]);
                        }

                        // The group's ADCs convert for one mvm after another, in issue order (section 3).
                        int g = arch.Core.AdcGroupOf(xb);
                        double slices = CostModel.Slices(arch, i), convert = CostModel.ConvertNs(arch, i["cols"]);
                        double adcStart = Math.Max(start, adcFree[s, g]);
                        double done = Math.Max(start + ((slices + 2) * CostModel.ReadNs(arch)), adcStart + ((slices + 2) * convert));
                        if (done > start + CostModel.MvmNs(arch, i) + 1e-9)
                        {
                            pred = adcEvent[s, g]; // waited for the mvm that held the ADCs
                        }

                        int id = Add(new Ev(core.Core, pc[s], Kind.Mvm, start, done, pred, -1));
                        (adcFree[s, g], adcEvent[s, g]) = (adcStart + (slices * convert), id);
                        (xbFree[s, xb], xbEvent[s, xb]) = (done, id);
                        xbBusy[s, xb] += done - start;
                        if (done >= mvmDone[s])
                        {
                            (mvmDone[s], mvmEvent[s]) = (done, id);
                        }

                        last[s] = id;
                        t[s] = start + cycle; // the core goes on while the crossbar works
                        coreBusy[s] += cycle;
                        Advance(s);
                        continue;
                    }

                case Opcode.Load or Opcode.Store:
                    {
                        long bits = i["len"] * (i.Opcode == Opcode.Load ? analysis.InputBits : analysis.StoreBits[(core.Core, pc[s])]);
                        int bus = analysis.Mesh.Bus(analysis.Mesh.TileOf(core.Core));
                        double beats = Math.Ceiling((double)bits / lanesPerBus) * cycle;
                        double begin = Math.Max(start, resourceFree[bus]);
                        resourceFree[bus] = begin + beats;
                        resourceBusy[bus] += beats;
                        end = begin + beats + input.Costs.TileBuffer.AccessLatencyNs;
                        kind = Kind.Memory;
                        break;
                    }

                case Opcode.Send:
                    {
                        end = start + cycle; // the network interface streams the words; their time is on the bus and links
                        int id = Add(new Ev(core.Core, pc[s], Kind.Send, start, end, pred, -1));
                        Message m = analysis.Messages[(core.Core, pc[s])];
                        double arrival = Transfer(m, end);
                        int transfer = Add(new Ev(core.Core, pc[s], Kind.Transfer, end, arrival, id, m.To));
                        var key = (core.Core, m.To, m.Tag);
                        (channels.TryGetValue(key, out var q) ? q : channels[key] = new()).Enqueue((arrival, transfer));
                        if (waiting.Remove(key, out int receiver))
                        {
                            ready.Enqueue(receiver, (t[receiver], receiver));
                        }

                        coreBusy[s] += end - start;
                        (last[s], t[s]) = (id, end);
                        Advance(s);
                        continue;
                    }

                case Opcode.Recv:
                    {
                        var key = ((int)i["core"], core.Core, (int)i["tag"]);
                        if (!channels.TryGetValue(key, out var q) || q.Count == 0)
                        {
                            waiting[key] = s; // resumes when the matching send happens
                            continue;
                        }

                        (double arrival, int transfer) = q.Dequeue();
                        if (arrival > start)
                        {
                            (start, pred) = (arrival, transfer);
                        }

                        end = start + cycle; // the words were written as they arrived
                        kind = Kind.Recv;
                        break;
                    }

                case Opcode.Nop or Opcode.Halt:
                    end = start + cycle;
                    kind = Kind.Control;
                    break;
                default:
                    end = start + (i.Opcode == Opcode.Set ? cycle : VectorNs(i["len"]));
                    kind = Kind.Alu;
                    break;
            }

            int e = Add(new Ev(core.Core, pc[s], kind, start, end, pred, -1));
            coreBusy[s] += end - start;
            (last[s], t[s]) = (e, end);
            if (i.Opcode == Opcode.Halt && end >= finish[iteration[s]])
            {
                (finish[iteration[s]], finishEvent[iteration[s]]) = (end, e);
            }

            Advance(s);
        }

        void Advance(int s)
        {
            if (++pc[s] == cores[s].Code.Length)
            {
                pc[s] = 0;
                if (++iteration[s] == batch)
                {
                    return;
                }
            }

            ready.Enqueue(s, (t[s], s));
        }

        if (iterationDone(iteration, batch) is int stuck)
        {
            throw new Diagnostics.CimcException(PerformanceInput.Code, $"core {cores[stuck].Core}",
                $"the timing simulation deadlocked at pc {pc[stuck]} ({cores[stuck].Code[pc[stuck]]}); the functional simulator would report the same program as deadlocked");
        }

        double makespan = finish.Max();
        double throughput = batch > 1 ? (batch - 1) / ((finish[^1] - finish[0]) * 1e-9) : 1 / (finish[0] * 1e-9);
        (string busiest, double utilization) = Busiest(cores, coreBusy, xbBusy, makespan);
        double xbTotal = 0;
        foreach (double b in xbBusy)
        {
            xbTotal += b;
        }

        (ImmutableArray<PathStep> path, ImmutableDictionary<string, double> byKind) = CriticalPath(finishEvent[0]);
        return new TimingResult(finish[0], makespan, throughput, [.. finish], busiest, utilization, xbTotal, path, byKind);

        static int? iterationDone(int[] iterations, int batch)
        {
            int i = Array.FindIndex(iterations, it => it < batch);
            return i < 0 ? null : i;
        }
    }

    private int Add(Ev e)
    {
        events.Add(e);
        return events.Count - 1;
    }
}
