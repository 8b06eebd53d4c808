using System.Buffers.Binary;
using System.IO.Compression;
using Cimc.Data;
using Cimc.Diagnostics;

namespace Cimc.Tests.Data;

public sealed class DataFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cimc-data-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    private static byte[] NpyBytes(string descr, string shape, byte[] body)
    {
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}";
        int pad = (64 - ((10 + dict.Length + 1) % 64)) % 64;
        string header = dict + new string(' ', pad) + "\n";
        var bytes = new List<byte> { 0x93 };
        bytes.AddRange("NUMPY"u8.ToArray());
        bytes.AddRange([1, 0, (byte)(header.Length & 0xff), (byte)(header.Length >> 8)]);
        bytes.AddRange(System.Text.Encoding.ASCII.GetBytes(header));
        bytes.AddRange(body);
        return [.. bytes];
    }

    [Fact]
    public void Npy_float32_round_trips_through_write_and_read()
    {
        var a = new NdArray([2, 3], [1, 2, 3, 4.5f, -6, 7e-8f]);
        Npy.Write(PathOf("a.npy"), a);
        NdArray b = Npy.Read(PathOf("a.npy"));
        Assert.Equal(a.Shape.ToArray(), b.Shape.ToArray());
        Assert.Equal(a.Data, b.Data);
    }

    [Fact]
    public void Npy_reads_float64_uint8_and_int64_labels()
    {
        var f64 = new byte[16];
        BinaryPrimitives.WriteDoubleLittleEndian(f64, 1.25);
        BinaryPrimitives.WriteDoubleLittleEndian(f64.AsSpan(8), -3.5);
        File.WriteAllBytes(PathOf("d.npy"), NpyBytes("<f8", "(2,)", f64));
        Assert.Equal([1.25f, -3.5f], Npy.Read(PathOf("d.npy")).Data);

        File.WriteAllBytes(PathOf("u.npy"), NpyBytes("|u1", "(1, 3)", [0, 128, 255]));
        Assert.Equal([0f, 128f, 255f], Npy.Read(PathOf("u.npy")).Data);

        var i64 = new byte[24];
        for (int i = 0; i < 3; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(i64.AsSpan(8 * i), 7 - i);
        }

        File.WriteAllBytes(PathOf("l.npy"), NpyBytes("<i8", "(3,)", i64));
        Assert.Equal(new[] { 7, 6, 5 }, Npy.ReadLabels(PathOf("l.npy")).Values.ToArray());
    }

    [Fact]
    public void Npy_with_a_huge_claimed_shape_or_short_body_is_refused()
    {
        File.WriteAllBytes(PathOf("huge.npy"), NpyBytes("<f4", "(1000000, 1000000)", new byte[16]));
        Assert.Throws<CimcException>(() => Npy.Read(PathOf("huge.npy")));
        File.WriteAllBytes(PathOf("short.npy"), NpyBytes("<f4", "(10,)", new byte[16]));
        Assert.Throws<CimcException>(() => Npy.Read(PathOf("short.npy")));
        File.WriteAllBytes(PathOf("fortran.npy"), NpyBytes("<f4", "(1,)", new byte[4]).Select(b => b).ToArray());
        File.WriteAllBytes(PathOf("random.npy"), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        Assert.Throws<CimcException>(() => Npy.Read(PathOf("random.npy")));
    }

    private static byte[] IdxBytes(byte type, int[] dims, byte[] body)
    {
        var bytes = new List<byte> { 0, 0, type, (byte)dims.Length };
        foreach (int d in dims)
        {
            var b = new byte[4];
            BinaryPrimitives.WriteInt32BigEndian(b, d);
            bytes.AddRange(b);
        }

        bytes.AddRange(body);
        return [.. bytes];
    }

    [Fact]
    public void Idx_images_are_read_raw_and_gzipped()
    {
        byte[] raw = IdxBytes(0x08, [2, 2, 2], [0, 1, 2, 3, 4, 5, 6, 255]);
        File.WriteAllBytes(PathOf("img-idx3-ubyte"), raw);
        using (var gz = new GZipStream(File.Create(PathOf("img-idx3-ubyte.gz")), CompressionLevel.Fastest))
        {
            gz.Write(raw);
        }

        foreach (string name in new[] { "img-idx3-ubyte", "img-idx3-ubyte.gz" })
        {
            NdArray a = DataFiles.ReadArray(PathOf(name));
            Assert.Equal(new[] { 2, 2, 2 }, a.Shape.ToArray());
            Assert.Equal(255f, a.Data[7]);
        }
    }

    [Fact]
    public void Idx_labels_and_bad_idx_files_give_labels_or_a_diagnostic()
    {
        File.WriteAllBytes(PathOf("lab"), IdxBytes(0x08, [3], [9, 0, 4]));
        Assert.Equal(new[] { 9, 0, 4 }, DataFiles.ReadLabels(PathOf("lab")).Values.ToArray());
        File.WriteAllBytes(PathOf("short"), IdxBytes(0x08, [100000, 100000], [1, 2]));
        Assert.Throws<CimcException>(() => DataFiles.ReadArray(PathOf("short")));
        File.WriteAllBytes(PathOf("junk"), [1, 2, 3]);
        Assert.Throws<CimcException>(() => DataFiles.ReadArray(PathOf("junk")));
        File.WriteAllBytes(PathOf("junk.gz"), [0x1f, 0x8b, 3, 4, 5, 6]);
        Assert.Throws<CimcException>(() => DataFiles.ReadArray(PathOf("junk.gz")));
    }

    [Fact]
    public void Csv_skips_a_header_and_refuses_ragged_rows()
    {
        File.WriteAllText(PathOf("x.csv"), "a,b\n1,2\n3.5,-4\n");
        NdArray a = DataFiles.ReadArray(PathOf("x.csv"));
        Assert.Equal(new[] { 2, 2 }, a.Shape.ToArray());
        Assert.Equal([1f, 2f, 3.5f, -4f], a.Data);
        File.WriteAllText(PathOf("bad.csv"), "1,2\n3\n");
        var e = Assert.Throws<CimcException>(() => DataFiles.ReadArray(PathOf("bad.csv")));
        Assert.Contains("bad.csv:2", e.Message);
        File.WriteAllText(PathOf("y.csv"), "label\n3\n1\n");
        Assert.Equal(new[] { 3, 1 }, DataFiles.ReadLabels(PathOf("y.csv")).Values.ToArray());
    }
}
