using System.Collections.Immutable;
using Cimc.Quantization;

namespace Cimc.Mapping;

/// <summary>
/// One crossbar's worth of a layer: a row block x column block of one polarity and one weight slice.
/// Levels are the cell values, row-major over the crossbar's full Rows x Cols (unused cells are 0).
/// </summary>
public sealed record CrossbarBlock(
    int Layer,
    int RowBlock,
    int ColBlock,
    int Polarity,
    int Slice,
    int RowStart,
    int RowCount,
    int ColStart,
    int ColCount,
    byte[] Levels)
{
    /// <summary>Shift of this slice's results in the shift-and-add: c * slice.</summary>
    public int Shift(int cellBits) => cellBits * Slice;
}

/// <summary>A quantized layer cut into crossbar blocks (docs/quantization.md sections 6 and 7).</summary>
public sealed record MappedLayer(
    QuantizedLayer Layer,
    int StoredWeightBits,
    int Slices,
    int Polarities,
    int RowBlocks,
    int ColBlocks,
    int InputBits,
    ImmutableArray<long> EffectiveBias,
    ImmutableArray<CrossbarBlock> Blocks)
{
    public int Crossbars => Blocks.Length;

    /// <summary>Cells holding a weight slice over cells of the crossbars used.</summary>
    public double Utilization(CrossbarGeometry g) =>
        (double)Layer.InFeatures * Layer.OutFeatures * Slices * Polarities / ((double)Crossbars * g.Rows * g.Cols);
}

public sealed record MappedModel(QuantizedModel Model, CrossbarGeometry Geometry, SignedWeightEncoding Encoding, ImmutableArray<MappedLayer> Layers)
{
    public int Crossbars => Layers.Sum(l => l.Crossbars);
}
