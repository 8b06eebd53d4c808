using System.IO.Compression;
using System.Text;

namespace Cimc.Tests.Import;

/// <summary>A tensor of a hand-built state_dict: a view (size, stride) of the one float32 storage '0'.</summary>
internal sealed record ArchiveTensor(string Name, long[] Size, long[] Stride);

/// <summary>
/// Writes torch.save-style state_dict archives byte by byte (protocol-2 pickle, zip entries under
/// one top folder), so tests can declare tensors and storages that no exporter would write:
/// several views of one storage, a storage entry whose declared size its data cannot back.
/// </summary>
internal static class TorchArchives
{
    /// <summary>
    /// An archive whose tensors all view storage '0' of <paramref name="numel"/> float32 values.
    /// <paramref name="storage"/> is written deflated; <paramref name="declaredBytes"/>, if given,
    /// replaces the entry's uncompressed size in the zip headers.
    /// </summary>
    public static byte[] StateDict(ArchiveTensor[] tensors, long numel, Action<Stream> storage, long? declaredBytes = null)
    {
        var target = new MemoryStream();
        using (var zip = new ZipArchive(target, ZipArchiveMode.Create, leaveOpen: true))
        {
            using (Stream s = zip.CreateEntry("archive/data.pkl", CompressionLevel.NoCompression).Open())
            {
                s.Write(Pickle(tensors, numel));
            }

            using (Stream s = zip.CreateEntry("archive/data/0", CompressionLevel.Fastest).Open())
            {
                storage(s);
            }
        }

        byte[] bytes = target.ToArray();
        if (declaredBytes is { } declared)
        {
            PatchUncompressedSize(bytes, "archive/data/0", (uint)declared);
        }

        return bytes;
    }

    /// <summary>Writes <paramref name="count"/> float32 zeros without holding them in memory.</summary>
    public static Action<Stream> Zeros(long count) => s =>
    {
        var chunk = new byte[1 << 20];
        for (long left = count * 4; left > 0; left -= chunk.Length)
        {
            s.Write(chunk, 0, (int)Math.Min(chunk.Length, left));
        }
    };

    public static Action<Stream> Values(float[] values) => s =>
    {
        foreach (float v in values)
        {
            s.Write(BitConverter.GetBytes(v));
        }
    };

    private static byte[] Pickle(ArchiveTensor[] tensors, long numel)
    {
        var p = new List<byte> { 0x80, 2 };
        void Op(char c) => p.Add((byte)c);
        void Text(string s) => p.AddRange(Encoding.ASCII.GetBytes(s));
        void Str(string s)
        {
            Op('X');
            p.AddRange(BitConverter.GetBytes(s.Length));
            Text(s);
        }

        void Int(long v)
        {
            Op('J');
            p.AddRange(BitConverter.GetBytes(checked((int)v)));
        }

        void Global(string module, string name)
        {
            Op('c');
            Text($"{module}\n{name}\n");
        }

        void Tuple(long[] values)
        {
            Op('(');
            foreach (long v in values)
            {
                Int(v);
            }

            Op('t');
        }

        Global("collections", "OrderedDict");
        Op(')');
        Op('R');
        Op('(');
        foreach (ArchiveTensor t in tensors)
        {
            Str(t.Name);
            Global("torch._utils", "_rebuild_tensor_v2");
            Op('(');
            Op('(');
            Str("storage");
            Global("torch", "FloatStorage");
            Str("0");
            Str("cpu");
            Int(numel);
            Op('t');
            Op('Q');
            Int(0);
            Tuple(t.Size);
            Tuple(t.Stride);
            p.Add(0x89);
            Global("collections", "OrderedDict");
            Op(')');
            Op('R');
            Op('t');
            Op('R');
        }

        Op('u');
        Op('.');
        return [.. p];
    }

    /// <summary>Sets the uncompressed size of an entry in its local and central headers.</summary>
    private static void PatchUncompressedSize(byte[] zip, string name, uint size)
    {
        byte[] nameBytes = Encoding.ASCII.GetBytes(name);
        for (int i = 0; i + 46 < zip.Length; i++)
        {
            uint sig = BitConverter.ToUInt32(zip, i);
            (int sizeAt, int nameAt) = sig switch
            {
                0x04034b50 => (22, 30),
                0x02014b50 => (24, 46),
                _ => (-1, -1),
            };
            if (sizeAt > 0 && zip.AsSpan(i + nameAt).StartsWith(nameBytes))
            {
                BitConverter.GetBytes(size).CopyTo(zip, i + sizeAt);
            }
        }
    }
}
