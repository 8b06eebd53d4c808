using System.Collections.Immutable;

namespace Cimc.Data;

/// <summary>
/// A dense float32 array with a shape, row-major: inputs, outputs and data sets. The leading
/// dimension is the batch. Integer files (labels) are read into <see cref="Labels"/> instead.
/// </summary>
public sealed class NdArray
{
    public NdArray(ImmutableArray<int> shape, float[] data)
    {
        long count = 1;
        foreach (int d in shape)
        {
            count *= d;
        }

        if (count != data.Length)
        {
            throw new ArgumentException($"shape [{string.Join(",", shape)}] needs {count} values, got {data.Length}");
        }

        Shape = shape;
        Data = data;
    }

    public ImmutableArray<int> Shape { get; }

    /// <summary>The values; callers treat them as read-only unless they made the array.</summary>
    public float[] Data { get; }

    public int Rank => Shape.Length;

    /// <summary>Size of the leading (batch) dimension; 1 for a scalar.</summary>
    public int Rows => Shape.Length == 0 ? 1 : Shape[0];

    /// <summary>Elements per row (product of all but the leading dimension).</summary>
    public int RowLength => Rows == 0 ? 0 : Data.Length / Rows;

    public ReadOnlySpan<float> Row(int i) => Data.AsSpan(i * RowLength, RowLength);

    /// <summary>The first <paramref name="count"/> rows (no copy when all are taken).</summary>
    public NdArray Take(int count)
    {
        if (count >= Rows)
        {
            return this;
        }

        return new NdArray(Shape.SetItem(0, count), Data.AsSpan(0, count * RowLength).ToArray());
    }

    public NdArray Reshape(params int[] shape) => new([.. shape], Data);

    /// <summary>Every value divided by <paramref name="divisor"/> (e.g. 255 for images stored as bytes).</summary>
    public NdArray DivideBy(float divisor)
    {
        if (divisor == 1f)
        {
            return this;
        }

        var d = new float[Data.Length];
        for (int i = 0; i < d.Length; i++)
        {
            d[i] = Data[i] / divisor;
        }

        return new NdArray(Shape, d);
    }
}

/// <summary>Integer class labels, one per sample.</summary>
public sealed record Labels(ImmutableArray<int> Values)
{
    public int Count => Values.Length;
}
