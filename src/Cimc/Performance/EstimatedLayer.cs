using System.Collections.Immutable;
using Cimc.Architectures;
using Cimc.Mapping;
using Cimc.Quantization;

namespace Cimc.Performance;

/// <summary>
/// A layer as the map and linear place passes would lay it out, worked out from its shape alone (no
/// weight is read): blocks in the mapper's order (column block, then row block, then plane), block
/// b on core <c>First + b / per_core</c>, crossbar <c>b mod per_core</c>, where per_core is the
/// chip's crossbars a core or fewer for a convolutional layer spread so its core memory fits
/// (<see cref="Mapping.MappedLayer.CoreCrossbars"/>).
/// </summary>
internal sealed record EstimatedLayer(QuantizedLayer Layer, int First, int Slots, int RowBlocks, int ColBlocks, int Planes, int MaxShift, int Rows, int Cols, int PerCore, ImmutableArray<RowBlock> Cut)
{
    /// <param name="perCore">crossbars a core of this layer holds: the chip's, or fewer for a spread convolution</param>
    /// <param name="positionRows">rows of one kernel position when convolutions are cut per position (<see cref="RowCut.PositionRows"/>), else 0</param>
    public static EstimatedLayer Of(QuantizedLayer layer, Architecture arch, SignedWeightEncoding encoding, int first, int perCore, int positionRows = 0)
    {
        CrossbarSpec xb = arch.Core.Crossbar;
        (int slices, int polarities, int maxShift) = CrossbarMapper.PlaneShape(layer.WeightMax, encoding, xb.CellBits);
        ImmutableArray<RowBlock> cut = RowCut.Of(layer.InFeatures, xb.Rows, positionRows);
        int rowBlocks = cut.Length, colBlocks = IntMath.CeilDiv(layer.OutFeatures, xb.Cols);
        int planes = slices * polarities;
        int blocks = rowBlocks * colBlocks * planes;
        return new EstimatedLayer(layer, first, Math.Max(1, IntMath.CeilDiv(blocks, perCore)), rowBlocks, colBlocks, planes, maxShift, xb.Rows, xb.Cols, perCore, cut).WithRows();
    }

    public int Blocks => RowBlocks * ColBlocks * Planes;

    public int InputBits => Layer.Input.Bits;

    public int Lead => First;

    public int CoreOf(int block) => First + (block / PerCore);

    public int ColBlockOf(int block) => block / (RowBlocks * Planes);

    public int RowBlockOf(int block) => block / Planes % RowBlocks;

    public int RowCount(int rowBlock) => Cut[rowBlock].Count;

    public int ColCount(int colBlock) => Math.Min(Cols, Layer.OutFeatures - (colBlock * Cols));

    /// <summary>The blocks on a core: [lo, hi).</summary>
    public (int Lo, int Hi) BlocksOn(int core) => ((core - First) * PerCore, Math.Min(Blocks, (core - First + 1) * PerCore));

    /// <summary>The cores holding a column block, ascending (its first is the root).</summary>
    public (int First, int Last) CoresOf(int colBlock) =>
        (CoreOf(colBlock * RowBlocks * Planes), CoreOf(((colBlock + 1) * RowBlocks * Planes) - 1));

    /// <summary>Input rows a core reads: [lo, hi) over the row blocks it holds, and how many contiguous runs they make.</summary>
    public (int Lo, int Hi, int Held, int Runs) RowsOf(int core) => rowsOf[core - First];

    /// <summary>Output columns a core accumulates: [lo, hi).</summary>
    public (int Lo, int Hi) ColsOf(int core)
    {
        (int lo, int hi) = BlocksOn(core);
        int first = ColBlockOf(lo), last = ColBlockOf(hi - 1);
        return (first * Cols, (last * Cols) + ColCount(last));
    }

    private (int Lo, int Hi, int Held, int Runs)[] rowsOf = [];

    private EstimatedLayer WithRows()
    {
        rowsOf = new (int, int, int, int)[Slots];
        var held = new bool[RowBlocks];
        for (int s = 0; s < Slots; s++)
        {
            Array.Clear(held);
            (int lo, int hi) = BlocksOn(First + s);
            for (int b = lo; b < hi && b - lo < Planes * RowBlocks; b++)
            {
                held[RowBlockOf(b)] = true;
            }

            int runs = 0, rows = 0, min = -1, max = -1;
            for (int rb = 0; rb < RowBlocks; rb++)
            {
                if (held[rb])
                {
                    runs += rb > 0 && held[rb - 1] ? 0 : 1;
                    rows += RowCount(rb);
                    min = min < 0 ? rb : min;
                    max = rb;
                }
            }

            rowsOf[s] = (Cut[min].Start, Cut[max].End, rows, runs);
        }

        return this;
    }
}
