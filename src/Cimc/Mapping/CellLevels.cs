using Cimc.Isa;
using Cimc.Quantization;

namespace Cimc.Mapping;

/// <summary>How a plane takes its cell level from a weight w (docs/quantization.md section 6).</summary>
internal enum PlaneKind
{
    /// <summary>(max(polarity * w, 0) >> shift) &amp; mask: one polarity of a differential pair.</summary>
    Differential,

    /// <summary>((w + Qw) >> shift) &amp; mask: the weight stored with an offset.</summary>
    Offset,

    /// <summary>((w &amp; lowMask) >> shift) &amp; mask: the low bits of a two's complement weight.</summary>
    TwosLow,

    /// <summary>1 for a negative weight: the two's complement sign bit, alone in its slice.</summary>
    TwosSign,
}

/// <summary>One array of cells: which polarity, which shift, and how the cell level follows from a weight.</summary>
internal readonly record struct Plane(int Polarity, int Slice, int Shift, PlaneKind Kind);

/// <summary>
/// A crossbar block's cell levels, as a function of the layer's quantized weights rather than an
/// array: the level of cell (r, c) is the plane's slice of weight [ColStart + c, RowStart + r], and
/// 0 outside the block. Nothing is stored per cell, so mapping a billion weights onto crossbars
/// costs no memory; the levels are computed when weights.bin is written or a simulator loads them
/// (<see cref="CopyTo"/>, <see cref="ToArray"/>), and are the same bytes each time.
/// </summary>
public sealed class CellLevels : ICellLevels
{
    private readonly QuantizedWeights _weights;
    private readonly int _inFeatures;
    private readonly int _rowStart, _rowCount, _colStart, _colCount;
    private readonly Plane _plane;
    private readonly long _qw, _mask, _lowMask;
    private readonly byte[]? _table;

    internal CellLevels(QuantizedLayer layer, CrossbarGeometry g, int rowStart, int rowCount, int colStart, int colCount, Plane plane, byte[]? table)
    {
        _table = table;
        _weights = layer.Weights;
        _inFeatures = layer.InFeatures;
        Rows = g.Rows;
        Cols = g.Cols;
        (_rowStart, _rowCount, _colStart, _colCount) = (rowStart, rowCount, colStart, colCount);
        _plane = plane;
        _qw = layer.WeightMax;
        _mask = (1L << g.CellBits) - 1;
        _lowMask = (1L << IntMath.BitLength(_qw)) - 1;
    }

    /// <summary>The crossbar's rows (the levels are Rows * Cols, row-major).</summary>
    public int Rows { get; }

    public int Cols { get; }

    public int Length => Rows * Cols;

    /// <summary>The level at row-major index <paramref name="index"/> of the crossbar.</summary>
    public byte this[int index]
    {
        get
        {
            int r = index / Cols, c = index % Cols;
            return r < _rowCount && c < _colCount ? (byte)Level(_weights[((_colStart + c) * _inFeatures) + _rowStart + r]) : (byte)0;
        }
    }

    /// <summary>Writes the Rows * Cols levels, row-major, into <paramref name="destination"/>.</summary>
    public void CopyTo(Span<byte> destination)
    {
        if (destination.Length != Length)
        {
            throw new ArgumentException($"a crossbar's levels take {Length} bytes, not {destination.Length}", nameof(destination));
        }

        destination.Clear();
        if (_table is not null)
        {
            for (int c = 0; c < _colCount; c++)
            {
                _weights.Gather(((_colStart + c) * _inFeatures) + _rowStart, _rowCount, _table, (int)_qw, destination[c..], Cols);
            }

            return;
        }

        int[] column = new int[_rowCount];
        for (int c = 0; c < _colCount; c++)
        {
            // Down one output's row of the [out, in] matrix, which is one column of the crossbar.
            _weights.CopyTo(((_colStart + c) * _inFeatures) + _rowStart, column);
            Span<byte> target = destination[c..];
            for (int r = 0; r < column.Length; r++)
            {
                target[r * Cols] = (byte)Level(column[r]);
            }
        }
    }

    /// <summary>
    /// The plane's level of every weight in [-Qw, Qw], indexed by w + Qw, for weights of up to 16
    /// bits (null beyond): a column of levels is then a table lookup per cell, the same values
    /// <see cref="Level"/> gives.
    /// </summary>
    internal static byte[]? Table(QuantizedLayer layer, CrossbarGeometry g, Plane plane)
    {
        long qw = layer.WeightMax;
        if (qw > short.MaxValue)
        {
            return null;
        }

        var probe = new CellLevels(layer, g, 0, 0, 0, 0, plane, null);
        var table = new byte[(2 * qw) + 1];
        for (long w = -qw; w <= qw; w++)
        {
            table[w + qw] = (byte)probe.Level(w);
        }

        return table;
    }

    public byte[] ToArray()
    {
        var levels = new byte[Length];
        CopyTo(levels);
        return levels;
    }

    /// <summary>The cell level of weight <paramref name="w"/> in this plane.</summary>
    private long Level(long w) => _plane.Kind switch
    {
        PlaneKind.Differential => (Math.Max(_plane.Polarity * w, 0) >> _plane.Shift) & _mask,
        PlaneKind.Offset => ((w + _qw) >> _plane.Shift) & _mask,
        PlaneKind.TwosLow => ((w & _lowMask) >> _plane.Shift) & _mask,
        _ => w < 0 ? 1L : 0L,
    };

    /// <summary>
    /// The levels as an array, for code that indexes a block's levels directly (the graph code
    /// generator's weight image): the same bytes <see cref="CopyTo"/> writes.
    /// </summary>
    public static implicit operator byte[](CellLevels levels) => levels.ToArray();
}
