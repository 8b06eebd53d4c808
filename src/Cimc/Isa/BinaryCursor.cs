using System.Buffers.Binary;
using Cimc.Diagnostics;

namespace Cimc.Isa;

/// <summary>
/// Reads little-endian values from a byte span, refusing to read past the end; every failure is a
/// one-line CimcException naming the file and what was being read.
/// </summary>
internal ref struct BinaryCursor(ReadOnlySpan<byte> bytes, string location, string code)
{
    private readonly ReadOnlySpan<byte> _bytes = bytes;
    private int _pos;

    public readonly int Position => _pos;

    public readonly long Remaining => _bytes.Length - _pos;

    public readonly CimcException Error(string message) => new(code, location, $"{message} (at byte {_pos})");

    public ReadOnlySpan<byte> Take(long count, string what)
    {
        if (count < 0 || count > Remaining)
        {
            throw Error($"truncated: {what} needs {count} bytes, {Remaining} left");
        }

        ReadOnlySpan<byte> s = _bytes.Slice(_pos, (int)count);
        _pos += (int)count;
        return s;
    }

    public int ReadInt32(string what) => BinaryPrimitives.ReadInt32LittleEndian(Take(4, what));

    public long ReadInt64(string what) => BinaryPrimitives.ReadInt64LittleEndian(Take(8, what));

    public double ReadDouble(string what) => BinaryPrimitives.ReadDoubleLittleEndian(Take(8, what));

    /// <summary>A count of items of <paramref name="itemBytes"/> bytes each, checked against the bytes left before anyone allocates.</summary>
    public int ReadCount(string what, long itemBytes)
    {
        int n = ReadInt32(what);
        if (n < 0 || (itemBytes > 0 && n > Remaining / itemBytes))
        {
            throw Error($"{what} {n} does not fit in the {Remaining} bytes left");
        }

        return n;
    }

    public readonly void ExpectEnd()
    {
        if (Remaining != 0)
        {
            throw Error($"{Remaining} unexpected trailing bytes");
        }
    }
}

internal static class BinaryFiles
{
    /// <summary>
    /// Largest program.bin read into memory: the largest byte array (about 2 GiB, over 100 million
    /// instructions). What is allocated is what the file holds; weights.bin, the large one, is read
    /// as a stream at any size.
    /// </summary>
    public static long MaxBytes => Array.MaxLength;

    public static byte[] ReadAll(string path, string code)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new CimcException(code, path, "file not found");
        }

        if (info.Length > MaxBytes)
        {
            throw new CimcException(code, path, $"file of {info.Length} bytes exceeds the limit of {MaxBytes}");
        }

        return File.ReadAllBytes(path);
    }
}
