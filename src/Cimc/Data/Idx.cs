using System.Buffers.Binary;
using System.Collections.Immutable;
using System.IO.Compression;
using Cimc.Diagnostics;

namespace Cimc.Data;

/// <summary>
/// The IDX format of MNIST and Fashion-MNIST (raw or gzip-compressed): a big-endian header with the
/// element type and the dimensions, then the values. Images come out as float32 (not rescaled),
/// labels as integers.
/// </summary>
public static class Idx
{
    public static NdArray Read(string path)
    {
        (byte type, ImmutableArray<int> dims, byte[] body) = Load(path);
        int size = ItemSize(type, path);
        var data = new float[body.Length / size];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (float)Item(body.AsSpan(i * size, size), type);
        }

        return new NdArray(dims, data);
    }

    public static Labels ReadLabels(string path)
    {
        NdArray values = Read(path);
        var labels = ImmutableArray.CreateBuilder<int>(values.Data.Length);
        foreach (float v in values.Data)
        {
            if (v != MathF.Floor(v))
            {
                throw new CimcException("bad-labels", path, $"label {v} is not an integer");
            }

            labels.Add((int)v);
        }

        return new Labels(labels.MoveToImmutable());
    }

    private static (byte Type, ImmutableArray<int> Dims, byte[] Body) Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new CimcException("file-not-found", path, "no such file");
        }

        using FileStream file = File.OpenRead(path);
        Span<byte> magic = stackalloc byte[2];
        bool gzip = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
        file.Position = 0;
        using Stream stream = gzip ? new GZipStream(file, CompressionMode.Decompress) : file;
        try
        {
            var head = new byte[4];
            ReadExactly(stream, head, path);
            if (head[0] != 0 || head[1] != 0 || head[3] is 0 or > 8)
            {
                throw new CimcException("bad-idx", path, "not an IDX file (bad magic number)");
            }

            byte type = head[2];
            int size = ItemSize(type, path);
            var dimBytes = new byte[4 * head[3]];
            ReadExactly(stream, dimBytes, path);
            var dims = new long[head[3]];
            for (int i = 0; i < dims.Length; i++)
            {
                dims[i] = BinaryPrimitives.ReadUInt32BigEndian(dimBytes.AsSpan(4 * i, 4));
            }

            long count = Limits.CheckedElementCount(dims, path);
            var budget = new ReadBudget();
            budget.ChargeElements(count, path);
            budget.ChargeBytes(count * size, path);
            long total = 4 + dimBytes.Length + (count * size);
            if (!gzip && total > file.Length)
            {
                throw new CimcException("bad-idx", path, $"the header promises {count} values but the file is too short");
            }

            // gzip ends with the uncompressed size modulo 2^32: check it before allocating for the body.
            if (gzip && GzipSize(file) is { } stated && stated != (uint)total)
            {
                throw new CimcException("bad-idx", path, $"the header promises {count} values ({total} bytes) but the gzip data holds {stated} bytes");
            }

            var body = new byte[count * size];
            ReadExactly(stream, body, path);
            return (type, [.. dims.Select(d => (int)d)], body);
        }
        catch (InvalidDataException e)
        {
            throw new CimcException("bad-idx", path, $"corrupt gzip data ({e.Message})");
        }
    }

    /// <summary>The ISIZE field of a gzip stream's trailer, or null if the file is too short to have one.</summary>
    private static uint? GzipSize(FileStream file)
    {
        if (file.Length < 18)
        {
            return null;
        }

        Span<byte> trailer = stackalloc byte[4];
        using var raw = new FileStream(file.Name, FileMode.Open, FileAccess.Read, FileShare.Read);
        raw.Position = raw.Length - 4;
        raw.ReadExactly(trailer);
        return BinaryPrimitives.ReadUInt32LittleEndian(trailer);
    }

    private static void ReadExactly(Stream stream, byte[] buffer, string path)
    {
        if (stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false) != buffer.Length)
        {
            throw new CimcException("bad-idx", path, "the file ends before the data it declares");
        }
    }

    private static int ItemSize(byte type, string path) => type switch
    {
        0x08 or 0x09 => 1,
        0x0B => 2,
        0x0C or 0x0D => 4,
        0x0E => 8,
        _ => throw new CimcException("bad-idx", path, $"unknown IDX element type 0x{type:X2}"),
    };

    private static double Item(ReadOnlySpan<byte> b, byte type) => type switch
    {
        0x08 => b[0],
        0x09 => (sbyte)b[0],
        0x0B => BinaryPrimitives.ReadInt16BigEndian(b),
        0x0C => BinaryPrimitives.ReadInt32BigEndian(b),
        0x0D => BinaryPrimitives.ReadSingleBigEndian(b),
        _ => BinaryPrimitives.ReadDoubleBigEndian(b),
    };
}
