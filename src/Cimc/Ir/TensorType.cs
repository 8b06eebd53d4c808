using System.Collections.Immutable;

namespace Cimc.Ir;

/// <summary>Element types a model file may store; computation in cimc's float reference is float32.</summary>
public enum ElementType
{
    Float32,
    Float64,
    Float16,
    Int64,
    Int32,
    UInt8,
    Int8,
}

/// <summary>
/// The type of a value flowing through the graph: element type and shape. A dimension below zero is
/// unknown at compile time (typically the batch), printed as '?'.
/// </summary>
public sealed record TensorType(ElementType Element, ImmutableArray<int> Dims)
{
    public const int Dynamic = -1;

    public int Rank => Dims.Length;

    public static TensorType Float(params int[] dims) => new(ElementType.Float32, [.. dims]);

    /// <summary>Product of the known dimensions from <paramref name="start"/> on, or null if any is unknown.</summary>
    public long? ElementsFrom(int start)
    {
        long n = 1;
        for (int i = start; i < Dims.Length; i++)
        {
            if (Dims[i] < 0)
            {
                return null;
            }

            n *= Dims[i];
        }

        return n;
    }

    public bool Equals(TensorType? other) =>
        other is not null && Element == other.Element && Dims.SequenceEqual(other.Dims);

    public override int GetHashCode() => HashCode.Combine(Element, Dims.Length);

    public override string ToString()
    {
        string element = Element switch
        {
            ElementType.Float32 => "f32",
            ElementType.Float64 => "f64",
            ElementType.Float16 => "f16",
            ElementType.Int64 => "i64",
            ElementType.Int32 => "i32",
            ElementType.UInt8 => "u8",
            ElementType.Int8 => "i8",
            _ => Element.ToString(),
        };
        return $"{element}[{string.Join(",", Dims.Select(d => d < 0 ? "?" : d.ToString()))}]";
    }
}
