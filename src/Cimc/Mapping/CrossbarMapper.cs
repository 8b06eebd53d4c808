using System.Collections.Immutable;
using Cimc.Quantization;

namespace Cimc.Mapping;

/// <summary>
/// The map pass: cuts each quantized weight matrix into crossbar blocks. Rows of a crossbar take
/// inputs, columns take outputs; each block holds one polarity (differential pair) and one weight
/// slice of c bits. Guarantees: crossbars(layer) = ceil(in/R) * ceil(out/C) * S * P, every level
/// below 2^c, and slices that recombine (sum of level_j * 2^(c*j)) to the stored weight.
/// </summary>
public static class CrossbarMapper
{
    public static MappedModel Map(QuantizedModel model, CrossbarGeometry geometry)
    {
        SignedWeightEncoding encoding = model.Options.SignedWeights;
        var layers = ImmutableArray.CreateBuilder<MappedLayer>(model.Layers.Length);
        for (int l = 0; l < model.Layers.Length; l++)
        {
            layers.Add(MapLayer(l, model.Layers[l], geometry, encoding));
        }

        return new MappedModel(model, geometry, encoding, layers.MoveToImmutable());
    }

    /// <summary>Bits of the stored (non-negative) weight for an encoding.</summary>
    public static int StoredBits(long weightMax, SignedWeightEncoding encoding) => encoding switch
    {
        SignedWeightEncoding.Differential => IntMath.BitLength(weightMax),
        _ => IntMath.BitLength(2 * weightMax),
    };

    private static MappedLayer MapLayer(int index, QuantizedLayer layer, CrossbarGeometry g, SignedWeightEncoding encoding)
    {
        long qw = layer.WeightMax;
        int storedBits = StoredBits(qw, encoding);
        int slices = IntMath.CeilDiv(storedBits, g.CellBits);
        int[] polarities = encoding == SignedWeightEncoding.Differential ? [1, -1] : [1];
        int rowBlocks = IntMath.CeilDiv(layer.InFeatures, g.Rows);
        int colBlocks = IntMath.CeilDiv(layer.OutFeatures, g.Cols);
        int cellMask = (1 << g.CellBits) - 1;
        var blocks = ImmutableArray.CreateBuilder<CrossbarBlock>(rowBlocks * colBlocks * slices * polarities.Length);

        // Column block outermost so that consecutive crossbars (placed on the same core) share outputs.
        for (int cb = 0; cb < colBlocks; cb++)
        {
            int colStart = cb * g.Cols, colCount = Math.Min(g.Cols, layer.OutFeatures - colStart);
            for (int rb = 0; rb < rowBlocks; rb++)
            {
                int rowStart = rb * g.Rows, rowCount = Math.Min(g.Rows, layer.InFeatures - rowStart);
                foreach (int polarity in polarities)
                {
                    for (int slice = 0; slice < slices; slice++)
                    {
                        var levels = new byte[g.Rows * g.Cols];
                        for (int r = 0; r < rowCount; r++)
                        {
                            for (int c = 0; c < colCount; c++)
                            {
                                long w = layer.Weights[((colStart + c) * layer.InFeatures) + rowStart + r];
                                long stored = encoding == SignedWeightEncoding.Offset ? w + qw : Math.Max(polarity * w, 0);
                                levels[(r * g.Cols) + c] = (byte)((stored >> (g.CellBits * slice)) & cellMask);
                            }
                        }

                        blocks.Add(new CrossbarBlock(index, rb, cb, polarity, slice, rowStart, rowCount, colStart, colCount, levels));
                    }
                }
            }
        }

        return new MappedLayer(layer, storedBits, slices, polarities.Length, rowBlocks, colBlocks,
            layer.Input.Bits, layer.EffectiveBias(), blocks.MoveToImmutable());
    }
}
