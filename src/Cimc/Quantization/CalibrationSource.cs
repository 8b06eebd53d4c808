using System.Globalization;
using Cimc.Data;
using Cimc.Diagnostics;

namespace Cimc.Quantization;

/// <summary>
/// Where the activation ranges come from (docs/quantization.md section 2): calibration samples, or,
/// without any, interval arithmetic through the layers from a declared input range. Each source says
/// in one line what it is, so a command can name every file or assumption it used.
/// </summary>
public abstract record CalibrationSource
{
    /// <summary>One line for the user: which data or which assumption calibrated the ranges.</summary>
    public abstract string Describe();
}

/// <summary>Calibration samples, with where they came from (a file, a slice of the test set).</summary>
public sealed record SampleCalibration(NdArray Samples, string Origin) : CalibrationSource
{
    public override string Describe() => $"calibrated on {Samples.Rows} samples from {Origin}";
}

/// <summary>No samples: ranges bound every value the layers can produce for inputs in [Low, High].</summary>
public sealed record InputRangeCalibration(double Low, double High) : CalibrationSource
{
    /// <summary>What `--input-range` assumes when not given: inputs scaled to [0, 1].</summary>
    public static InputRangeCalibration Default { get; } = new(0, 1);

    /// <summary>What was assumed, without the advice.</summary>
    public string Assumption => string.Create(CultureInfo.InvariantCulture,
        $"no calibration data: activation ranges bound from the weights for inputs in [{Low:G6}, {High:G6}] (--input-range)");

    public override string Describe() => $"{Assumption}; calibration data (--calibration-data FILE) gives tighter ranges and better accuracy";

    /// <summary>Parses `LO,HI` as given to `--input-range`.</summary>
    public static InputRangeCalibration Parse(string text)
    {
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length == 2
            && double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double lo)
            && double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double hi)
            && double.IsFinite(lo) && double.IsFinite(hi) && lo < hi)
        {
            return new InputRangeCalibration(lo, hi);
        }

        throw new CimcException("bad-option", "--input-range", $"expected LO,HI with finite LO < HI (e.g. 0,1), got '{text}'");
    }
}

/// <summary>Finds the calibration data a command should use, naming any file it picks up by itself.</summary>
public static class CalibrationFiles
{
    /// <summary>The file name looked for beside the model when no calibration data is given.</summary>
    public const string BesideModel = "calibration.npy";

    /// <summary>
    /// The samples in <paramref name="path"/>, else calibration.npy beside the model, else
    /// <paramref name="fallback"/>; sample values are divided by <paramref name="divideBy"/>.
    /// </summary>
    public static CalibrationSource Find(string? path, string modelPath, double divideBy, CalibrationSource fallback)
    {
        string origin;
        if (path is not null)
        {
            origin = path;
        }
        else
        {
            string beside = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(modelPath)) ?? ".", BesideModel);
            if (!File.Exists(beside))
            {
                return fallback;
            }

            path = beside;
            origin = $"{beside} (found beside the model; --calibration-data FILE chooses another)";
        }

        if (!(divideBy > 0) || double.IsInfinity(divideBy))
        {
            throw new CimcException("bad-option", "--calibration-divide-by", string.Create(CultureInfo.InvariantCulture, $"must be a positive number, got {divideBy}"));
        }

        NdArray samples = DataFiles.ReadArray(path);
        return new SampleCalibration(divideBy == 1 ? samples : samples.DivideBy((float)divideBy), origin);
    }
}
