namespace Cimc.Diagnostics;

/// <summary>
/// What one file may make cimc allocate, counted over all of its tensors: decompressed bytes (a
/// storage shared by several tensors counts once) and values gathered into float arrays. The
/// per-tensor limit of <see cref="Limits"/> alone lets a 2 MB archive of deflated zeros declare
/// several large tensors over one storage and take gigabytes; this refuses it before allocating.
/// The limits grow with the file: a file of B bytes may decompress to B bytes and gather B values
/// (float32 data stored as it is decompresses to its own size and gathers B / 4 values), never
/// less than the fixed floors, which are far above any MLP one crossbar chip holds. So a hostile
/// file makes cimc allocate at most a few times its own size, and a real billion-weight model reads.
/// </summary>
public sealed class ReadBudget(long fileBytes = 0)
{
    /// <summary>Values per file whatever its size: 2^27 (512 MiB as float32).</summary>
    public const long MaxElements = 1L << 27;

    /// <summary>Decompressed or copied bytes per file whatever its size: 512 MiB.</summary>
    public const long MaxBytes = 1L << 29;

    private long _elements;
    private long _bytes;

    /// <summary>Values this file may gather: the larger of <see cref="MaxElements"/> and its size in bytes.</summary>
    public long ElementLimit { get; } = Math.Max(MaxElements, fileBytes);

    /// <summary>Bytes this file may decompress or copy: the larger of <see cref="MaxBytes"/> and its size in bytes.</summary>
    public long ByteLimit { get; } = Math.Max(MaxBytes, fileBytes);

    public void ChargeElements(long count, string location)
    {
        _elements += count;
        if (count < 0 || _elements > ElementLimit)
        {
            throw new CimcException("file-budget", location,
                $"the file holds more than {ElementLimit} values in all; cimc reads at most that many from one file");
        }
    }

    public void ChargeBytes(long count, string location)
    {
        _bytes += count;
        if (count < 0 || _bytes > ByteLimit)
        {
            throw new CimcException("file-budget", location,
                $"the file decompresses to more than {ByteLimit} bytes of data; cimc reads at most that much from one file");
        }
    }
}
