using System.Collections.Immutable;
using Cimc.Mapping;
using Cimc.Placement;
using Cimc.Quantization;

namespace Cimc;

/// <summary>
/// What `summary.json` holds. Field names are a contract (scripts read them): crossbars_used,
/// crossbars_available, utilization, layers[...]. Crossbar counts follow docs/quantization.md
/// section 7: ceil(in / R) * ceil(out / C) * S * P per layer (KH * KW * ceil(Cin / R) row blocks
/// for a convolution mapped per kernel position).
/// </summary>
public sealed record CompileSummary(
    string Model,
    string Arch,
    int WeightBits,
    int ActivationBits,
    string Granularity,
    string SignedWeights,
    CompileSummary.CrossbarInfo Crossbar,
    int CrossbarsUsed,
    long CrossbarsAvailable,
    double Utilization,
    double ChipUtilization,
    int CoresUsed,
    long CoresAvailable,
    int TilesUsed,
    bool AdcCanSaturate,
    int Instructions,
    bool HostSoftmax,
    ImmutableArray<CompileSummary.LayerInfo> Layers)
{
    /// <summary>Device non-idealities recorded by `cimc compile` for `cimc run`; null for ideal crossbars.</summary>
    public Simulation.Devices.DeviceModel? Device { get; init; }

    /// <summary>The passes that ran, in order, with their times and the estimates after each (Passes/Pass.cs).</summary>
    public ImmutableArray<Passes.AppliedPass> Passes { get; init; } = [];

    /// <summary>ADC bits the mapping needs for every read to be exact: the largest over its layers (docs/quantization.md section 6).</summary>
    public int AdcLosslessBits { get; init; }

    /// <summary>What the compile warned about, one line each (<see cref="Compilation.Warnings"/>).</summary>
    public ImmutableArray<string> Warnings { get; init; } = [];

    /// <summary>Where the activation ranges came from: which samples, or the declared input range.</summary>
    public string? Calibration { get; init; }

    /// <summary>The real range the network input's codes cover; inputs outside it clip.</summary>
    public ImmutableArray<double>? InputRange { get; init; }

    /// <summary>Samples per period of a replicated program (1: not replicated; docs/isa.md, "Replicated programs").</summary>
    public int Period { get; init; } = 1;

    /// <summary>Crossbars holding weights with every replica counted (equals the crossbar count without replication).</summary>
    public int ReplicatedCrossbars { get; init; }

    /// <summary>Chips in the node compiled for (1: one chip); crossbars_available and cores_available count them all.</summary>
    public int Chips { get; init; } = 1;

    /// <summary>Chips that hold at least one of the network's cores.</summary>
    public int ChipsUsed { get; init; } = 1;

    /// <summary>
    /// Segments of a weight-reloading program (1: the whole network at once; docs/isa.md, "Segmented
    /// programs"). With several, crossbars_used counts every segment's crossbars (the network's), while
    /// cores_used, tiles_used, chips_used and chip_utilization are the largest segment's; each layer
    /// names its segment.
    /// </summary>
    public int Segments { get; init; } = 1;

    /// <summary>How convolutions were cut into crossbar row blocks: im2col or per-position (--conv-mapping); absent for a chain of dense layers.</summary>
    public string? ConvMapping { get; init; }

    public sealed record CrossbarInfo(int Rows, int Cols, int CellBits, int DacBits, int AdcBits);

    public sealed record LayerInfo(
        string Name,
        int InFeatures,
        int OutFeatures,
        string Activation,
        int StoredWeightBits,
        int Slices,
        int Polarities,
        int RowBlocks,
        int ColBlocks,
        int InputBits,
        int InputSlices,
        int Crossbars,
        string Formula,
        double Utilization,
        ImmutableArray<int> Cores)
    {
        /// <summary>ADC bits this layer's reads need to be exact: bitlen(rows at once x largest digit x largest level).</summary>
        public int AdcLosslessBits { get; init; }

        /// <summary>Copies of each crossbar block that each convert a window of the input's bit slices (split-slices, --slice-split; 1: none); crossbars counts them.</summary>
        public int SliceCopies { get; init; } = 1;

        /// <summary>Copies of the layer; replica r serves samples r mod replicas.</summary>
        public int Replicas { get; init; } = 1;

        /// <summary>The cores of replicas 1 .. replicas - 1 (replica 0's are the layer's cores).</summary>
        public ImmutableArray<ImmutableArray<int>> ReplicaCores { get; init; } = [];

        /// <summary>The segment of a weight-reloading program that holds the layer (0 otherwise).</summary>
        public int Segment { get; init; }

        /// <summary>Output pixels per inference of a layer in a network with convolutions (its crossbars run once per window); absent in a chain of dense layers.</summary>
        public int? Windows { get; init; }

        /// <summary>The crossbar layers it reads, in a network with convolutions (<see cref="Performance.LayerInputs"/>); absent in a chain, where each reads the one before.</summary>
        public ImmutableArray<Performance.LayerInput>? Inputs { get; init; }
    }

    public static CompileSummary Of(Compilation c)
    {
        if (c.IsSegmented)
        {
            return OfSegments(c);
        }

        MappedModel mapped = c.Mapped ?? throw new InvalidOperationException("summary needs a mapped compilation");
        PlacedModel placed = c.Placed!;
        CrossbarGeometry g = mapped.Geometry;
        QuantizationOptions o = mapped.Model.Options;
        long cellsUsed = mapped.Layers.Sum(l => (long)l.Layer.InFeatures * l.Layer.OutFeatures * l.Slices * l.Polarities);
        var graph = mapped.Model.Graph is { } dag ? Performance.LayerInputs.Of(dag, placed.Layers.Length) : default;
        var layers = placed.Layers.Select((pl, index) =>
        {
            MappedLayer l = pl.Mapped;
            QuantizedLayer q = l.Layer;
            int positionRows = RowCut.PositionRows(mapped.Model, index);
            string rowBlocks = positionRows > 0 && positionRows < q.InFeatures
                ? $"{q.InFeatures / positionRows} * ceil({positionRows}/{g.Rows})" // per kernel position: KH * KW * ceil(Cin / R)
                : $"ceil({q.InFeatures}/{g.Rows})";
            string formula = $"{rowBlocks} * ceil({q.OutFeatures}/{g.Cols}) * {l.Slices} * {l.Polarities}{(l.SliceCopies > 1 ? $" * {l.SliceCopies} input-slice copies" : "")} = {l.Crossbars}";
            return new LayerInfo(q.Name, q.InFeatures, q.OutFeatures, q.Activation.ToString().ToLowerInvariant(), l.StoredWeightBits, l.Slices,
                l.Polarities, l.RowBlocks, l.ColBlocks, l.InputBits, IntMath.CeilDiv(l.InputBits, g.DacBits), l.Crossbars, formula,
                l.Utilization(g), pl.Cores)
            {
                AdcLosslessBits = AdcResolution.Of(l, g, mapped.Encoding).LosslessBits,
                Replicas = mapped.Layers[index].Replicas,
                SliceCopies = l.SliceCopies,
                ReplicaCores = [.. placed.Replicas(index).Skip(1).Select(r => r.Cores)],
                Windows = graph.IsDefault ? null : graph[index].Windows,
                Inputs = graph.IsDefault ? null : graph[index].Inputs,
            };
        }).ToImmutableArray();
        return new CompileSummary(
            c.Graph.Name,
            c.Architecture.Name,
            o.WeightBits,
            o.ActivationBits,
            o.Granularity == Quantization.Granularity.PerTensor ? "per-tensor" : "per-channel",
            o.SignedWeights.ToString().ToLowerInvariant(),
            new CrossbarInfo(g.Rows, g.Cols, g.CellBits, g.DacBits, g.AdcBits),
            mapped.Crossbars,
            c.Architecture.TotalCrossbars,
            (double)cellsUsed / ((double)mapped.Crossbars * g.Rows * g.Cols),
            mapped.Crossbars / (double)c.Architecture.TotalCrossbars,
            placed.CoresUsed,
            c.Architecture.TotalCores,
            placed.Layers.SelectMany(l => l.Cores).Select(placed.Chip.TileOf).Distinct().Count(),
            AdcResolution.Of(mapped).Any(r => r.CanSaturate),
            c.Program?.Cores.Sum(p => p.Code.Length) ?? 0,
            mapped.Model.SoftmaxAtEnd,
            layers)
        {
            AdcLosslessBits = AdcResolution.LosslessBits(mapped),
            Warnings = c.Warnings(),
            Calibration = c.Calibration?.Describe(),
            Passes = c.Passes,
            InputRange = [mapped.Model.Input.Dequantize(0), mapped.Model.Input.Dequantize(mapped.Model.Input.Max)],
            Period = mapped.Period,
            ReplicatedCrossbars = mapped.ReplicatedCrossbars,
            Chips = c.Architecture.Chips,
            ChipsUsed = placed.Layers.SelectMany(l => l.Cores).Select(placed.Chip.ChipOf).Distinct().Count(),
            ConvMapping = mapped.Model.Graph is null ? null : QuantizationOptions.ConvMappingName(o.ConvMapping),
        };
    }

    /// <summary>A weight-reloading compile: its segments' summaries joined (see <see cref="Segments"/>).</summary>
    private static CompileSummary OfSegments(Compilation c)
    {
        List<CompileSummary> parts = [.. c.Segments.Select(Of)];
        int crossbars = parts.Sum(p => p.CrossbarsUsed);
        return parts[0] with
        {
            CrossbarsUsed = crossbars,
            Utilization = parts.Sum(p => p.Utilization * p.CrossbarsUsed) / crossbars,
            ChipUtilization = parts.Max(p => p.ChipUtilization),
            CoresUsed = parts.Max(p => p.CoresUsed),
            TilesUsed = parts.Max(p => p.TilesUsed),
            AdcCanSaturate = parts.Any(p => p.AdcCanSaturate),
            Instructions = parts.Sum(p => p.Instructions),
            HostSoftmax = parts[^1].HostSoftmax,
            Layers = [.. parts.SelectMany((p, k) => p.Layers.Select(l => l with { Segment = k }))],
            AdcLosslessBits = parts.Max(p => p.AdcLosslessBits),
            Warnings = c.Warnings(),
            Passes = [.. c.Passes, .. c.Segments.SelectMany(s => s.Passes)],
            Period = parts.Max(p => p.Period),
            ReplicatedCrossbars = parts.Sum(p => p.ReplicatedCrossbars),
            ChipsUsed = parts.Max(p => p.ChipsUsed),
            Segments = parts.Count,
        };
    }
}
