using System.Collections;
using System.Runtime.CompilerServices;

namespace Cimc.Quantization;

/// <summary>
/// A layer's integer weights, row-major [out, in], held in the narrowest type that holds every
/// value: sbyte for weights of up to 8 bits (Qw &lt;= 127), short up to 16 bits, int beyond. A
/// billion 8-bit weights take 1 GB rather than the 4 GB of an int array, which is what keeps a 1 B
/// model's compile within 8 GB (docs/scale.md). Immutable: built once from the values it is given.
/// Reads go through the int indexer or <see cref="CopyTo"/>, so callers never see the width.
/// </summary>
[CollectionBuilder(typeof(QuantizedWeights), nameof(Create))]
public sealed class QuantizedWeights : IReadOnlyList<int>
{
    private readonly sbyte[]? _bytes;
    private readonly short[]? _shorts;
    private readonly int[]? _ints;

    private QuantizedWeights(sbyte[]? bytes, short[]? shorts, int[]? ints)
    {
        _bytes = bytes;
        _shorts = shorts;
        _ints = ints;
        Length = bytes?.Length ?? shorts?.Length ?? ints!.Length;
    }

    /// <summary>The values, stored in the narrowest of sbyte, short and int that holds them all.</summary>
    public static QuantizedWeights Create(ReadOnlySpan<int> values)
    {
        int min = 0, max = 0;
        foreach (int v in values)
        {
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }

        if (min >= sbyte.MinValue && max <= sbyte.MaxValue)
        {
            var b = new sbyte[values.Length];
            for (int i = 0; i < b.Length; i++)
            {
                b[i] = (sbyte)values[i];
            }

            return new QuantizedWeights(b, null, null);
        }

        if (min >= short.MinValue && max <= short.MaxValue)
        {
            var s = new short[values.Length];
            for (int i = 0; i < s.Length; i++)
            {
                s[i] = (short)values[i];
            }

            return new QuantizedWeights(null, s, null);
        }

        return new QuantizedWeights(null, null, values.ToArray());
    }

    /// <summary>Takes over an array of 8-bit weights (the quantizer fills it in place; nobody changes it after).</summary>
    public static QuantizedWeights Own(sbyte[] values) => new(values, null, null);

    /// <summary>Takes over an array of 16-bit weights.</summary>
    public static QuantizedWeights Own(short[] values) => new(null, values, null);

    /// <summary>Takes over an array of weights of more than 16 bits.</summary>
    public static QuantizedWeights Own(int[] values) => new(null, null, values);

    public int Length { get; }

    public int Count => Length;

    /// <summary>Bytes per stored weight: 1, 2 or 4.</summary>
    public int ElementBytes => _bytes is not null ? 1 : _shorts is not null ? 2 : 4;

    public int this[int index] => _bytes is not null ? _bytes[index] : _shorts is not null ? _shorts[index] : _ints![index];

    /// <summary>Copies <paramref name="destination"/>.Length values from <paramref name="start"/> as ints.</summary>
    public void CopyTo(int start, Span<int> destination)
    {
        if (_bytes is not null)
        {
            ReadOnlySpan<sbyte> s = _bytes.AsSpan(start, destination.Length);
            for (int i = 0; i < s.Length; i++)
            {
                destination[i] = s[i];
            }
        }
        else if (_shorts is not null)
        {
            ReadOnlySpan<short> s = _shorts.AsSpan(start, destination.Length);
            for (int i = 0; i < s.Length; i++)
            {
                destination[i] = s[i];
            }
        }
        else
        {
            _ints.AsSpan(start, destination.Length).CopyTo(destination);
        }
    }

    /// <summary>
    /// For <paramref name="count"/> weights w from <paramref name="start"/>, writes table[w + offset]
    /// to every <paramref name="stride"/>-th byte of <paramref name="destination"/>: a crossbar column's
    /// cell levels of one plane straight from the stored weights (no int copy).
    /// </summary>
    public void Gather(int start, int count, ReadOnlySpan<byte> table, int offset, Span<byte> destination, int stride)
    {
        if (_bytes is not null)
        {
            ReadOnlySpan<sbyte> s = _bytes.AsSpan(start, count);
            for (int k = 0; k < s.Length; k++)
            {
                destination[k * stride] = table[s[k] + offset];
            }
        }
        else if (_shorts is not null)
        {
            ReadOnlySpan<short> s = _shorts.AsSpan(start, count);
            for (int k = 0; k < s.Length; k++)
            {
                destination[k * stride] = table[s[k] + offset];
            }
        }
        else
        {
            ReadOnlySpan<int> s = _ints.AsSpan(start, count);
            for (int k = 0; k < s.Length; k++)
            {
                destination[k * stride] = table[s[k] + offset];
            }
        }
    }

    /// <summary>The sum of <paramref name="count"/> values from <paramref name="start"/> (a row's sum, for the effective bias).</summary>
    public long Sum(int start, int count)
    {
        long sum = 0;
        if (_bytes is not null)
        {
            foreach (sbyte v in _bytes.AsSpan(start, count))
            {
                sum += v;
            }
        }
        else if (_shorts is not null)
        {
            foreach (short v in _shorts.AsSpan(start, count))
            {
                sum += v;
            }
        }
        else
        {
            foreach (int v in _ints.AsSpan(start, count))
            {
                sum += v;
            }
        }

        return sum;
    }

    public IEnumerator<int> GetEnumerator()
    {
        for (int i = 0; i < Length; i++)
        {
            yield return this[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
