using System.Collections.Immutable;
using System.Globalization;
using Cimc.Diagnostics;

namespace Cimc.Data;

/// <summary>
/// Comma-separated numbers, one sample per line. A first line that is not numeric is taken as a
/// header and skipped; every row must have the same number of columns. Text is a costly way to
/// hold numbers, so files are limited to <see cref="MaxBytes"/> (larger data sets go in .npy).
/// </summary>
public static class Csv
{
    public const long MaxBytes = 256L * 1024 * 1024;

    public static NdArray Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new CimcException("file-not-found", path, "no such file");
        }

        if (new FileInfo(path).Length > MaxBytes)
        {
            throw new CimcException("file-too-large", path, $"CSV files are read up to {MaxBytes} bytes; save larger data sets as .npy");
        }

        var values = new List<float>();
        int columns = -1, rows = 0, lineNumber = 0;
        foreach (string raw in File.ReadLines(path))
        {
            lineNumber++;
            string line = raw.Trim();
            if (line.Length == 0)
            {
                continue;
            }

            string[] cells = line.Split(',');
            var parsed = new float[cells.Length];
            bool numeric = true;
            for (int i = 0; i < cells.Length && numeric; i++)
            {
                numeric = float.TryParse(cells[i].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out parsed[i]);
            }

            if (!numeric)
            {
                if (rows == 0 && columns < 0)
                {
                    columns = cells.Length;
                    continue;
                }

                throw new CimcException("bad-csv", $"{path}:{lineNumber}", "a value is not a number");
            }

            if (columns >= 0 && cells.Length != columns)
            {
                throw new CimcException("bad-csv", $"{path}:{lineNumber}", $"{cells.Length} columns where earlier lines have {columns}");
            }

            columns = cells.Length;
            values.AddRange(parsed);
            rows++;
        }

        if (rows == 0)
        {
            throw new CimcException("bad-csv", path, "no data rows");
        }

        return new NdArray([rows, columns], [.. values]);
    }

    public static Labels ReadLabels(string path)
    {
        NdArray table = Read(path);
        if (table.Shape[1] != 1)
        {
            throw new CimcException("bad-labels", path, $"a label file has one column; this one has {table.Shape[1]}");
        }

        return new Labels([.. table.Data.Select(v => v == MathF.Floor(v) ? (int)v : throw new CimcException("bad-labels", path, $"label {v} is not an integer"))]);
    }
}
