using System.Collections.Immutable;

namespace Cimc.Ir;

/// <summary>
/// Immutable constant float32 data in row-major order (weights and biases). Importers convert
/// float16 and float64 file data to float32 when they build one.
/// </summary>
public sealed class FloatTensor
{
    private readonly float[] _data;

    public FloatTensor(ImmutableArray<int> shape, float[] data)
    {
        long count = 1;
        foreach (int d in shape)
        {
            if (d < 0)
            {
                throw new ArgumentException("a constant tensor has no dynamic dimension", nameof(shape));
            }

            count *= d;
        }

        if (count != data.Length)
        {
            throw new ArgumentException($"shape [{string.Join(",", shape)}] needs {count} values, got {data.Length}", nameof(data));
        }

        Shape = shape;
        _data = data;
    }

    public ImmutableArray<int> Shape { get; }

    public int Length => _data.Length;

    public ReadOnlySpan<float> Span => _data;

    public ReadOnlyMemory<float> Memory => _data;

    public float this[int index] => _data[index];

    public static FloatTensor Matrix(int rows, int cols, float[] data) => new([rows, cols], data);

    public static FloatTensor Vector(float[] data) => new([data.Length], data);

    /// <summary>Returns the transpose of a 2-D tensor.</summary>
    public FloatTensor Transpose()
    {
        if (Shape.Length != 2)
        {
            throw new InvalidOperationException("transpose needs a matrix");
        }

        int rows = Shape[0], cols = Shape[1];
        var t = new float[_data.Length];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                t[(c * rows) + r] = _data[(r * cols) + c];
            }
        }

        return Matrix(cols, rows, t);
    }

    public FloatTensor Scale(float factor)
    {
        if (factor == 1f)
        {
            return this;
        }

        var t = new float[_data.Length];
        for (int i = 0; i < t.Length; i++)
        {
            t[i] = _data[i] * factor;
        }

        return new FloatTensor(Shape, t);
    }
}
