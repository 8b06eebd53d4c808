using System.IO.Compression;
using Cimc.Diagnostics;
using Cimc.Import.Torch.Pickle;

namespace Cimc.Import.Torch;

/// <summary>
/// The zip form of torch.save and torch.jit.save: `&lt;top&gt;/data.pkl` holds the object, storages
/// are entries `&lt;top&gt;/data/&lt;key&gt;`, and TorchScript adds `constants.pkl` and `code/`. The top
/// folder is named after the saved file, so it is found rather than assumed.
/// </summary>
internal sealed class TorchArchive : TorchFile
{
    /// <summary>Deflate's largest expansion: a 258-byte match in about 2 bits.</summary>
    private const long MaxDeflateRatio = 1032;

    private readonly ZipArchive _zip;
    private readonly Dictionary<string, ZipArchiveEntry> _entries = new(StringComparer.Ordinal);

    private TorchArchive(string path, ZipArchive zip, ZipArchiveEntry[] entries, string prefix)
        : base(path)
    {
        _zip = zip;
        Prefix = prefix;
        foreach (ZipArchiveEntry e in entries)
        {
            if (e.FullName.StartsWith(prefix, StringComparison.Ordinal))
            {
                _entries.TryAdd(e.FullName[prefix.Length..], e);
            }
        }
    }

    /// <summary>The top folder with its slash, e.g. "model/".</summary>
    public string Prefix { get; }

    /// <summary>TorchScript archives carry the module's code next to its data.</summary>
    public bool IsTorchScript => _entries.Keys.Any(k => k.StartsWith("code/", StringComparison.Ordinal)) || Has("constants.pkl");

    public static TorchArchive Open(string path)
    {
        ZipArchive zip;
        ZipArchiveEntry[] entries;
        try
        {
            // The central directory is read lazily, on the first look at the entries: an
            // inconsistent one (a wrong entry count, a bad offset) throws there, not in OpenRead.
            zip = ZipFile.OpenRead(path);
            try
            {
                entries = [.. zip.Entries];
            }
            catch
            {
                zip.Dispose();
                throw;
            }
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentException or NotSupportedException or IOException)
        {
            throw new CimcException("bad-archive", path, $"not a readable PyTorch zip archive ({e.Message})");
        }

        try
        {
            // `data.pkl` one folder deep; a few writers put it at the root.
            ZipArchiveEntry? pkl = entries
                .Where(e => e.FullName.EndsWith("data.pkl", StringComparison.Ordinal))
                .Where(e => e.FullName == "data.pkl" || (e.FullName.Count(c => c == '/') == 1 && e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal)))
                .OrderBy(e => e.FullName.Length)
                .FirstOrDefault();
            if (pkl is null)
            {
                throw new CimcException("bad-archive", path, "the zip archive has no data.pkl; it is not a torch.save file");
            }

            var archive = new TorchArchive(path, zip, entries, pkl.FullName[..^"data.pkl".Length]);
            archive.Root = archive.LoadPickle("data.pkl");
            return archive;
        }
        catch
        {
            zip.Dispose();
            throw;
        }
    }

    protected override Func<TorchFile>? Reopen()
    {
        string path = Path;
        return () => Open(path);
    }

    public bool Has(string relative) => _entries.ContainsKey(relative);

    /// <summary>Relative names of the entries under a folder, e.g. "code/".</summary>
    public IEnumerable<string> EntriesUnder(string folder) =>
        _entries.Keys.Where(k => k.StartsWith(folder, StringComparison.Ordinal)).Order(StringComparer.Ordinal);

    public object? LoadPickle(string relative)
    {
        string location = $"{Path}: {Prefix}{relative}";
        byte[] bytes = ReadEntry(relative, 64L * 1024 * 1024, location);
        return PickleMachine.Load(bytes, location, pid => TensorRebuild.StorageFromPersistentId(pid, location));
    }

    public string ReadText(string relative, string location) =>
        System.Text.Encoding.UTF8.GetString(ReadEntry(relative, 16L * 1024 * 1024, location));

    protected override byte[] ReadStorage(StorageRef storage, long bytes, string location)
    {
        ZipArchiveEntry e = StorageEntry(storage, location);
        CheckStorageSize(e.Length, bytes, storage, location);
        return ReadEntry($"data/{storage.Key}", bytes, location, exactly: bytes);
    }

    protected override bool CanReadContiguous(StorageRef storage, long offset, long length, string location)
    {
        ZipArchiveEntry e = StorageEntry(storage, location);
        CheckStorageSize(e.Length, storage.Numel * storage.DType.ItemSize(), storage, location);
        CheckExpansion(e, offset + length, location);
        Budget.ChargeBytes(length, location);
        return true;
    }

    protected override void ReadContiguous(StorageRef storage, long offset, Span<byte> destination, string location)
    {
        ZipArchiveEntry e = StorageEntry(storage, location);
        try
        {
            using Stream s = e.Open();
            Skip(s, offset);
            int read = s.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
            if (read < destination.Length)
            {
                throw new CimcException("bad-archive", location, $"entry '{e.FullName}' is truncated ({offset + read} of {offset + destination.Length} bytes)");
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or NotSupportedException or IOException)
        {
            throw new CimcException("bad-archive", location, $"entry '{e.FullName}' is corrupt ({ex.Message})");
        }
    }

    /// <summary>Moves a stored entry's stream forward (seeking when it can: an uncompressed entry of a file).</summary>
    private static void Skip(Stream s, long bytes)
    {
        if (bytes == 0)
        {
            return;
        }

        if (s.CanSeek)
        {
            s.Seek(bytes, SeekOrigin.Current);
            return;
        }

        var scratch = new byte[1 << 16];
        for (long left = bytes; left > 0;)
        {
            int n = s.Read(scratch, 0, (int)Math.Min(scratch.Length, left));
            if (n == 0)
            {
                return;
            }

            left -= n;
        }
    }

    private ZipArchiveEntry StorageEntry(StorageRef storage, string location) =>
        _entries.TryGetValue($"data/{storage.Key}", out ZipArchiveEntry? e) ? e
            : throw new CimcException("bad-archive", location, $"storage entry '{Prefix}data/{storage.Key}' is missing");

    /// <summary>A compressed entry cannot expand beyond deflate's largest ratio: refuse a size its compressed bytes cannot back before allocating for it.</summary>
    private static void CheckExpansion(ZipArchiveEntry e, long length, string location)
    {
        if (length > (e.CompressedLength * MaxDeflateRatio) + 64)
        {
            throw new CimcException("bad-archive", location,
                $"entry '{e.FullName}' declares {length} bytes but holds {e.CompressedLength} compressed bytes, which cannot expand to that");
        }
    }

    /// <summary>
    /// Reads an entry after checking its declared size, and for a compressed entry that its
    /// compressed bytes can hold that much (deflate expands at most about 1032 times), so that
    /// nothing is allocated for a size the file cannot back. Reads no more than that size.
    /// </summary>
    private byte[] ReadEntry(string relative, long maxBytes, string location, long? exactly = null)
    {
        if (!_entries.TryGetValue(relative, out ZipArchiveEntry? e))
        {
            throw new CimcException("bad-archive", location, $"entry '{Prefix}{relative}' is missing");
        }

        long length = exactly ?? e.Length;
        if (length > maxBytes || length > Array.MaxLength)
        {
            throw new CimcException("bad-archive", location, $"entry '{e.FullName}' declares {e.Length} bytes, more than cimc reads");
        }

        CheckExpansion(e, length, location);
        Budget.ChargeBytes(length, location);
        var buffer = new byte[length];
        try
        {
            using Stream s = e.Open();
            int read = s.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            if (read < buffer.Length)
            {
                throw new CimcException("bad-archive", location, $"entry '{e.FullName}' is truncated ({read} of {length} bytes)");
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or NotSupportedException or IOException)
        {
            throw new CimcException("bad-archive", location, $"entry '{e.FullName}' is corrupt ({ex.Message})");
        }

        return buffer;
    }

    public override void Dispose() => _zip.Dispose();
}
