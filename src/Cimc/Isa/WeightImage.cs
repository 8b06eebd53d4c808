using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Runtime.InteropServices;
using System.Text;
using Cimc.Diagnostics;

namespace Cimc.Isa;

/// <summary>Which crossbar: global core id and crossbar index within the core.</summary>
public readonly record struct CrossbarId(int Core, int Crossbar) : IComparable<CrossbarId>
{
    public int CompareTo(CrossbarId other) =>
        Core != other.Core ? Core.CompareTo(other.Core) : Crossbar.CompareTo(other.Crossbar);

    public override string ToString() => $"core {Core} xb {Crossbar}";
}

/// <summary>
/// One crossbar's levels computed on demand (the mapped blocks': docs/scale.md): Rows * Cols levels,
/// row-major, the same bytes every time.
/// </summary>
public interface ICellLevels
{
    void CopyTo(Span<byte> destination);
}

/// <summary>
/// The conductance levels programmed into the crossbars: for each programmed crossbar, Rows * Cols
/// cell levels in [0, 2^CellBits), row-major ([row][col]). Binary form weights.bin, see docs/isa.md,
/// written and read as a stream, so its size is bounded by the disk, not by an array.
/// Construction validates dimensions and levels and takes a copy, so the image is immutable;
/// <see cref="Wrap"/> shares the caller's arrays instead of copying them, and <see cref="Computed"/>
/// (code generation) holds no levels at all: each crossbar's are computed from its source when
/// weights.bin is written (a billion weights' image is written without being held) or when
/// <see cref="Crossbars"/> is first read (a simulator in the same process), the same bytes either way.
/// </summary>
public sealed class WeightImage
{
    public const string Magic = "CIMCWGT1";
    public const int Version = 1;

    public WeightImage(int rows, int cols, int cellBits, IEnumerable<KeyValuePair<CrossbarId, byte[]>> crossbars)
        : this(rows, cols, cellBits, crossbars.Select(kv => KeyValuePair.Create(kv.Key, ImmutableArray.Create(kv.Value))), "weights")
    {
    }

    /// <summary>
    /// An image over <paramref name="crossbars"/>' own arrays, validated but not copied: the caller
    /// hands them over and never changes them again (the levels of a mapped model, which is immutable).
    /// </summary>
    public static WeightImage Wrap(int rows, int cols, int cellBits, IEnumerable<KeyValuePair<CrossbarId, byte[]>> crossbars) =>
        new(rows, cols, cellBits, crossbars.Select(kv => KeyValuePair.Create(kv.Key, ImmutableCollectionsMarshal.AsImmutableArray(kv.Value))), "weights");

    /// <summary>
    /// An image whose levels are computed from <paramref name="crossbars"/>' sources when needed
    /// (each checked against the cell bits then); the sources must give the same bytes every time.
    /// </summary>
    public static WeightImage Computed(int rows, int cols, int cellBits, IEnumerable<KeyValuePair<CrossbarId, ICellLevels>> crossbars) =>
        new(rows, cols, cellBits, crossbars);

    private WeightImage(int rows, int cols, int cellBits, IEnumerable<KeyValuePair<CrossbarId, ICellLevels>> sources)
    {
        CheckShape(rows, cols, cellBits, "weights");
        (Rows, Cols, CellBits) = (rows, cols, cellBits);
        var builder = ImmutableSortedDictionary.CreateBuilder<CrossbarId, ICellLevels>();
        foreach ((CrossbarId id, ICellLevels levels) in sources)
        {
            if (id.Core < 0 || id.Crossbar < 0)
            {
                throw new CimcException("bad-weights", "weights", $"{id}: negative id");
            }

            if (!builder.TryAdd(id, levels))
            {
                throw new CimcException("bad-weights", "weights", $"{id} is programmed twice");
            }
        }

        _sources = builder.ToImmutable();
        CrossbarCount = _sources.Count;
        _crossbars = new Lazy<ImmutableSortedDictionary<CrossbarId, ImmutableArray<byte>>>(() =>
        {
            var built = ImmutableSortedDictionary.CreateBuilder<CrossbarId, ImmutableArray<byte>>();
            foreach ((CrossbarId id, ICellLevels source) in _sources)
            {
                var levels = new byte[Rows * Cols];
                Fill(id, source, levels);
                built.Add(id, ImmutableCollectionsMarshal.AsImmutableArray(levels));
            }

            return built.ToImmutable();
        });
    }

    private readonly ImmutableSortedDictionary<CrossbarId, ICellLevels>? _sources;
    private readonly Lazy<ImmutableSortedDictionary<CrossbarId, ImmutableArray<byte>>> _crossbars;

    private static void CheckShape(int rows, int cols, int cellBits, string location)
    {
        if (rows is < 1 or > 8191 || cols is < 1 or > 8191 || cellBits is < 1 or > 8)
        {
            throw new CimcException("bad-weights", location, $"rows {rows}, cols {cols}, cell_bits {cellBits} outside [1, 8191], [1, 8191], [1, 8]");
        }
    }

    /// <summary>A computed crossbar's levels into <paramref name="levels"/>, checked like a given crossbar's.</summary>
    private void Fill(CrossbarId id, ICellLevels source, Span<byte> levels)
    {
        source.CopyTo(levels);
        CheckLevels(id, levels, Cols, CellBits, "weights");
    }

    private static void CheckLevels(CrossbarId id, ReadOnlySpan<byte> levels, int cols, int cellBits, string location)
    {
        int limit = 1 << cellBits;
        int bad = levels.IndexOfAnyInRange((byte)Math.Min(limit, 255), (byte)255);
        if (cellBits < 8 && bad >= 0)
        {
            throw new CimcException("bad-weights", location,
                $"{id}: level {levels[bad]} at row {bad / cols} col {bad % cols} does not fit in {cellBits} cell bits");
        }
    }

    private WeightImage(int rows, int cols, int cellBits, IEnumerable<KeyValuePair<CrossbarId, ImmutableArray<byte>>> crossbars, string location)
    {
        CheckShape(rows, cols, cellBits, location);
        Rows = rows;
        Cols = cols;
        CellBits = cellBits;
        var builder = ImmutableSortedDictionary.CreateBuilder<CrossbarId, ImmutableArray<byte>>();
        foreach ((CrossbarId id, ImmutableArray<byte> levels) in crossbars)
        {
            if (id.Core < 0 || id.Crossbar < 0)
            {
                throw new CimcException("bad-weights", location, $"{id}: negative id");
            }

            if (levels.Length != rows * cols)
            {
                throw new CimcException("bad-weights", location, $"{id}: {levels.Length} levels, expected rows * cols = {rows * cols}");
            }

            CheckLevels(id, levels.AsSpan(), cols, cellBits, location);
            if (!builder.TryAdd(id, levels))
            {
                throw new CimcException("bad-weights", location, $"{id} is programmed twice");
            }
        }

        ImmutableSortedDictionary<CrossbarId, ImmutableArray<byte>> given = builder.ToImmutable();
        CrossbarCount = given.Count;
        _crossbars = new Lazy<ImmutableSortedDictionary<CrossbarId, ImmutableArray<byte>>>(given);
    }

    public int Rows { get; }

    public int Cols { get; }

    public int CellBits { get; }

    /// <summary>Levels per programmed crossbar, row-major, in (core, crossbar) order (a computed image's are computed here, once).</summary>
    public ImmutableSortedDictionary<CrossbarId, ImmutableArray<byte>> Crossbars => _crossbars.Value;

    /// <summary>Programmed crossbars, without computing any levels.</summary>
    public int CrossbarCount { get; }

    /// <summary>Bytes of weights.bin (version 1) for this image.</summary>
    public long FileBytes => 28 + ((long)CrossbarCount * (8 + ((long)Rows * Cols)));

    public byte Level(CrossbarId id, int row, int col) => Crossbars[id][row * Cols + col];

    public byte[] ToBytes()
    {
        using var stream = new MemoryStream();
        WriteTo(stream);
        return stream.ToArray();
    }

    /// <summary>Writes weights.bin to <paramref name="stream"/> crossbar by crossbar (no copy of the image).</summary>
    public void WriteTo(Stream stream)
    {
        using var w = new BinaryWriter(stream, Encoding.ASCII, leaveOpen: true);
        w.Write(Encoding.ASCII.GetBytes(Magic));
        w.Write(Version);
        w.Write(Rows);
        w.Write(Cols);
        w.Write(CellBits);
        w.Write(CrossbarCount);
        if (_sources is null || _crossbars.IsValueCreated)
        {
            foreach ((CrossbarId id, ImmutableArray<byte> levels) in Crossbars)
            {
                w.Write(id.Core);
                w.Write(id.Crossbar);
                w.Write(levels.AsSpan());
            }
        }
        else
        {
            WriteComputed(w);
        }

        w.Flush();
    }

    /// <summary>Crossbars this many at a time are computed in parallel, then written in order (a few MB of levels at once).</summary>
    private const int WriteBatch = 256;

    /// <summary>A computed image's crossbars, each computed into a buffer reused batch after batch and written (the levels are never all held).</summary>
    private void WriteComputed(BinaryWriter w)
    {
        KeyValuePair<CrossbarId, ICellLevels>[] all = [.. _sources!];
        int size = Rows * Cols;
        byte[] buffer = new byte[Math.Min(all.Length, WriteBatch) * size];
        for (int start = 0; start < all.Length; start += WriteBatch)
        {
            int count = Math.Min(WriteBatch, all.Length - start);
            Parallel.For(0, count, k => Fill(all[start + k].Key, all[start + k].Value, buffer.AsSpan(k * size, size)));
            for (int k = 0; k < count; k++)
            {
                w.Write(all[start + k].Key.Core);
                w.Write(all[start + k].Key.Crossbar);
                w.Write(buffer.AsSpan(k * size, size));
            }
        }
    }

    public void Save(string path)
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        WriteTo(file);
    }

    /// <summary>
    /// Reads weights.bin as a stream, at any size: every count is checked against the bytes the file
    /// still holds before anything is allocated for it, so what is allocated is what the file holds.
    /// </summary>
    public static WeightImage Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new CimcException("bad-weights-file", path, "file not found");
        }

        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        return Read(file, path);
    }

    /// <summary>Reads and validates weights.bin; anything malformed is a one-line CimcException.</summary>
    public static WeightImage FromBytes(ReadOnlySpan<byte> bytes, string location = "weights.bin") =>
        Read(new MemoryStream(bytes.ToArray(), writable: false), location);

    /// <summary>Header: magic, version, rows, cols, cell_bits, crossbar count; then per crossbar its core, index and levels.</summary>
    internal static WeightImage Read(Stream s, string location)
    {
        const int headerBytes = 28;
        Span<byte> header = stackalloc byte[headerBytes];
        var r = new BinaryCursor(header[..s.ReadAtLeast(header, headerBytes, throwOnEndOfStream: false)], location, "bad-weights-file");
        if (!r.Take(8, "magic").SequenceEqual(Encoding.ASCII.GetBytes(Magic)))
        {
            throw r.Error($"not a cimc weight image (magic is not {Magic})");
        }

        int version = r.ReadInt32("version");
        if (version != Version)
        {
            throw r.Error($"unsupported version {version} (expected {Version})");
        }

        int rows = r.ReadInt32("rows");
        int cols = r.ReadInt32("cols");
        int cellBits = r.ReadInt32("cell_bits");
        if (rows is < 1 or > 8191 || cols is < 1 or > 8191 || cellBits is < 1 or > 8)
        {
            throw r.Error($"rows {rows}, cols {cols}, cell_bits {cellBits} outside [1, 8191], [1, 8191], [1, 8]");
        }

        int count = r.ReadInt32("crossbar count");
        long record = 8L + ((long)rows * cols), left = s.Length - s.Position;
        if (count < 0 || count > left / record)
        {
            throw new CimcException("bad-weights-file", location, $"crossbar count {count} does not fit in the {left} bytes left (at byte {s.Position - 4})");
        }

        var crossbars = new List<KeyValuePair<CrossbarId, ImmutableArray<byte>>>(count);
        Span<byte> ids = stackalloc byte[8];
        for (int i = 0; i < count; i++)
        {
            s.ReadExactly(ids);
            var id = new CrossbarId(BinaryPrimitives.ReadInt32LittleEndian(ids), BinaryPrimitives.ReadInt32LittleEndian(ids[4..]));
            var levels = new byte[rows * cols];
            s.ReadExactly(levels);
            crossbars.Add(KeyValuePair.Create(id, ImmutableCollectionsMarshal.AsImmutableArray(levels)));
        }

        if (s.Position != s.Length)
        {
            throw new CimcException("bad-weights-file", location, $"{s.Length - s.Position} unexpected trailing bytes (at byte {s.Position})");
        }

        return new WeightImage(rows, cols, cellBits, crossbars, location);
    }
}
