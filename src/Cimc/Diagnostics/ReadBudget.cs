namespace Cimc.Diagnostics;

/// <summary>
/// What one file may make cimc allocate, counted over all of its tensors: decompressed bytes (a
/// storage shared by several tensors counts once) and values gathered into float arrays. The
/// per-tensor limit of <see cref="Limits"/> alone lets a 2 MB archive of deflated zeros declare
/// several large tensors over one storage and take gigabytes; this refuses it before allocating.
/// The budget is far above any MLP a crossbar chip holds (ISAAC's 168 tiles hold a few million
/// 16-bit weights).
/// </summary>
public sealed class ReadBudget
{
    /// <summary>Values per file: 2^27 (512 MiB as float32).</summary>
    public const long MaxElements = 1L << 27;

    /// <summary>Decompressed or copied bytes per file: 512 MiB.</summary>
    public const long MaxBytes = 1L << 29;

    private long _elements;
    private long _bytes;

    public void ChargeElements(long count, string location)
    {
        _elements += count;
        if (count < 0 || _elements > MaxElements)
        {
            throw new CimcException("file-budget", location,
                $"the file holds more than {MaxElements} values in all; cimc reads at most that many from one file");
        }
    }

    public void ChargeBytes(long count, string location)
    {
        _bytes += count;
        if (count < 0 || _bytes > MaxBytes)
        {
            throw new CimcException("file-budget", location,
                $"the file decompresses to more than {MaxBytes} bytes of data; cimc reads at most that much from one file");
        }
    }
}
