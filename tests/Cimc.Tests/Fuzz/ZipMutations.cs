using System.IO.Compression;

namespace Cimc.Tests.Fuzz;

/// <summary>
/// Mutations that know the zip layout of PyTorch archives: a header field (entry count, sizes,
/// compression method, name length, offsets) set to an edge value, an entry's content mutated
/// and the archive rewritten, and the archive rewritten with deflated entries (which is how a
/// small file can declare a huge tensor).
/// </summary>
internal static class ZipMutations
{
    /// <summary>(signature, field offsets and widths) of the end-of-central-directory, central and local headers.</summary>
    private static readonly (uint Signature, (int Offset, int Width)[] Fields)[] Records =
    [
        (0x06054b50, [(8, 2), (10, 2), (12, 4), (16, 4), (20, 2)]),
        (0x02014b50, [(10, 2), (20, 4), (24, 4), (28, 2), (30, 2), (42, 4)]),
        (0x04034b50, [(8, 2), (18, 4), (22, 4), (26, 2), (28, 2)]),
    ];

    public static (byte[] Bytes, string What) Any(Random rng, byte[] seed) => !IsZip(seed) ? ByteMutations.Any(rng, seed) : rng.Next(3) switch
    {
        0 => EditHeaderField(rng, seed),
        1 => EditEntry(rng, seed, deflate: rng.Next(2) == 0),
        _ => Deflated(EditHeaderField(rng, Deflated(seed))),
    };

    private static (byte[], string) Deflated((byte[] Bytes, string What) m) => (m.Bytes, "deflated archive, " + m.What);

    public static (byte[], string) EditHeaderField(Random rng, byte[] seed)
    {
        var found = new List<(int At, int Record)>();
        for (int i = 0; i + 4 <= seed.Length; i++)
        {
            uint sig = (uint)ByteMutations.ReadLittleEndian(seed, i, 4);
            int r = Array.FindIndex(Records, x => x.Signature == sig);
            if (r >= 0)
            {
                found.Add((i, r));
            }
        }

        if (found.Count == 0)
        {
            return ByteMutations.Overwrite(rng, seed);
        }

        (int at, int record) = found[rng.Next(found.Count)];
        (int offset, int width) = Records[record].Fields[rng.Next(Records[record].Fields.Length)];
        if (at + offset + width > seed.Length)
        {
            return ByteMutations.Overwrite(rng, seed);
        }

        byte[] b = [.. seed];
        ulong old = ByteMutations.ReadLittleEndian(b, at + offset, width);
        ulong value = ByteMutations.EdgeValue(rng, old);
        ByteMutations.WriteLittleEndian(b, at + offset, width, value);
        return (b, $"zip record 0x{Records[record].Signature:X8} at {at}: field +{offset} {old} -> {value & (width == 8 ? ulong.MaxValue : (1UL << (8 * width)) - 1)}");
    }

    /// <summary>Mutates one entry's bytes (the pickle, a storage, the code) and writes the archive again.</summary>
    public static (byte[], string) EditEntry(Random rng, byte[] seed, bool deflate)
    {
        string[] names = EntryNames(seed);
        if (names.Length == 0)
        {
            return ByteMutations.Any(rng, seed);
        }

        // The pickle is the most interesting entry; give it half the cases.
        string target = rng.Next(2) == 0 && names.FirstOrDefault(n => n.EndsWith("data.pkl", StringComparison.Ordinal)) is { } pkl
            ? pkl
            : names[rng.Next(names.Length)];
        string what = "";
        byte[] rewritten = Rewrite(seed, (name, bytes) =>
        {
            if (name != target)
            {
                return null;
            }

            (byte[] m, string w) = ByteMutations.Any(rng, bytes);
            what = w;
            return m;
        }, deflate);
        return (rewritten, $"entry '{target}'{(deflate ? " (deflated)" : "")}: {what}");
    }

    private static bool IsZip(byte[] b) => b.Length > 4 && b[0] == (byte)'P' && b[1] == (byte)'K';

    private static string[] EntryNames(byte[] zip)
    {
        try
        {
            using var archive = new ZipArchive(new MemoryStream(zip), ZipArchiveMode.Read);
            return [.. archive.Entries.Select(e => e.FullName)];
        }
        catch (InvalidDataException)
        {
            return [];
        }
    }

    private static byte[] Rewrite(byte[] seed, Func<string, byte[], byte[]?> change, bool deflate)
    {
        using var source = new ZipArchive(new MemoryStream(seed), ZipArchiveMode.Read);
        var target = new MemoryStream();
        using (var output = new ZipArchive(target, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (ZipArchiveEntry e in source.Entries)
            {
                var content = new MemoryStream();
                using (Stream s = e.Open())
                {
                    s.CopyTo(content);
                }

                byte[] bytes = change(e.FullName, content.ToArray()) ?? content.ToArray();
                ZipArchiveEntry copy = output.CreateEntry(e.FullName, deflate ? CompressionLevel.Optimal : CompressionLevel.NoCompression);
                using Stream w = copy.Open();
                w.Write(bytes);
            }
        }

        return target.ToArray();
    }

    /// <summary>The archive with every entry deflated (a valid file; the seed for header edits of deflated archives).</summary>
    public static byte[] Deflated(byte[] seed) => Rewrite(seed, (_, _) => null, deflate: true);
}
