using System.Globalization;
using Cimc.Data;
using Cimc.Quantization;

namespace Cimc.Evaluation;

/// <summary>
/// Calibration from the evaluation set itself when no calibration data is given: the first fifth of
/// the samples (at most <see cref="MaxSamples"/>) calibrate, the rest are evaluated, so accuracy is never
/// measured on the samples that set the ranges. A set too small to split is used for both, and the
/// description says so.
/// </summary>
public static class CalibrationSplit
{
    public const int MaxSamples = 1000;

    public sealed record Result(SampleCalibration Calibration, NdArray Images, Labels Labels, bool Overlaps);

    public static Result Split(NdArray images, Labels labels, string imagesPath)
    {
        int n = images.Rows;
        int k = Math.Min(MaxSamples, n / 5);
        if (k < 1 || n - k < 1)
        {
            return new Result(new SampleCalibration(images, string.Create(CultureInfo.InvariantCulture,
                $"all {n} images of {imagesPath} (too few to hold some out: accuracy is measured on the calibration samples; --calibration-data FILE avoids that)")), images, labels, true);
        }

        var calibration = new SampleCalibration(images.Take(k), string.Create(CultureInfo.InvariantCulture,
            $"the first {k} images of {imagesPath} (no --calibration-data given); accuracy is measured on the other {n - k}"));
        NdArray rest = new(images.Shape.SetItem(0, n - k), images.Data.AsSpan(k * images.RowLength).ToArray());
        return new Result(calibration, rest, new Labels([.. labels.Values.Skip(k)]), false);
    }
}
