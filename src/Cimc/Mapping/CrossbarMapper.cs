using System.Collections.Immutable;
using System.Runtime.InteropServices;
using Cimc.Quantization;

namespace Cimc.Mapping;

/// <summary>
/// The map pass: cuts each quantized weight matrix into crossbar blocks. Rows of a crossbar take
/// inputs, columns take outputs; each block holds one polarity (differential pair) and one weight
/// slice of c bits; the row blocks are <see cref="RowCut"/>'s (kernel positions apart with
/// --conv-mapping per-position). Guarantees: crossbars(layer) = row blocks * ceil(out/C) * S * P
/// (row blocks = ceil(in/R), or KH * KW * ceil(Cin/R) per position), every level
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
            layers.Add(MapLayer(l, model.Layers[l], geometry, encoding, RowCut.Of(model, l, geometry.Rows)));
        }

        return new MappedModel(model, geometry, encoding, layers.MoveToImmutable());
    }

    /// <summary>Bits of the stored weight for an encoding (docs/quantization.md section 6).</summary>
    public static int StoredBits(long weightMax, SignedWeightEncoding encoding) => encoding switch
    {
        SignedWeightEncoding.Differential => IntMath.BitLength(weightMax),
        SignedWeightEncoding.Offset => IntMath.BitLength(2 * weightMax),
        _ => IntMath.BitLength(weightMax) + 1,
    };

    /// <summary>
    /// How many planes a layer's weights take without cutting them (for estimates): weight slices,
    /// polarities, and the largest shift among the planes; what <see cref="Map"/> lays out.
    /// </summary>
    public static (int Slices, int Polarities, int MaxShift) PlaneShape(long weightMax, SignedWeightEncoding encoding, int cellBits)
    {
        switch (encoding)
        {
            case SignedWeightEncoding.Differential:
                int slices = IntMath.CeilDiv(IntMath.BitLength(weightMax), cellBits);
                return (slices, 2, cellBits * (slices - 1));
            case SignedWeightEncoding.Offset:
                int offset = IntMath.CeilDiv(IntMath.BitLength(2 * weightMax), cellBits);
                return (offset, 1, cellBits * (offset - 1));
            default:
                int low = IntMath.BitLength(weightMax), lowSlices = IntMath.CeilDiv(low, cellBits);
                return (lowSlices + 1, 1, Math.Max(low, cellBits * (lowSlices - 1)));
        }
    }

    /// <summary>The weight planes of an encoding, in the order blocks are laid out.</summary>
    private static List<Plane> Planes(long qw, SignedWeightEncoding encoding, int cellBits)
    {
        var planes = new List<Plane>();
        switch (encoding)
        {
            case SignedWeightEncoding.Differential:
                int slices = IntMath.CeilDiv(IntMath.BitLength(qw), cellBits);
                foreach (int polarity in new[] { 1, -1 })
                {
                    for (int j = 0; j < slices; j++)
                    {
                        planes.Add(new Plane(polarity, j, cellBits * j, PlaneKind.Differential));
                    }
                }

                break;
            case SignedWeightEncoding.Offset:
                for (int j = 0; j < IntMath.CeilDiv(IntMath.BitLength(2 * qw), cellBits); j++)
                {
                    planes.Add(new Plane(1, j, cellBits * j, PlaneKind.Offset));
                }

                break;
            default:
                // Two's complement of B bits: the low B-1 bits in positive slices, the sign bit alone
                // in a slice that counts -2^(B-1).
                int low = IntMath.BitLength(qw);
                int lowSlices = IntMath.CeilDiv(low, cellBits);
                for (int j = 0; j < lowSlices; j++)
                {
                    planes.Add(new Plane(1, j, cellBits * j, PlaneKind.TwosLow));
                }

                planes.Add(new Plane(-1, lowSlices, low, PlaneKind.TwosSign));
                break;
        }

        return planes;
    }

    private static MappedLayer MapLayer(int index, QuantizedLayer layer, CrossbarGeometry g, SignedWeightEncoding encoding, ImmutableArray<RowBlock> cut)
    {
        long qw = layer.WeightMax;
        List<Plane> planes = Planes(qw, encoding, g.CellBits);
        int polarities = encoding == SignedWeightEncoding.Differential ? 2 : 1;
        int rowBlocks = cut.Length;
        int colBlocks = IntMath.CeilDiv(layer.OutFeatures, g.Cols);
        var blocks = new CrossbarBlock[rowBlocks * colBlocks * planes.Count];
        byte[]?[] tables = [.. planes.Select(plane => CellLevels.Table(layer, g, plane))];

        // Column block outermost so that consecutive crossbars (placed on the same core) share
        // outputs. A block's levels are computed from the quantized weights when they are needed
        // (CellLevels), so mapping stores no cell.
        for (int cb = 0; cb < colBlocks; cb++)
        {
            int colStart = cb * g.Cols, colCount = Math.Min(g.Cols, layer.OutFeatures - colStart);
            for (int rb = 0; rb < rowBlocks; rb++)
            {
                (int rowStart, int rowCount) = (cut[rb].Start, cut[rb].Count);
                int cell = (cb * rowBlocks) + rb;
                for (int p = 0; p < planes.Count; p++)
                {
                    Plane plane = planes[p];
                    blocks[(cell * planes.Count) + p] = new CrossbarBlock(index, rb, cb, plane.Polarity, plane.Slice, plane.Shift, rowStart, rowCount, colStart, colCount,
                        new CellLevels(layer, g, rowStart, rowCount, colStart, colCount, plane, tables[p]));
                }
            }
        }

        return new MappedLayer(layer, StoredBits(qw, encoding), planes.Count / polarities, polarities, cut, colBlocks,
            layer.Input.Bits, layer.EffectiveBias(), ImmutableCollectionsMarshal.AsImmutableArray(blocks));
    }
}
