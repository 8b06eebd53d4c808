using System.Collections.Immutable;
using System.Diagnostics;
using Cimc.Diagnostics;
using Cimc.Ir;
using Cimc.Isa;
using Cimc.Mapping;
using Cimc.Placement;
using Cimc.Quantization;

namespace Cimc.Passes;

/// <summary>
/// How to run the pipeline: an optimization level (or an explicit pass list), a placement choice
/// that replaces the level's, whether to verify between stages, and which pass's IR to hand to
/// <see cref="Dump"/>. Verification is on by default for library callers (tests, benchmarks);
/// the command line turns it on with --verify.
/// </summary>
public sealed record CompileSettings
{
    public static CompileSettings Default { get; } = new();

    public OptLevel Level { get; init; } = Pipelines.Default;

    public PlacementChoice? Placement { get; init; }

    /// <summary>Weight replication; null keeps the level's (replicate-minmax at -O3, none below).</summary>
    public ReplicationChoice? Replication { get; init; }

    /// <summary>The crossbars replication may fill.</summary>
    public ReplicationBudget ReplicationBudget { get; init; } = ReplicationBudget.WholeChip;

    /// <summary>The input bit-slice split (--slice-split); null keeps the level's (none at every level).</summary>
    public SliceSplitChoice? SliceSplit { get; init; }

    /// <summary>An explicit pass list; overrides <see cref="Level"/> and <see cref="Placement"/>.</summary>
    public ImmutableArray<Pass>? Passes { get; init; }

    public bool Verify { get; init; } = true;

    /// <summary>Estimate latency and throughput with the timing model after each pass from placement on (for summary.json; costs one emit and timing run per pass).</summary>
    public bool Estimate { get; init; }

    /// <summary>The batch the throughput estimates stream.</summary>
    public int EstimateBatch { get; init; } = 16;

    /// <summary>Which passes <see cref="Estimate"/> prices: every pass from placement on, or only the last.</summary>
    public PassEstimates PassEstimates { get; init; } = PassEstimates.Auto;

    public string? DumpAfter { get; init; }

    /// <summary>Receives the text form of the IR after <see cref="DumpAfter"/>.</summary>
    public Action<string>? Dump { get; init; }

    /// <summary>Seed of the searches (annealing).</summary>
    public int Seed { get; init; } = 1;

    /// <summary>
    /// Size the node after mapping (<c>--chips auto</c>): the fewest chips of the architecture that
    /// hold the mapped network, replacing the architecture's chip count (<see cref="Compiler.Compile(Ir.Graph, Architecture, QuantizationOptions, CalibrationSource?, CompileStage, Action{CompileStage}?, CompileSettings?)"/>).
    /// </summary>
    public bool AutoChips { get; init; }

    /// <summary>What to do with a network the node cannot hold (`--when-too-large`); the default refuses it naming what each choice would need.</summary>
    public WhenTooLarge WhenTooLarge { get; init; } = WhenTooLarge.Explain;

    /// <summary>Whether emit builds the weight image (false for flows that only cost the program: `simulate MODEL`).</summary>
    public bool WeightImage { get; init; } = true;

    public ImmutableArray<Pass> Pipeline() => Passes ?? Pipelines.For(Level, Placement, Replication, SliceSplit);
}

/// <summary>
/// `--when-too-large`: refuse in one line saying what each choice would need (the default), refuse
/// plainly, size a node of chips (as `--chips auto`), or cut the network into segments with weight
/// reloading between them (Reload/Segmentation.cs).
/// </summary>
public enum WhenTooLarge
{
    Explain,
    Fail,
    Multichip,
    Reload,
}

/// <summary>
/// Runs a pass list over a compilation: checks each pass's contract (it needs the stage the
/// compilation is at), runs the verifier after each pass when asked, times each pass, and stops
/// once the requested stage is reached and the next pass would go beyond it.
/// </summary>
public static class PassManager
{
    /// <param name="stageDone">hears of each command-line stage (quantized, mapped, asm) as the pass list reaches it</param>
    public static Compilation Run(Compilation start, PassContext context, CompileSettings settings, IrStage stopAfter = IrStage.Program, Action<CompileStage>? stageDone = null)
    {
        ImmutableArray<Pass> pipeline = settings.Pipeline();
        CheckOrder(pipeline, settings.DumpAfter);
        Compilation c = start;
        // A compilation that arrives quantized (a design-space exploration reuses one quantization
        // across chips) skips the passes that lead up to that stage.
        IrStage stage = start.Mapped is not null ? IrStage.Mapped : start.Quantized is not null ? IrStage.Quantized : IrStage.Graph;
        var applied = ImmutableArray.CreateBuilder<AppliedPass>();
        MeshCost? mesh = null;
        (PlacedModel Placed, Isa.ProgramImage Program, AppliedPass Estimate)? estimated = null;
        Pass? finalPass = pipeline.LastOrDefault(p => p.Produces <= stopAfter);
        foreach (Pass pass in pipeline)
        {
            if (pass.Produces <= stage && pass.Needs < stage)
            {
                continue;
            }

            if (pass.Produces > stopAfter)
            {
                break;
            }

            var clock = Stopwatch.StartNew();
            c = pass.Apply(c, context);
            double ms = clock.Elapsed.TotalMilliseconds;
            if (pass.Produces != stage && pass.Produces != IrStage.Mapped)
            {
                stageDone?.Invoke(pass.Produces switch { IrStage.Quantized => CompileStage.Quantized, IrStage.Placed => CompileStage.Mapped, IrStage.Scheduled => CompileStage.Schedule, _ => CompileStage.Asm });
            }

            stage = pass.Produces;
            if (settings.Verify)
            {
                Verifier.Check(c, stage, pass.Name);
            }

            var record = new AppliedPass(pass.Name, ms);
            if (pass.Name == PassCatalog.SplitSlices.Name && c.Mapped is { } split)
            {
                record = record with { SliceCopies = [.. split.Layers.Select(l => l.SliceCopies)] };
            }
            else if (pass.Needs == IrStage.Mapped && pass.Produces == IrStage.Mapped && c.Mapped is { } replicated)
            {
                record = record with
                {
                    Replicas = [.. replicated.Layers.Select(l => l.Replicas)],
                    EstimatedInferencesPerSecond = replicated.EstimatedStageNs is > 0 and double slowest ? 1e9 / slowest : null,
                };
            }

            if (c.Placed is { } placed && stage >= IrStage.Placed)
            {
                mesh ??= new MeshCost(context.Architecture);
                PlacementCost cost = mesh.Evaluate(SlotTraffic.Of(placed.Mapped, placed.Chip.CrossbarsPerCore), SlotsToCores(placed));
                record = record with { TrafficHops = cost.TrafficHops, BusiestLinkWords = cost.BusiestLink };
            }

            if (settings.Estimate && stage >= IrStage.Placed && Prices(settings.PassEstimates, c.Placed!, pass == finalPass))
            {
                // A placed model is estimated as the straight schedule of what the passes so far chose.
                // A pass that leaves the program as it was (emit after schedule) keeps the estimate
                // it had: the timing runs are most of a large model's compile time.
                Compilation program = PassCatalog.ToProgram(c, context with { WeightImage = false });
                if (estimated is { } last && ReferenceEquals(last.Placed, c.Placed) && last.Program.Equals(program.Program))
                {
                    record = record with { LatencyNs = last.Estimate.LatencyNs, InferencesPerSecond = last.Estimate.InferencesPerSecond, LowerBoundLatencyNs = last.Estimate.LowerBoundLatencyNs, UpperBoundInferencesPerSecond = last.Estimate.UpperBoundInferencesPerSecond };
                }
                else
                {
                    Performance.PerformanceReport one = Performance.PerformanceReport.Evaluate(Performance.PerformanceInputs.For(program, 1), c.Graph.Name);
                    Performance.PerformanceReport many = Performance.PerformanceReport.Evaluate(Performance.PerformanceInputs.For(program, settings.EstimateBatch), c.Graph.Name);
                    record = record with { LatencyNs = one.LatencyNs, InferencesPerSecond = many.ThroughputPerS, LowerBoundLatencyNs = one.LowerBoundLatencyNs, UpperBoundInferencesPerSecond = many.UpperBoundThroughputPerS };
                }

                estimated = (c.Placed!, program.Program!, record);
            }

            applied.Add(record);
            if (pass.Name == settings.DumpAfter)
            {
                settings.Dump?.Invoke(Text(c, stage));
            }
        }

        return c with { Passes = applied.ToImmutable() };
    }

    /// <summary>Whether a pass gets its own estimate (<see cref="PassEstimates"/>).</summary>
    private static bool Prices(PassEstimates scope, PlacedModel placed, bool final) => scope switch
    {
        PassEstimates.All => true,
        PassEstimates.Final => final,
        // Two timing runs of a billion-weight network's program take longer than compiling it:
        // Auto leaves them to `cimc simulate` there.
        _ when placed.Mapped.ReplicatedCrossbars > PassEstimateLimits.FinalCrossbars => false,
        _ when final => true,
        // A convolutional network's program runs every layer once per output pixel, so a timing run
        // costs far more per crossbar than a dense chain's: Auto prices only its last pass.
        _ => placed.Mapped.Model.Graph is null && placed.Mapped.ReplicatedCrossbars <= PassEstimateLimits.EveryPassCrossbars,
    };

    /// <summary>Each pass must read the stage the previous one left; a dump must name a pass of the list.</summary>
    private static void CheckOrder(ImmutableArray<Pass> pipeline, string? dumpAfter)
    {
        IrStage stage = IrStage.Graph;
        foreach (Pass pass in pipeline)
        {
            if (pass.Needs != stage)
            {
                throw new CimcException("bad-option", "--passes",
                    $"pass '{pass.Name}' needs the {Name(pass.Needs)} IR but runs after the {Name(stage)} IR (order: {string.Join(",", pipeline.Select(p => p.Name))})");
            }

            stage = pass.Produces;
        }

        if (stage != IrStage.Program)
        {
            throw new CimcException("bad-option", "--passes", $"the pass list ends at the {Name(stage)} IR; it must end with emit");
        }

        if (dumpAfter is not null && !pipeline.Any(p => p.Name == dumpAfter))
        {
            throw new CimcException("bad-option", "--dump-after", $"pass '{dumpAfter}' is not in the pipeline ({string.Join(",", pipeline.Select(p => p.Name))})");
        }
    }

    private static string Name(IrStage stage) => stage.ToString().ToLowerInvariant();

    /// <summary>The core of each slot of a placed model (slots layer by layer, as <see cref="Placer.Assign"/> numbers them).</summary>
    private static int[] SlotsToCores(PlacedModel placed) => [.. placed.Layers.SelectMany(l => l.Cores)];

    /// <summary>The text form of a stage's IR (the same printers as --emit).</summary>
    public static string Text(Compilation c, IrStage stage) => stage switch
    {
        IrStage.Graph => GraphPrinter.Print(c.Graph),
        IrStage.Quantized => QuantizedPrinter.Print(c.Quantized!),
        IrStage.Mapped => MappedPrinter.Print(c.Mapped!),
        IrStage.Placed => MappedPrinter.Print(c.Placed!) + $"lowering: reduction {(c.Placed!.Lowering.ReductionTree ? "tree" : "chain")}, broadcast {c.Placed.Lowering.Broadcast.ToString().ToLowerInvariant()}\n",
        IrStage.Scheduled => Scheduling.SchedulePrinter.Print(c.Schedule!),
        _ => Disassembler.Disassemble(c.Program!),
    };
}

/// <summary>
/// Which passes get a timing estimate in summary.json. Each estimate is a timing run of the program
/// the passes so far would emit, about a second per pass for a 100 M-weight network, most of its
/// compile; <see cref="Auto"/> prices every pass while the network holds at most
/// <see cref="PassEstimateLimits.EveryPassCrossbars"/> crossbars and only the last one above that
/// or for a convolutional network (whose per-pixel program makes each timing run long), and none
/// above <see cref="PassEstimateLimits.FinalCrossbars"/> (a billion weights: `cimc simulate` prices it).
/// </summary>
public enum PassEstimates
{
    Auto,
    All,
    Final,
}

/// <summary>Where <see cref="PassEstimates.Auto"/> switches from every pass to the last.</summary>
public static class PassEstimateLimits
{
    /// <summary>Crossbars above which Auto prices only the last pass (MLP-L4 on puma uses 2,624).</summary>
    public const int EveryPassCrossbars = 8192;

    /// <summary>Crossbars above which Auto prices no pass (a 134 M-weight MLP on puma uses 32,768; 1 B weights 262,144).</summary>
    public const int FinalCrossbars = 65536;
}
