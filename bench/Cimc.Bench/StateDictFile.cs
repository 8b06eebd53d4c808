using System.IO.Compression;
using System.Text;

namespace Cimc.Bench;

/// <summary>
/// Writes a random-weight ReLU MLP as `torch.save(model.state_dict())` does, without Python: a zip
/// archive (Zip64 when large) with `archive/data.pkl` (a protocol-2 pickle of an OrderedDict of
/// `_rebuild_tensor_v2` calls) and one uncompressed entry `archive/data/K` per float32 storage.
/// Weights are uniform in +-1/sqrt(in) (PyTorch's default nn.Linear scale), biases too; the values
/// are streamed, so a file larger than memory can be written.
/// </summary>
public static class StateDictFile
{
    /// <summary>Writes layers of widths[l] -> widths[l + 1] to <paramref name="path"/>; returns the weight count.</summary>
    public static long Write(string path, int[] widths, int seed)
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        using var zip = new ZipArchive(file, ZipArchiveMode.Create);
        using (Stream s = zip.CreateEntry("archive/data.pkl", CompressionLevel.NoCompression).Open())
        {
            s.Write(Pickle(widths));
        }

        var rng = new Random(seed);
        long weights = 0;
        int key = 0;
        for (int l = 0; l + 1 < widths.Length; l++)
        {
            int inF = widths[l], outF = widths[l + 1];
            float bound = 1f / MathF.Sqrt(inF);
            using (Stream s = zip.CreateEntry($"archive/data/{key++}", CompressionLevel.NoCompression).Open())
            {
                WriteUniform(s, (long)outF * inF, bound, rng);
            }

            using (Stream s = zip.CreateEntry($"archive/data/{key++}", CompressionLevel.NoCompression).Open())
            {
                WriteUniform(s, outF, bound, rng);
            }

            weights += (long)outF * inF;
        }

        using (Stream s = zip.CreateEntry("archive/version", CompressionLevel.NoCompression).Open())
        {
            s.Write("3\n"u8);
        }

        return weights;
    }

    private static void WriteUniform(Stream s, long count, float bound, Random rng)
    {
        var chunk = new float[1 << 18];
        for (long done = 0; done < count;)
        {
            int n = (int)Math.Min(chunk.Length, count - done);
            for (int i = 0; i < n; i++)
            {
                chunk[i] = ((2 * rng.NextSingle()) - 1) * bound;
            }

            s.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(chunk.AsSpan(0, n)));
            done += n;
        }
    }

    private static byte[] Pickle(int[] widths)
    {
        var p = new List<byte> { 0x80, 2 };
        void Op(char c) => p.Add((byte)c);
        void Str(string s)
        {
            Op('X');
            p.AddRange(BitConverter.GetBytes(s.Length));
            p.AddRange(Encoding.ASCII.GetBytes(s));
        }

        void Int(long v)
        {
            if (v <= int.MaxValue)
            {
                Op('J');
                p.AddRange(BitConverter.GetBytes((int)v));
            }
            else
            {
                // LONG1: a little-endian two's-complement integer of n bytes.
                p.Add(0x8a);
                p.Add(8);
                p.AddRange(BitConverter.GetBytes(v));
            }
        }

        void Global(string module, string name)
        {
            Op('c');
            p.AddRange(Encoding.ASCII.GetBytes($"{module}\n{name}\n"));
        }

        void Tensor(string name, string key, long[] size, long[] stride)
        {
            Str(name);
            Global("torch._utils", "_rebuild_tensor_v2");
            Op('(');
            Op('(');
            Str("storage");
            Global("torch", "FloatStorage");
            Str(key);
            Str("cpu");
            Int(size.Aggregate(1L, (a, b) => a * b));
            Op('t');
            Op('Q');
            Int(0);
            Op('(');
            foreach (long v in size)
            {
                Int(v);
            }

            Op('t');
            Op('(');
            foreach (long v in stride)
            {
                Int(v);
            }

            Op('t');
            p.Add(0x89);
            Global("collections", "OrderedDict");
            Op(')');
            Op('R');
            Op('t');
            Op('R');
        }

        Global("collections", "OrderedDict");
        Op(')');
        Op('R');
        Op('(');
        int key = 0;
        for (int l = 0; l + 1 < widths.Length; l++)
        {
            Tensor($"fc{l + 1}.weight", $"{key++}", [widths[l + 1], widths[l]], [widths[l], 1]);
            Tensor($"fc{l + 1}.bias", $"{key++}", [widths[l + 1]], [1]);
        }

        Op('u');
        Op('.');
        return [.. p];
    }
}
