namespace Cimc.Diagnostics;

/// <summary>
/// Bounds applied to anything read from a file before memory is allocated for it, so that a
/// corrupt or hostile file is refused with a message instead of exhausting memory.
/// </summary>
public static class Limits
{
    /// <summary>Largest tensor cimc accepts from a file: 512 M elements (2 GiB of float32).</summary>
    public const long MaxTensorElements = 512L * 1024 * 1024;

    /// <summary>
    /// Multiplies dimensions, refusing negative sizes and products above <see cref="MaxTensorElements"/>.
    /// </summary>
    public static long CheckedElementCount(IEnumerable<long> dims, string location)
    {
        long count = 1;
        foreach (long d in dims)
        {
            if (d < 0)
            {
                throw new CimcException("tensor-shape", location, $"negative dimension {d}");
            }

            if (d != 0 && count > MaxTensorElements / d)
            {
                throw new CimcException("tensor-too-large", location,
                    $"tensor of shape [{string.Join(", ", dims)}] exceeds the limit of {MaxTensorElements} elements");
            }

            count *= d;
        }

        if (count > MaxTensorElements)
        {
            throw new CimcException("tensor-too-large", location,
                $"tensor of shape [{string.Join(", ", dims)}] exceeds the limit of {MaxTensorElements} elements");
        }

        return count;
    }
}
