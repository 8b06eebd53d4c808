using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Text;
using System.Text.RegularExpressions;
using Cimc.Diagnostics;

namespace Cimc.Data;

/// <summary>
/// NumPy's .npy format (versions 1 to 3), C order. Reads float32, float64, float16, uint8, int8,
/// int32 and int64 (little-endian) into float32 or into labels; writes float32.
/// </summary>
public static partial class Npy
{
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    private sealed record Header(string Descr, ImmutableArray<int> Shape, int DataOffset)
    {
        /// <summary>Elements the shape holds (1 for a scalar's empty shape).</summary>
        public long Count
        {
            get
            {
                long count = 1;
                foreach (int d in Shape)
                {
                    count *= d;
                }

                return count;
            }
        }
    }

    public static NdArray Read(string path)
    {
        byte[] bytes = ReadFile(path);
        Header header = ParseHeader(bytes, path);
        long count = header.Count;

        var data = new float[count];
        ReadOnlySpan<byte> body = BodyOf(bytes, header, count, path);
        int size = ItemSize(header.Descr, path);
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (float)ReadItem(body.Slice(i * size, size), header.Descr);
        }

        return new NdArray(header.Shape, data);
    }

    /// <summary>Reads integer class labels (any integer type; float files must hold whole numbers).</summary>
    public static Labels ReadLabels(string path)
    {
        byte[] bytes = ReadFile(path);
        Header header = ParseHeader(bytes, path);
        long count = header.Count;

        ReadOnlySpan<byte> body = BodyOf(bytes, header, count, path);
        int size = ItemSize(header.Descr, path);
        var labels = ImmutableArray.CreateBuilder<int>((int)count);
        for (int i = 0; i < count; i++)
        {
            double v = ReadItem(body.Slice(i * size, size), header.Descr);
            if (v != Math.Floor(v) || v < int.MinValue || v > int.MaxValue)
            {
                throw new CimcException("bad-labels", path, $"label {i} is {v}, not an integer");
            }

            labels.Add((int)v);
        }

        return new Labels(labels.MoveToImmutable());
    }

    public static void Write(string path, NdArray array)
    {
        string shape = array.Shape.Length == 1 ? $"({array.Shape[0]},)" : $"({string.Join(", ", array.Shape)})";
        string dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}";
        int unpadded = Magic.Length + 2 + 2 + dict.Length + 1;
        int padding = (64 - (unpadded % 64)) % 64;
        string headerText = dict + new string(' ', padding) + "\n";
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write);
        stream.Write(Magic);
        stream.WriteByte(1);
        stream.WriteByte(0);
        Span<byte> len = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(len, (ushort)headerText.Length);
        stream.Write(len);
        stream.Write(Encoding.ASCII.GetBytes(headerText));
        stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(array.Data.AsSpan()));
    }

    private static byte[] ReadFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new CimcException("file-not-found", path, "no such file");
        }

        long length = new FileInfo(path).Length;
        if (length > (ReadBudget.MaxElements * 8) + (1 << 20))
        {
            throw new CimcException("file-too-large", path, $"the file is {length} bytes, too large to read");
        }

        return File.ReadAllBytes(path);
    }

    private static Header ParseHeader(byte[] bytes, string path)
    {
        if (bytes.Length < 10 || !bytes.AsSpan(0, 6).SequenceEqual(Magic))
        {
            throw new CimcException("bad-npy", path, "not a .npy file (missing \\x93NUMPY magic)");
        }

        int major = bytes[6];
        int headerLength, start;
        if (major == 1)
        {
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8, 2));
            start = 10;
        }
        else if (major is 2 or 3)
        {
            if (bytes.Length < 12)
            {
                throw new CimcException("bad-npy", path, "truncated header");
            }

            uint l = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8, 4));
            headerLength = l > int.MaxValue ? int.MaxValue : (int)l;
            start = 12;
        }
        else
        {
            throw new CimcException("bad-npy", path, $"unsupported .npy version {major}");
        }

        if ((long)start + headerLength > bytes.Length)
        {
            throw new CimcException("bad-npy", path, "truncated header");
        }

        string text = Encoding.Latin1.GetString(bytes, start, headerLength);
        Match descr = DescrPattern().Match(text);
        Match fortran = FortranPattern().Match(text);
        Match shape = ShapePattern().Match(text);
        if (!descr.Success || !shape.Success)
        {
            throw new CimcException("bad-npy", path, "header lacks 'descr' or 'shape'");
        }

        if (fortran.Success && fortran.Groups[1].Value == "True")
        {
            throw new CimcException("bad-npy", path, "Fortran-order arrays are not supported; save with np.ascontiguousarray");
        }

        var dims = new List<long>();
        foreach (string part in shape.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!long.TryParse(part.TrimEnd('L'), out long d) || d < 0)
            {
                throw new CimcException("bad-npy", path, $"invalid shape '({shape.Groups[1].Value})'");
            }

            dims.Add(d);
        }

        new ReadBudget().ChargeElements(Limits.CheckedElementCount(dims, path), path);
        if (dims.Any(d => d > int.MaxValue))
        {
            throw new CimcException("tensor-too-large", path, "a dimension exceeds 2^31");
        }

        return new Header(descr.Groups[1].Value, [.. dims.Select(d => (int)d)], start + headerLength);
    }

    private static ReadOnlySpan<byte> BodyOf(byte[] bytes, Header header, long count, string path)
    {
        int size = ItemSize(header.Descr, path);
        long needed = count * size;
        if (header.DataOffset + needed > bytes.Length)
        {
            throw new CimcException("bad-npy", path, $"the file holds {bytes.Length - header.DataOffset} data bytes but shape [{string.Join(",", header.Shape)}] needs {needed}");
        }

        return bytes.AsSpan(header.DataOffset, (int)needed);
    }

    private static int ItemSize(string descr, string path) => descr switch
    {
        "<f4" => 4,
        "<f8" => 8,
        "<f2" => 2,
        "|u1" or "<u1" or "|i1" or "<i1" or "|b1" => 1,
        "<i4" or "<u4" => 4,
        "<i8" or "<u8" => 8,
        "<i2" or "<u2" => 2,
        _ => throw new CimcException("bad-npy", path, $"unsupported dtype '{descr}' (expected float32/float64/float16/uint8/int8/int32/int64, little-endian)"),
    };

    private static double ReadItem(ReadOnlySpan<byte> b, string descr) => descr switch
    {
        "<f4" => BinaryPrimitives.ReadSingleLittleEndian(b),
        "<f8" => BinaryPrimitives.ReadDoubleLittleEndian(b),
        "<f2" => (double)BinaryPrimitives.ReadHalfLittleEndian(b),
        "|u1" or "<u1" or "|b1" => b[0],
        "|i1" or "<i1" => (sbyte)b[0],
        "<i2" => BinaryPrimitives.ReadInt16LittleEndian(b),
        "<u2" => BinaryPrimitives.ReadUInt16LittleEndian(b),
        "<i4" => BinaryPrimitives.ReadInt32LittleEndian(b),
        "<u4" => BinaryPrimitives.ReadUInt32LittleEndian(b),
        "<i8" => BinaryPrimitives.ReadInt64LittleEndian(b),
        "<u8" => BinaryPrimitives.ReadUInt64LittleEndian(b),
        _ => throw new InvalidOperationException(descr),
    };

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
