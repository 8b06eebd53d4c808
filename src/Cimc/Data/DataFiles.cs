using Cimc.Diagnostics;

namespace Cimc.Data;

/// <summary>
/// Opens a data file by its first bytes, not its name: the .npy magic (\x93NUMPY), gzip or an IDX
/// header (two zero bytes, a type code, a rank), else text read as CSV.
/// </summary>
public static class DataFiles
{
    public static NdArray ReadArray(string path) => Kind(path) switch
    {
        DataKind.Npy => Npy.Read(path),
        DataKind.Csv => Csv.Read(path),
        _ => Idx.Read(path),
    };

    public static Labels ReadLabels(string path) => Kind(path) switch
    {
        DataKind.Npy => Npy.ReadLabels(path),
        DataKind.Csv => Csv.ReadLabels(path),
        _ => Idx.ReadLabels(path),
    };

    private enum DataKind
    {
        Npy,
        Idx,
        Csv,
    }

    private static DataKind Kind(string path)
    {
        if (!File.Exists(path))
        {
            throw new CimcException("file-not-found", path, "no such file");
        }

        Span<byte> head = stackalloc byte[6];
        int read;
        using (FileStream stream = File.OpenRead(path))
        {
            read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }

        head = head[..read];
        if (head.Length >= 1 && head[0] == 0x93)
        {
            return DataKind.Npy;
        }

        bool gzip = head.Length >= 2 && head[0] == 0x1f && head[1] == 0x8b;
        bool idx = head.Length >= 4 && head[0] == 0 && head[1] == 0;
        if (gzip || idx)
        {
            return DataKind.Idx;
        }

        return path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase) ? DataKind.Npy : DataKind.Csv;
    }
}
