using Cimc.Diagnostics;

namespace Cimc.Data;

/// <summary>Opens a data file by its name: .npy, .csv, else IDX (raw or .gz).</summary>
public static class DataFiles
{
    public static NdArray ReadArray(string path) => Kind(path) switch
    {
        "npy" => Npy.Read(path),
        "csv" => Csv.Read(path),
        _ => Idx.Read(path),
    };

    public static Labels ReadLabels(string path) => Kind(path) switch
    {
        "npy" => Npy.ReadLabels(path),
        "csv" => Csv.ReadLabels(path),
        _ => Idx.ReadLabels(path),
    };

    private static string Kind(string path)
    {
        if (!File.Exists(path))
        {
            throw new CimcException("file-not-found", path, "no such file");
        }

        string name = path.ToLowerInvariant();
        return name.EndsWith(".npy", StringComparison.Ordinal) ? "npy"
            : name.EndsWith(".csv", StringComparison.Ordinal) ? "csv"
            : "idx";
    }
}
