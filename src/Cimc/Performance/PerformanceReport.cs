using System.Collections.Immutable;
using Cimc.Architectures;
using Cimc.Isa;

namespace Cimc.Performance;

/// <summary>
/// The figures of a point that a design-space exploration stores (<see cref="PerformanceReport.Objectives"/>),
/// named as in the report: the eight the estimator also gives (<see cref="Estimate"/>, one record for
/// both fidelities) and the latency's lower bound, which only a program has.
/// </summary>
public sealed record PerformanceObjectives(Estimate Figures, double LowerBoundLatencyNs);

/// <summary>One line of the energy account in report.json: count x pJ per event = pJ.</summary>
public sealed record EnergyLine(string Component, string Event, long Count, double CostPj, double EnergyPj);

/// <summary>Per-layer figures: where it sits, what it does, what its cores spend (dynamic energy).</summary>
public sealed record LayerReport(
    string Name,
    int InFeatures,
    int OutFeatures,
    ImmutableArray<int> Cores,
    ImmutableArray<int> CrossbarsPerCore,
    long Mvms,
    long AdcConversions,
    double MvmNs,
    double LowerBoundNs,
    double EnergyNj);

/// <summary>
/// Everything `cimc simulate` reports (report.json; field names are a contract: latency_ns,
/// throughput_per_s, energy_nj, energy_breakdown_nj, area_mm2, area_breakdown_mm2, counts,
/// lower_bound_latency_ns, ...). Every energy figure is a count times a cost from the architecture
/// (energy_lines), plus leakage: energy_nj is one inference on an idle chip (batch 1, independent
/// of --batch; each used core leaks until it halts, leakage_breakdown_nj),
/// energy_per_inference_steady_nj the streamed figure at --batch N (leakage_power_mw x makespan / N). throughput_per_s is
/// N / makespan of a stream of N = batch inferences (bounded by upper_bound_throughput_per_s);
/// steady_throughput_per_s is (N - 1) / (finish_N - finish_1); *_limit name what sets each bound.
/// </summary>
public sealed record PerformanceReport(
    string Model,
    string Arch,
    int Batch,
    double LatencyNs,
    double ThroughputPerS,
    double LowerBoundLatencyNs,
    double UpperBoundThroughputPerS,
    double MakespanNs,
    double EnergyNj,
    Dictionary<string, double> EnergyBreakdownNj,
    ImmutableArray<EnergyLine> EnergyLines,
    double LeakagePowerMw,
    Dictionary<string, double> LeakageBreakdownMw,
    double AreaMm2,
    Dictionary<string, double> AreaBreakdownMm2,
    Dictionary<string, long> Counts,
    long Macs,
    double TopsPerW,
    double TopsPerMm2,
    double CrossbarUtilization,
    double AdcUtilization,
    int CoresUsed,
    int CrossbarsUsed,
    string BusiestResource,
    double BusiestUtilization,
    Dictionary<string, double> CriticalPathNs,
    ImmutableArray<PathStep> CriticalPath,
    ImmutableArray<LayerReport> Layers,
    string LowerBoundLimit,
    string UpperBoundThroughputLimit,
    double SteadyThroughputPerS)
{
    /// <summary>The chip's peak figures from the architecture alone (report.json `peak`, docs/cost-model.md section 4).</summary>
    public PeakMetrics? Peak { get; init; }

    /// <summary>
    /// Energy per inference when <see cref="Batch"/> inferences stream through: the same dynamic
    /// energy as <see cref="EnergyNj"/> (one inference on an idle chip), with all the used hardware
    /// leaking for makespan / batch (the cores stay busy in a stream) instead of each unit until it
    /// finishes its part of one inference; at batch 1 it is therefore at least <see cref="EnergyNj"/>.
    /// </summary>
    public double EnergyPerInferenceSteadyNj { get; init; }

    /// <summary>
    /// The leakage of <see cref="EnergyNj"/> by component (cores, local_memory, tiles, routers): each
    /// used unit's share of <see cref="LeakageBreakdownMw"/> for as long as it is on (<see cref="LeakageTimes"/>).
    /// </summary>
    public Dictionary<string, double> LeakageBreakdownNj { get; init; } = [];

    /// <summary>Area of the cores, tiles and routers the program occupies (<see cref="UsedHardware"/>), beside the chip's <see cref="AreaMm2"/>.</summary>
    public double AreaUsedMm2 { get; init; }

    /// <summary>Throughput ops per second per mm^2 of the hardware used (<see cref="TopsPerMm2"/> divides by the whole chip).</summary>
    public double TopsPerMm2Used { get; init; }

    /// <summary>Chips in the node the program was compiled for (1 for a single chip).</summary>
    public int Chips { get; init; } = 1;

    /// <summary>Bytes per inference carried over chip-to-chip links (a message's bytes once per link it crosses; 0 on one chip).</summary>
    public long OffchipBytes { get; init; }

    /// <summary>Energy per inference of the chip-to-chip links (offchip_bits x node.link.energy_pj_per_bit), also in energy_breakdown_nj.offchip.</summary>
    public double OffchipEnergyNj { get; init; }

    /// <summary>
    /// Every layer's shortest mvm, in sequence (<see cref="TimingBounds.MvmSequenceNs"/>): a lower
    /// bound on the latency that counts the crossbars' time alone, no data movement or vector work.
    /// </summary>
    public double MvmSequenceBoundNs { get; init; }

    /// <summary>Segments of a weight-reloading program (1: the whole network on the node; docs/cost-model.md section 3b).</summary>
    public int Segments { get; init; } = 1;

    /// <summary>Crossbar cells written per batch (every segment's crossbars, rows x cols each); 0 without reloading.</summary>
    public long ReloadCellWrites { get; init; }

    /// <summary>Time per batch spent writing crossbars (each segment's slowest core), ns.</summary>
    public double ReloadWriteNs { get; init; }

    /// <summary>Energy per batch of the crossbar writes, nJ (in energy_breakdown_nj.weight_writes for a batch of one).</summary>
    public double ReloadWriteEnergyNj { get; init; }

    /// <summary>The writes' energy amortized over the batch: reload_write_energy_nj / batch.</summary>
    public double ReloadWriteEnergyPerInferenceNj { get; init; }

    /// <summary>Endurance: writes per inference of the most-written cell (segments that reprogram its crossbar / batch).</summary>
    public double ReloadWritesPerCellPerInference { get; init; }

    /// <summary>Bytes per inference of activations kept in off-chip memory between segments (out and back in).</summary>
    public long ReloadActivationBytes { get; init; }

    /// <summary>What the compile warned about (<see cref="Compilation.Warnings"/>), when the report compiled the model itself.</summary>
    public ImmutableArray<string> Warnings { get; init; } = [];

    /// <summary>Counts, simulates and prices one compiled program (docs/cost-model.md).</summary>
    public static PerformanceReport Evaluate(PerformanceInput input, string model)
    {
        ProgramAnalysis analysis = ProgramAnalysis.Of(input);
        Architecture arch = input.Arch;
        // Latency and its critical path from one inference alone; throughput, utilization and the
        // busiest resource from the stream, where later inferences contend with earlier ones.
        var plan = new TimingPlan(input, analysis);
        TimingResult single = TimingSimulator.Run(input with { Batch = 1 }, analysis, plan, TimingSimulator.Mode.Real, criticalPath: true);
        TimingResult timing = input.Batch == 1 ? single : TimingSimulator.Run(input, analysis, plan, TimingSimulator.Mode.Real, criticalPath: false);
        TimingBounds bounds = TimingBounds.Of(input, analysis, plan);
        EventCounts counts = analysis.Counts;
        Priced p = Price(input, analysis, single);
        ImmutableArray<EnergyTerm> terms = p.Terms;
        UsedHardware used = p.Used;
        ImmutableArray<Share> leakage = p.Leakage;
        double leakageMw = leakage.Sum(l => l.Value);
        ImmutableArray<Share> leakageNj = p.LeakageNj;
        Dictionary<string, double> energy = p.Energy;
        double energyNj = p.EnergyNj;
        double steadyNj = energyNj - energy["leakage"] + (leakageMw * timing.MakespanNs / input.Batch / 1000);

        ImmutableArray<Share> area = p.Area;
        double areaMm2 = p.AreaMm2;
        double areaUsedMm2 = CostModel.UsedArea(arch, used).Sum(a => a.Value);
        double ops = p.Ops;
        var usedCores = p.UsedCores;
        var crossbars = p.Crossbars;
        int adcGroups = crossbars.Select(k => (k.Core, arch.Core.AdcGroupOf(k.Xb))).Distinct().Count();
        double adcCapacity = adcGroups * arch.Core.Adc.PerGroup * timing.MakespanNs / CostModel.Adc(arch).LatencyNs;
        ImmutableArray<LayerReport> layers = LayerReports(input, analysis, plan, crossbars);

        return new PerformanceReport(
            model,
            arch.Name,
            input.Batch,
            single.LatencyNs,
            timing.ThroughputPerS,
            bounds.LatencyNs,
            bounds.ThroughputPerS,
            timing.MakespanNs,
            energyNj,
            energy,
            [.. terms.Select(t => new EnergyLine(t.Component, t.Event, t.Events, t.CostPj, t.EnergyPj))],
            leakageMw,
            leakage.ToDictionary(l => l.Component, l => l.Value),
            areaMm2,
            area.ToDictionary(a => a.Component, a => a.Value),
            counts.Items().ToDictionary(c => c.Name, c => c.Value),
            input.Macs,
            p.TopsPerW,
            p.TopsPerMm2(timing),
            crossbars.Count > 0 ? timing.CrossbarBusyNs / (crossbars.Count * timing.MakespanNs) : 0,
            adcCapacity > 0 ? counts.AdcConversions * (double)input.Batch / adcCapacity : 0,
            usedCores.Count,
            crossbars.Count,
            timing.BusiestResource,
            timing.BusiestUtilization,
            single.CriticalPathNs.OrderByDescending(kv => kv.Value).ToDictionary(kv => kv.Key, kv => kv.Value),
            single.CriticalPath,
            layers,
            bounds.LatencyLimit,
            bounds.ThroughputLimit,
            timing.SteadyThroughputPerS)
        {
            Peak = PeakMetrics.Of(arch),
            MvmSequenceBoundNs = bounds.MvmSequenceNs,
            EnergyPerInferenceSteadyNj = steadyNj,
            LeakageBreakdownNj = leakageNj.ToDictionary(l => l.Component, l => l.Value),
            AreaUsedMm2 = areaUsedMm2,
            TopsPerMm2Used = areaUsedMm2 > 0 ? ops * timing.ThroughputPerS / 1e12 / areaUsedMm2 : 0,
            Chips = arch.Chips,
            OffchipBytes = (counts.OffChipBits + 7) / 8,
            OffchipEnergyNj = energy["offchip"],
        };
    }

    /// <summary>
    /// Single-inference latency alone (<see cref="LatencyNs"/> of <see cref="Evaluate"/>): one timing
    /// run without critical path, nothing priced and no bound; what a pass choosing by latency needs.
    /// </summary>
    public static double SingleLatencyNs(PerformanceInput input)
    {
        PerformanceInput one = input with { Batch = 1 };
        ProgramAnalysis analysis = ProgramAnalysis.Of(one);
        return TimingSimulator.Run(one, analysis, new TimingPlan(one, analysis), TimingSimulator.Mode.Real, criticalPath: false).LatencyNs;
    }

    /// <summary>
    /// The figures a design-space exploration keeps of a point, each computed exactly as
    /// <see cref="Evaluate"/> computes it, without what only the full report shows: the critical
    /// path, the per-layer figures, the stream's throughput bound and the busiest resource's share.
    /// </summary>
    public static PerformanceObjectives Objectives(PerformanceInput input)
    {
        ProgramAnalysis analysis = ProgramAnalysis.Of(input);
        var plan = new TimingPlan(input, analysis);
        TimingResult single = TimingSimulator.Run(input with { Batch = 1 }, analysis, plan, TimingSimulator.Mode.Real, criticalPath: false);
        TimingResult timing = input.Batch == 1 ? single : TimingSimulator.Run(input, analysis, plan, TimingSimulator.Mode.Real, criticalPath: false);
        double lowerBound = TimingBounds.LatencyOf(input, analysis, plan);
        Priced p = Price(input, analysis, single);
        return new PerformanceObjectives(Estimate.Of(single.LatencyNs, timing.ThroughputPerS, p.EnergyNj, p.AreaMm2, p.Crossbars.Count, p.UsedCores.Count, p.Ops), lowerBound);
    }

    /// <summary>What both <see cref="Evaluate"/> and <see cref="Objectives"/> price: energy of one inference on an idle chip, area, the used cores and crossbars.</summary>
    private sealed record Priced(
        ImmutableArray<EnergyTerm> Terms,
        UsedHardware Used,
        List<int> UsedCores,
        ImmutableArray<Share> Leakage,
        ImmutableArray<Share> LeakageNj,
        Dictionary<string, double> Energy,
        double EnergyNj,
        ImmutableArray<Share> Area,
        double AreaMm2,
        double Ops,
        HashSet<(int Core, int Xb)> Crossbars)
    {
        public double TopsPerW => EnergyNj > 0 ? Ops / (EnergyNj * 1e-9) / 1e12 : 0;

        public double TopsPerMm2(TimingResult timing) => AreaMm2 > 0 ? Ops * timing.ThroughputPerS / 1e12 / AreaMm2 : 0;
    }

    private static Priced Price(PerformanceInput input, ProgramAnalysis analysis, TimingResult single)
    {
        Architecture arch = input.Arch;
        ImmutableArray<EnergyTerm> terms = CostModel.Dynamic(arch, analysis.Counts);
        var usedCores = input.Program.Cores.Select(c => c.Core).ToList();
        UsedHardware used = UsedHardware.Of(arch, analysis, usedCores);
        ImmutableArray<Share> leakage = CostModel.LeakageMw(arch, used);
        // energy_nj is one inference on an idle chip, so it comes from the batch-1 run whatever
        // --batch says, each unit leaking until its last core halts (then it can be power-gated);
        // in a stream the cores stay busy, so the used hardware leaks for makespan / N (mW x ns = pJ).
        ImmutableArray<Share> leakageNj = CostModel.LeakageNj(arch, LeakageTimes.Of(arch, analysis, used, single.CoreFinishNs));
        var energy = CostModel.Components.ToDictionary(c => c, c => terms.Where(t => t.Component == c).Sum(t => t.EnergyPj) / 1000);
        energy["leakage"] = leakageNj.Sum(l => l.Value);
        ImmutableArray<Share> area = CostModel.ChipArea(arch);
        return new Priced(terms, used, usedCores, leakage, leakageNj, energy, energy.Values.Sum(), area, area.Sum(a => a.Value), 2.0 * input.Macs, Crossbars(input));
    }

    /// <summary>Every programmed crossbar (core, crossbar): one that some mvm uses.</summary>
    private static HashSet<(int Core, int Xb)> Crossbars(PerformanceInput input) =>
        [.. input.Program.Cores.SelectMany(core => core.Code.Where(i => i.Opcode == Opcode.Mvm).Select(i => (core.Core, (int)i["xb"])))];

    private static ImmutableArray<LayerReport> LayerReports(PerformanceInput input, ProgramAnalysis analysis, TimingPlan plan, HashSet<(int Core, int Xb)> crossbars)
    {
        return [.. input.Layers.Select(layer =>
        {
            var cores = layer.Cores.ToHashSet();
            EventCounts c = EventCounter.Count(input, analysis, cores.Contains);
            double nj = CostModel.Dynamic(input.Arch, c).Sum(t => t.EnergyPj) / 1000;
            var mvms = input.Program.Cores.Where(p => cores.Contains(p.Core)).SelectMany(p => p.Code).Where(i => i.Opcode == Opcode.Mvm).ToList();
            double mvmNs = mvms.Select(i => CostModel.MvmNs(input.Arch, i)).DefaultIfEmpty(0).Max();
            return new LayerReport(layer.Name, layer.InFeatures, layer.OutFeatures, layer.Cores,
                [.. layer.Cores.Select(core => crossbars.Count(k => k.Core == core))],
                c.Mvms, c.AdcConversions, mvmNs, TimingBounds.LayerNs(input, analysis, plan, cores), nj);
        })];
    }
}
