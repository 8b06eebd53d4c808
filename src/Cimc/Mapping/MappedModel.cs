using System.Collections.Immutable;
using Cimc.Quantization;

namespace Cimc.Mapping;

/// <summary>
/// One crossbar's worth of a layer: a row block x column block of one weight slice. Its results are
/// shifted left by <see cref="Shift"/> and added (Polarity +1) or subtracted (-1). Levels are the cell
/// values, row-major over the crossbar's full Rows x Cols (unused cells are 0), computed from the
/// layer's quantized weights when read (<see cref="CellLevels"/>).
/// </summary>
public sealed record CrossbarBlock(
    int Layer,
    int RowBlock,
    int ColBlock,
    int Polarity,
    int Slice,
    int Shift,
    int RowStart,
    int RowCount,
    int ColStart,
    int ColCount,
    CellLevels Levels)
{
    /// <summary>
    /// The input bits this block converts: the whole input, or one window of it when the split-slices
    /// pass gave the block copies that each convert some of the input's slices (Mapping/SliceSplit.cs).
    /// </summary>
    public Isa.InputWindow Window { get; init; }
}

/// <summary>
/// A quantized layer cut into crossbar blocks (docs/quantization.md sections 6 and 7). The row cut is
/// data (<see cref="RowCut"/>): uniform blocks of R rows for a dense layer or an im2col convolution,
/// per kernel position for --conv-mapping per-position; blocks with <c>RowBlock</c> rb hold rows <c>RowCut[rb]</c>.
/// </summary>
public sealed record MappedLayer(
    QuantizedLayer Layer,
    int StoredWeightBits,
    int Slices,
    int Polarities,
    ImmutableArray<RowBlock> RowCut,
    int ColBlocks,
    int InputBits,
    ImmutableArray<long> EffectiveBias,
    ImmutableArray<CrossbarBlock> Blocks)
{
    public int Crossbars => Blocks.Length;

    public int RowBlocks => RowCut.Length;

    /// <summary>The most rows one crossbar block of the layer reads at once (before --rows-per-read groups them).</summary>
    public int MaxBlockRows => RowCut.Max(b => b.Count);

    /// <summary>
    /// Copies of the layer's crossbar blocks on the chip (1: not replicated). Replica r serves the
    /// samples n with n mod <see cref="Replicas"/> = r; in a convolutional network it computes the
    /// output pixels (y, x) with x mod <see cref="Replicas"/> = r of every sample instead. Set by the
    /// replicate passes (Passes/PassCatalog.cs, Mapping/Replication.cs).
    /// </summary>
    public int Replicas { get; init; } = 1;

    /// <summary>
    /// The most crossbars of this layer one core holds; 0: as many as a core has. Set for a
    /// convolutional network's layers whose blocks would not fit a core's local memory together
    /// (Codegen/CoreCrossbars.cs), so the layer spreads over more cores.
    /// </summary>
    public int CoreCrossbars { get; init; }

    /// <summary>
    /// Copies of each crossbar block that each convert a window of the input's bit slices (1: none),
    /// all in <see cref="Blocks"/> and <see cref="Crossbars"/>; set by the split-slices pass (Mapping/SliceSplit.cs).
    /// </summary>
    public int SliceCopies { get; init; } = 1;

    /// <summary>Blocks per core on a chip of <paramref name="chipPerCore"/> crossbars a core.</summary>
    public int PerCore(int chipPerCore) => CoreCrossbars > 0 ? Math.Min(CoreCrossbars, chipPerCore) : chipPerCore;

    /// <summary>Cells holding a weight slice over cells of the crossbars used.</summary>
    public double Utilization(CrossbarGeometry g) =>
        (double)Layer.InFeatures * Layer.OutFeatures * Slices * Polarities / ((double)Crossbars * g.Rows * g.Cols);
}

public sealed record MappedModel(QuantizedModel Model, CrossbarGeometry Geometry, SignedWeightEncoding Encoding, ImmutableArray<MappedLayer> Layers)
{
    public int Crossbars => Layers.Sum(l => l.Crossbars);

    /// <summary>The slowest pipeline stage (max over layers of time per inference / replicas) the replicate pass estimated, in ns; null before one ran.</summary>
    public double? EstimatedStageNs { get; init; }

    /// <summary>Crossbars with every replica counted.</summary>
    public int ReplicatedCrossbars => Layers.Sum(l => l.Crossbars * l.Replicas);

    /// <summary>
    /// Samples per period of the emitted program: the least common multiple of the layers' replica
    /// counts; 1 for a convolutional network, whose copies split each sample's windows instead (docs/isa.md, "Replicated convolutions").
    /// </summary>
    public int Period => Model.Graph is null ? Layers.Aggregate(1, (p, l) => Lcm(p, l.Replicas)) : 1;

    public static int Lcm(int a, int b) => a / Gcd(a, b) * b;

    private static int Gcd(int a, int b) => b == 0 ? a : Gcd(b, a % b);
}
