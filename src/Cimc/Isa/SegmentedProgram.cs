using System.Collections.Immutable;
using System.Text;
using Cimc.Diagnostics;

namespace Cimc.Isa;

/// <summary>
/// A weight-reloading program (docs/isa.md, "Segmented programs"): segments run one after another on
/// the same machine, the crossbars reprogrammed with each segment's weight image before it runs, each
/// segment's output codes handed to the next as its input codes. program.bin version 6 holds the
/// segments' program images, weights.bin version 2 their weight images, each a complete file of the
/// single-program format (version 3 to 5, version 1), so a program of one segment keeps those files
/// byte for byte.
/// </summary>
public sealed record SegmentedProgram(ImmutableArray<ProgramImage> Segments)
{
    /// <summary>The program.bin version of a segmented program (5 is a program with split input or output).</summary>
    public const int Version = 6;

    /// <summary>The weights.bin version of a segmented program's weight images.</summary>
    public const int WeightsVersion = 2;

    public ProgramImage First => Segments[0];

    public ProgramImage Last => Segments[^1];

    /// <summary>
    /// Two or more segments for one machine, each taking as many codes as the one before writes;
    /// anything else is a one-line CimcException naming <paramref name="location"/>.
    /// </summary>
    public void Validate(string location = "program")
    {
        if (Segments.Length < 2)
        {
            throw new CimcException("bad-program", location, $"a segmented program has at least 2 segments, not {Segments.Length}");
        }

        for (int k = 1; k < Segments.Length; k++)
        {
            if (Segments[k].Arch != Segments[0].Arch)
            {
                throw new CimcException("bad-program", location, $"segment {k} is for another machine than segment 0");
            }

            if (Segments[k].Input.Len != Segments[k - 1].Output.Len)
            {
                throw new CimcException("bad-program", location,
                    $"segment {k} takes {Segments[k].Input.Len} input codes but segment {k - 1} writes {Segments[k - 1].Output.Len}");
            }
        }
    }

    /// <summary>program.bin version 6: magic, version, segment count S, then S times an i64 byte length and a whole version 3, 4 or 5 program.bin.</summary>
    public void Save(string path)
    {
        Validate();
        WriteContainer(path, ProgramImage.Magic, Version, Segments.Length, k =>
        {
            byte[] bytes = Segments[k].ToBytes();
            return (bytes.Length, file => file.Write(bytes));
        });
    }

    /// <summary>True when program.bin at <paramref name="path"/> is a segmented program (its version field says 6).</summary>
    public static bool IsSegmented(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        Span<byte> header = stackalloc byte[12];
        return file.ReadAtLeast(header, 12, throwOnEndOfStream: false) == 12
            && header[..8].SequenceEqual(Encoding.ASCII.GetBytes(ProgramImage.Magic))
            && BitConverter.ToInt32(header[8..]) == Version;
    }

    public static SegmentedProgram Load(string path) => FromBytes(BinaryFiles.ReadAll(path, "bad-program-file"), path);

    public static SegmentedProgram FromBytes(ReadOnlySpan<byte> bytes, string location = "program.bin")
    {
        var r = new BinaryCursor(bytes, location, "bad-program-file");
        if (!r.Take(8, "magic").SequenceEqual(Encoding.ASCII.GetBytes(ProgramImage.Magic)))
        {
            throw r.Error($"not a cimc program (magic is not {ProgramImage.Magic})");
        }

        int version = r.ReadInt32("version");
        if (version != Version)
        {
            throw r.Error($"version {version} is not a segmented program (expected {Version})");
        }

        int count = r.ReadCount("segment count", 8);
        var segments = ImmutableArray.CreateBuilder<ProgramImage>(count);
        for (int k = 0; k < count; k++)
        {
            long length = r.ReadInt64($"segment {k} length");
            segments.Add(ProgramImage.FromBytes(r.Take(length, $"segment {k}"), $"{location}: segment {k}"));
        }

        r.ExpectEnd();
        var program = new SegmentedProgram(segments.MoveToImmutable());
        program.Validate(location);
        return program;
    }

    /// <summary>weights.bin version 2: magic, version, segment count S, then S times an i64 byte length and a whole version 1 weights.bin.</summary>
    public static void SaveWeights(string path, IReadOnlyList<WeightImage> images) =>
        WriteContainer(path, WeightImage.Magic, WeightsVersion, images.Count, k => (images[k].FileBytes, images[k].WriteTo));

    /// <summary>
    /// The layout program.bin version 6 and weights.bin version 2 share: magic, version, segment count,
    /// then per segment an i64 byte length and that many bytes, which <paramref name="segment"/> gives
    /// for segment k (its length, and what writes it).
    /// </summary>
    private static void WriteContainer(string path, string magic, int version, int count, Func<int, (long Length, Action<Stream> Write)> segment)
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        using var w = new BinaryWriter(file, Encoding.ASCII, leaveOpen: true);
        w.Write(Encoding.ASCII.GetBytes(magic));
        w.Write(version);
        w.Write(count);
        for (int k = 0; k < count; k++)
        {
            (long length, Action<Stream> write) = segment(k);
            w.Write(length);
            w.Flush();
            long start = file.Position;
            write(file);
            if (file.Position - start != length)
            {
                throw new InvalidOperationException($"{path}: segment {k} length does not match its image");
            }
        }
    }

    /// <summary>Reads weights.bin version 2 as a stream, each segment's image checked as weights.bin version 1 within its length.</summary>
    public static ImmutableArray<WeightImage> LoadWeights(string path, int expectedSegments)
    {
        if (!File.Exists(path))
        {
            throw new CimcException("bad-weights-file", path, "file not found");
        }

        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        using var r = new BinaryReader(file, Encoding.ASCII, leaveOpen: true);
        long left = file.Length;
        if (left < 16 || !r.ReadBytes(8).AsSpan().SequenceEqual(Encoding.ASCII.GetBytes(WeightImage.Magic)))
        {
            throw new CimcException("bad-weights-file", path, $"not a cimc weight image (magic is not {WeightImage.Magic})");
        }

        int version = r.ReadInt32();
        int count = r.ReadInt32();
        if (version != WeightsVersion || count != expectedSegments)
        {
            throw new CimcException("bad-weights-file", path,
                $"version {version} with {count} segments, but program.bin is a segmented program of {expectedSegments} (expected weights.bin version {WeightsVersion})");
        }

        var images = ImmutableArray.CreateBuilder<WeightImage>(count);
        for (int k = 0; k < count; k++)
        {
            long length = file.Length - file.Position >= 8 ? r.ReadInt64() : -1;
            if (length < 0 || length > file.Length - file.Position)
            {
                throw new CimcException("bad-weights-file", path, $"segment {k}: length {length} does not fit in the {file.Length - file.Position} bytes left");
            }

            images.Add(WeightImage.Read(new WindowStream(file, length), $"{path}: segment {k}"));
        }

        if (file.Position != file.Length)
        {
            throw new CimcException("bad-weights-file", path, $"{file.Length - file.Position} unexpected trailing bytes (at byte {file.Position})");
        }

        return images.MoveToImmutable();
    }

    /// <summary>The next <c>length</c> bytes of a stream as a stream of their own (reading past them is the end of it).</summary>
    private sealed class WindowStream(Stream inner, long length) : Stream
    {
        private readonly long _start = inner.Position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position
        {
            get => inner.Position - _start;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer) => inner.Read(buffer[..(int)Math.Min(buffer.Length, length - Position)]);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
