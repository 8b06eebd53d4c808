using System.Globalization;
using Cimc.Data;
using Cimc.Isa;

namespace Cimc.Simulation;

/// <summary>
/// Whether inputs fit the range a program's input codes cover. Values outside clip silently in the
/// host's quantization, so inputs far outside (byte images where [0, 1] was calibrated: a forgotten
/// --divide-by 255) give a plausible but wrong accuracy; this says so in one line.
/// </summary>
public static class InputCoverage
{
    /// <summary>The real range [lo, hi] that the program's input codes stand for.</summary>
    public static (double Low, double High) RangeOf(InputSpec input) =>
        (input.Scale * (input.QMin - input.ZeroPoint), input.Scale * (input.QMax - input.ZeroPoint));

    /// <summary>
    /// A warning when some input lies more than the range's own width outside it, else null. Values a
    /// little outside are ordinary (calibration saw a sample, not every input) and only clip a little.
    /// </summary>
    public static string? Warning(NdArray x, InputSpec input)
    {
        (double lo, double hi) = RangeOf(input);
        double width = hi - lo;
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        long outside = 0;
        foreach (float v in x.Data)
        {
            min = Math.Min(min, v);
            max = Math.Max(max, v);
            if (v < lo || v > hi)
            {
                outside++;
            }
        }

        if (x.Data.Length == 0 || (max <= hi + width && min >= lo - width))
        {
            return null;
        }

        return string.Create(CultureInfo.InvariantCulture,
            $"inputs span [{min:G4}, {max:G4}] but the program's input codes cover [{lo:G4}, {hi:G4}]; {(double)outside / x.Data.Length:P1} of the values clip (if the inputs need scaling, give --divide-by D, e.g. 255 for byte images)");
    }
}
