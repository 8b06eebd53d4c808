using System.Collections.Immutable;

namespace Cimc.Ir;

/// <summary>
/// Immutable constant float32 data in row-major order (weights and biases). Importers convert
/// float16 and float64 file data to float32 when they build one. A large tensor may be read on
/// demand (<see cref="OnDemand"/>): the tensor keeps only a weak reference to its values and reads
/// them again from the model file when they have been collected, so a graph of a billion weights
/// does not hold 4 GB of floats for the whole compile (each layer's are read when quantized).
/// </summary>
public sealed class FloatTensor
{
    private readonly float[]? _data;
    private readonly Func<float[]>? _load;
    private readonly WeakReference<float[]>? _cache;
    private readonly Lock _loading = new();

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
        Length = data.Length;
    }

    private FloatTensor(ImmutableArray<int> shape, int length, float[]? first, Func<float[]> load)
    {
        Shape = shape;
        Length = length;
        _load = load;
        _cache = new WeakReference<float[]>(first!);
    }

    /// <summary>
    /// A tensor whose values <paramref name="load"/> reads (again) whenever they are needed and no
    /// longer held; <paramref name="first"/> is the first read, held weakly. Every read must give the
    /// same values (the loader refuses a model file that changed). <paramref name="first"/> may be null:
    /// nothing read yet.
    /// </summary>
    public static FloatTensor OnDemand(ImmutableArray<int> shape, float[]? first, Func<float[]> load)
    {
        long count = 1;
        foreach (int d in shape)
        {
            count *= d >= 0 ? d : throw new ArgumentException("a constant tensor has no dynamic dimension", nameof(shape));
        }

        if (count > Array.MaxLength || (first is not null && first.Length != count))
        {
            throw new ArgumentException($"shape [{string.Join(",", shape)}] needs {count} values", nameof(first));
        }

        return new FloatTensor(shape, (int)count, first, load);
    }

    /// <summary>True when the values are read from the model file on demand instead of held.</summary>
    public bool IsOnDemand => _load is not null;

    /// <summary>
    /// Lets go of an on-demand tensor's values once a pass is done with them (the next use reads them
    /// again) and collects them at once: left to the collector, a large model's layers stay cached
    /// side by side until memory runs short. A blocking collection of a heap of a few large arrays
    /// costs milliseconds, next to a second for reading a layer. Does nothing to a held tensor.
    /// </summary>
    public void Release()
    {
        if (_cache is null)
        {
            return;
        }

        lock (_loading)
        {
            _cache.SetTarget(null!);
        }

        GC.Collect();
    }

    public ImmutableArray<int> Shape { get; }

    public int Length { get; }

    public ReadOnlySpan<float> Span => Data;

    public ReadOnlyMemory<float> Memory => Data;

    public float this[int index] => Data[index];

    private float[] Data
    {
        get
        {
            if (_data is not null)
            {
                return _data;
            }

            lock (_loading)
            {
                if (!_cache!.TryGetTarget(out float[]? values))
                {
                    values = _load!();
                    if (values.Length != Length)
                    {
                        throw new InvalidOperationException($"an on-demand tensor read {values.Length} values, not {Length}");
                    }

                    _cache.SetTarget(values);
                }

                return values;
            }
        }
    }

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
        float[] data = Data;
        var t = new float[data.Length];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                t[(c * rows) + r] = data[(r * cols) + c];
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

        float[] data = Data;
        var t = new float[data.Length];
        for (int i = 0; i < t.Length; i++)
        {
            t[i] = data[i] * factor;
        }

        return new FloatTensor(Shape, t);
    }
}
