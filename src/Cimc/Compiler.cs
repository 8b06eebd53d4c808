using System.Collections.Immutable;
using Cimc.Architectures;
using Cimc.Codegen;
using Cimc.Data;
using Cimc.Diagnostics;
using Cimc.Ir;
using Cimc.Isa;
using Cimc.Mapping;
using Cimc.Passes;
using Cimc.Placement;
using Cimc.Quantization;
using Cimc.Reload;

namespace Cimc;

/// <summary>The stages of compilation, in order; `--emit` stops after one of them.</summary>
public enum CompileStage
{
    Graph,
    Quantized,
    Mapped,
    Schedule,
    Asm,
}

/// <summary>Everything a compile produced, stage by stage; later stages are null when it stopped early.</summary>
public sealed record Compilation(
    Graph Graph,
    Architecture Architecture,
    LayerChain? Chain = null,
    QuantizedModel? Quantized = null,
    MappedModel? Mapped = null,
    PlacedModel? Placed = null,
    ProgramImage? Program = null,
    WeightImage? Weights = null)
{
    /// <summary>The schedule IR (per-core operations, messages, tags), once scheduled.</summary>
    public Scheduling.Schedule? Schedule { get; init; }

    /// <summary>The passes that ran, in order, with their times and estimates.</summary>
    public ImmutableArray<AppliedPass> Passes { get; init; } = [];

    /// <summary>Where the activation ranges came from (null: the model carried its own quantization).</summary>
    public CalibrationSource? Calibration { get; init; }

    /// <summary>
    /// A weight-reloading compile's segments (`--when-too-large reload`): each a compilation of its
    /// run of layers for the whole node, with its own program and weight image, in order; empty for
    /// a program that holds the whole network. The compilation holding them stops at mapping.
    /// </summary>
    public ImmutableArray<Compilation> Segments { get; init; } = [];

    /// <summary>Which layers each of <see cref="Segments"/> holds.</summary>
    public ImmutableArray<Reload.Segment> SegmentCuts { get; init; } = [];

    /// <summary>True for a weight-reloading compile of several segments.</summary>
    public bool IsSegmented => !Segments.IsEmpty;

    /// <summary>The one program a command needs: a segmented compile is refused in one line naming the command.</summary>
    public ProgramImage SingleProgram(string what) =>
        IsSegmented
            ? throw new CimcException("not-supported", "--when-too-large reload", $"{what} takes a program of one segment; this network was cut into {Segments.Length} segments with weight reloading (use cimc compile, run or simulate, or more chips)")
            : Program ?? throw new InvalidOperationException($"{what} needs a compiled program");

    public CompileSummary Summary() => CompileSummary.Of(this);

    /// <summary>
    /// What the user should know about a compile that worked (one line each, without a "warning:"
    /// prefix): today, an ADC narrower than the mapping needs to be lossless.
    /// </summary>
    public ImmutableArray<string> Warnings() =>
        Mapped is not null && AdcResolution.Warning(Mapped) is string adc ? [adc] : [];
}

/// <summary>
/// The one entry point for compiling a model for a chip: the command line, benchmarks and tests all
/// call it, so a design point is compiled and evaluated in one process. The pipeline, in order:
/// canonicalize -> quantize (calibrated) -> map onto crossbars -> place on cores -> schedule and emit,
/// each a pass of the level's pipeline (Passes/Pipelines.cs), run by <see cref="PassManager"/>.
/// </summary>
public static class Compiler
{
    [System.Runtime.CompilerServices.OverloadResolutionPriority(1)]
    public static Compilation Compile(Graph graph, Architecture arch, QuantizationOptions options, NdArray? calibration, CompileStage stopAfter = CompileStage.Asm,
        CompileSettings? settings = null) =>
        Compile(graph, arch, options, calibration is null ? null : new SampleCalibration(calibration, "the given samples"), stopAfter, settings: settings);

    /// <summary>
    /// Compiles with activation ranges from <paramref name="calibration"/>: samples, or bounds from a
    /// declared input range; null only for a model that carries its own quantization.
    /// <paramref name="stageDone"/> hears of each stage as it finishes (for a progress line).
    /// <paramref name="settings"/> chooses the pass pipeline (default: -O2, verified).
    /// </summary>
    public static Compilation Compile(Graph graph, Architecture arch, QuantizationOptions options, CalibrationSource? calibration, CompileStage stopAfter = CompileStage.Asm,
        Action<CompileStage>? stageDone = null, CompileSettings? settings = null)
    {
        var result = new Compilation(GraphVerifier.EnsureValid(graph), arch) { Calibration = calibration };
        if (stopAfter == CompileStage.Graph)
        {
            return result;
        }

        RowCut.Check(graph, options);
        settings ??= CompileSettings.Default;
        if (settings.AutoChips && stopAfter >= CompileStage.Mapped)
        {
            return CompileSizingNode(result, arch, options, calibration, stopAfter, stageDone, settings);
        }

        if (settings.WhenTooLarge != WhenTooLarge.Explain && stopAfter >= CompileStage.Mapped)
        {
            return CompileTooLarge(result, arch, options, calibration, stopAfter, stageDone, settings);
        }

        return PassManager.Run(result, new PassContext(arch, options, calibration, settings.Seed) { WeightImage = settings.WeightImage, ReplicationBudget = settings.ReplicationBudget, SliceSplit = settings.SliceSplit ?? Mapping.SliceSplitChoice.Auto }, settings, StopStage(stopAfter), stageDone);
    }

    /// <summary>
    /// <c>--chips auto</c>: maps first (mapping does not depend on the chip count), then gives the
    /// node the fewest chips that hold the mapped network (contiguous runs of slots pack exactly, so
    /// ceil(cores needed / cores per chip)), then places and emits for that node. The architecture's
    /// validator refuses a count beyond the ISA's core field, in one line.
    /// </summary>
    private static Compilation CompileSizingNode(Compilation start, Architecture arch, QuantizationOptions options, CalibrationSource? calibration,
        CompileStage stopAfter, Action<CompileStage>? stageDone, CompileSettings settings)
    {
        Compilation mapped = PassManager.Run(start, new PassContext(arch, options, calibration, settings.Seed) { ReplicationBudget = settings.ReplicationBudget, SliceSplit = settings.SliceSplit ?? Mapping.SliceSplitChoice.Auto }, settings, IrStage.Mapped, stageDone);
        Architecture sized = arch.WithChips(Placer.ChipsFor(Placer.CoresNeeded(mapped.Mapped!, arch.Core.Crossbars), arch.CoresPerChip));
        Compilation placed = PassManager.Run(mapped with { Architecture = sized }, new PassContext(sized, options, calibration, settings.Seed) { WeightImage = settings.WeightImage, ReplicationBudget = settings.ReplicationBudget, SliceSplit = settings.SliceSplit ?? Mapping.SliceSplitChoice.Auto }, settings, StopStage(stopAfter), stageDone);
        return placed with { Passes = mapped.Passes.AddRange(placed.Passes) };
    }

    /// <summary>
    /// `--when-too-large fail|multichip|reload`: maps first, then, when the node cannot hold the
    /// mapped network, refuses it, gives the node the chips it needs (never fewer than it has), or cuts
    /// it into segments (<see cref="Segmentation"/>) and compiles each for the node from its mapped
    /// layers on. A network that fits compiles as without the option, so its files are the usual ones.
    /// </summary>
    private static Compilation CompileTooLarge(Compilation start, Architecture arch, QuantizationOptions options, CalibrationSource? calibration,
        CompileStage stopAfter, Action<CompileStage>? stageDone, CompileSettings settings)
    {
        Compilation mapped = PassManager.Run(start, new PassContext(arch, options, calibration, settings.Seed) { ReplicationBudget = settings.ReplicationBudget, SliceSplit = settings.SliceSplit ?? Mapping.SliceSplitChoice.Auto }, settings, IrStage.Mapped, stageDone);
        int needed = Placer.CoresNeeded(mapped.Mapped!, arch.Core.Crossbars);
        Architecture sized = arch;
        if (needed > arch.TotalCores)
        {
            switch (settings.WhenTooLarge)
            {
                case WhenTooLarge.Multichip:
                    sized = arch.WithChips(Placer.ChipsFor(needed, arch.CoresPerChip));
                    break;
                case WhenTooLarge.Reload:
                    return CompileSegments(mapped, arch, options, calibration, stopAfter, stageDone, settings);
                default:
                    throw new CimcException("does-not-fit", "--when-too-large fail",
                        $"the network needs {needed} cores of {arch.Core.Crossbars} crossbars but {(arch.Chips == 1 ? "the chip" : $"the node of {arch.Chips} chips")} has {arch.TotalCores}");
            }
        }

        PassContext context = new(sized, options, calibration, settings.Seed) { WeightImage = settings.WeightImage, ReplicationBudget = settings.ReplicationBudget, SliceSplit = settings.SliceSplit ?? Mapping.SliceSplitChoice.Auto };
        Compilation placed = PassManager.Run(mapped with { Architecture = sized }, context, settings, StopStage(stopAfter), stageDone);
        return placed with { Passes = mapped.Passes.AddRange(placed.Passes) };
    }

    /// <summary>Each segment of a mapped network compiled for the whole node, from its mapped layers on (the last one reports the stages it reaches).</summary>
    private static Compilation CompileSegments(Compilation mapped, Architecture arch, QuantizationOptions options, CalibrationSource? calibration,
        CompileStage stopAfter, Action<CompileStage>? stageDone, CompileSettings settings)
    {
        ImmutableArray<Segment> cuts = Segmentation.Cut(mapped.Mapped!, arch.Core.Crossbars, arch.TotalCores);
        PassContext context = new(arch, options, calibration, settings.Seed) { WeightImage = settings.WeightImage, ReplicationBudget = settings.ReplicationBudget, SliceSplit = settings.SliceSplit ?? Mapping.SliceSplitChoice.Auto };
        ImmutableArray<Compilation> segments = [.. cuts.Select((cut, k) =>
        {
            MappedModel sub = Segmentation.Sub(mapped.Mapped!, cut);
            return PassManager.Run(mapped with { Quantized = sub.Model, Mapped = sub, Passes = [] }, context, settings, StopStage(stopAfter), k == cuts.Length - 1 ? stageDone : null);
        })];
        return mapped with { Segments = segments, SegmentCuts = cuts };
    }

    /// <summary>
    /// The passes after quantization, from a compile stopped at <see cref="CompileStage.Quantized"/>:
    /// quantization does not depend on the chip, so a design-space exploration quantizes once per
    /// quantization setting and maps that onto every chip that shares it. The level's pipeline runs
    /// from its first pass after quantization.
    /// </summary>
    public static Compilation CompileQuantized(Compilation quantizedStage, Architecture arch, QuantizationOptions options, CalibrationSource? calibration,
        CompileStage stopAfter = CompileStage.Asm, Action<CompileStage>? stageDone = null, CompileSettings? settings = null)
    {
        if (quantizedStage.Chain is null || quantizedStage.Quantized is null || quantizedStage.Mapped is not null)
        {
            throw new InvalidOperationException("CompileQuantized needs a compile stopped after quantization");
        }

        settings ??= CompileSettings.Default;
        return PassManager.Run(quantizedStage with { Architecture = arch }, new PassContext(arch, options, calibration, settings.Seed) { WeightImage = settings.WeightImage, ReplicationBudget = settings.ReplicationBudget, SliceSplit = settings.SliceSplit ?? Mapping.SliceSplitChoice.Auto }, settings, StopStage(stopAfter), stageDone);
    }

    private static IrStage StopStage(CompileStage stopAfter) => stopAfter switch
    {
        CompileStage.Quantized => IrStage.Quantized,
        CompileStage.Mapped => IrStage.Placed,
        CompileStage.Schedule => IrStage.Scheduled,
        _ => IrStage.Program,
    };

    /// <summary>The quantization options a chip implies, with command-line overrides.</summary>
    public static QuantizationOptions OptionsFor(Architecture arch, int? weightBits = null, int? activationBits = null,
        Granularity granularity = Granularity.PerChannel, SignedWeightEncoding? signedWeights = null) =>
        new QuantizationOptions(
            weightBits ?? arch.DefaultPrecision.WeightBits,
            activationBits ?? arch.DefaultPrecision.ActivationBits,
            granularity,
            signedWeights ?? arch.DefaultPrecision.SignedWeights switch
            {
                SignedWeights.Offset => SignedWeightEncoding.Offset,
                SignedWeights.TwosComplement => SignedWeightEncoding.TwosComplement,
                _ => SignedWeightEncoding.Differential,
            }).Validate();

    public static CrossbarGeometry Geometry(Architecture arch) =>
        new(arch.Core.Crossbar.Rows, arch.Core.Crossbar.Cols, arch.Core.Crossbar.CellBits, arch.Core.Dac.Bits, arch.Core.Adc.Bits);

    /// <summary>The node's shape for placement: every chip's tiles, numbered chip after chip.</summary>
    public static ChipShape Shape(Architecture arch)
    {
        // Routes are built only when a pass asks for hops (where a conv network's pooling and add nodes go).
        var mesh = new Lazy<MeshCost>(() => new MeshCost(arch));
        return new(arch.TotalTiles, arch.Tile.Cores, arch.Core.Crossbars) { Chips = arch.Chips, TileHops = (a, b) => mesh.Value.Hops(a, b) };
    }

    /// <summary>The program header: a node's tiles are one machine to the ISA (global core ids; the validator keeps them within the core field).</summary>
    public static ArchHeader Header(Architecture arch) =>
        new(arch.TotalTiles, arch.Tile.Cores, arch.Core.Crossbars, arch.Core.Crossbar.Rows, arch.Core.Crossbar.Cols,
            arch.Core.Crossbar.CellBits, arch.Core.Dac.Bits, arch.Core.Adc.Bits,
            arch.Core.LocalMemoryWords, (int)Math.Min(int.MaxValue, arch.Tile.BufferWords));
}
