using System.Collections.Immutable;
using System.Globalization;
using Cimc.Diagnostics;

namespace Cimc.Quantization;

/// <summary>Scales per tensor (one per layer) or per output channel (one per row of W).</summary>
public enum Granularity
{
    PerTensor,
    PerChannel,
}

/// <summary>How signed weights are stored in crossbars of non-negative conductances.</summary>
public enum SignedWeightEncoding
{
    /// <summary>Two arrays, positive and negative parts, subtracted digitally.</summary>
    Differential,

    /// <summary>One array of w + Qw, with the offset times the input sum subtracted digitally.</summary>
    Offset,

    /// <summary>One array of the two's-complement bits; the sign bit's slice counts negatively.</summary>
    TwosComplement,
}

/// <summary>How the ADC's step is chosen (docs/quantization.md section 6).</summary>
public enum AdcRange
{
    /// <summary>One step per unit of level x digit; sums beyond 2^a - 1 saturate.</summary>
    Unit,

    /// <summary>The step is the smallest power of two that covers the largest possible sum: never saturates, rounds.</summary>
    Full,

    /// <summary>The step is the smallest power of two that covers the largest sum seen on calibration data.</summary>
    Calibrated,
}

/// <summary>
/// How a convolution's [KH * KW * Cin, Cout] im2col matrix is cut into crossbar row blocks
/// (docs/quantization.md section 7, "Convolutions: the row cut").
/// </summary>
public enum ConvMapping
{
    /// <summary>The im2col rows cut into blocks of R rows, a block spanning kernel positions where Cin &lt; R.</summary>
    Im2col,

    /// <summary>One Cin x Cout matrix per kernel position (kh, kw), each cut into blocks of R rows on its own (PUMA's form).</summary>
    PerPosition,
}

/// <summary>How activation ranges are found from calibration samples (docs/quantization.md section 2).</summary>
public abstract record CalibrationMethod
{
    public static CalibrationMethod Parse(string text)
    {
        string t = text.Trim().ToLowerInvariant();
        if (t == "minmax")
        {
            return new MinMaxCalibration();
        }

        if (t == "mse")
        {
            return new MseCalibration();
        }

        if (t.StartsWith("percentile:", StringComparison.Ordinal)
            && double.TryParse(t["percentile:".Length..], NumberStyles.Float, CultureInfo.InvariantCulture, out double p) && p > 50 && p <= 100)
        {
            return new PercentileCalibration(p);
        }

        throw new CimcException("bad-option", "--calibration", $"unknown calibration '{text}'; expected minmax, percentile:P (50 < P <= 100) or mse");
    }
}

public sealed record MinMaxCalibration : CalibrationMethod
{
    public override string ToString() => "minmax";
}

/// <summary>Clips at the P-th percentile (and the (100-P)-th below).</summary>
public sealed record PercentileCalibration(double Percentile) : CalibrationMethod
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"percentile:{Percentile}");
}

/// <summary>Chooses the clipping range that minimizes the mean squared quantization error.</summary>
public sealed record MseCalibration : CalibrationMethod
{
    public override string ToString() => "mse";
}

/// <summary>Bits for one layer, overriding the global ones (mixed precision).</summary>
public sealed record LayerPrecision(int? WeightBits, int? ActivationBits);

/// <summary>The quantization scheme; docs/quantization.md defines each choice exactly.</summary>
public sealed record QuantizationOptions(
    int WeightBits = 8,
    int ActivationBits = 8,
    Granularity Granularity = Granularity.PerChannel,
    SignedWeightEncoding SignedWeights = SignedWeightEncoding.Differential)
{
    public CalibrationMethod Calibration { get; init; } = new MinMaxCalibration();

    /// <summary>Activations use the full code range with a zero point (asymmetric) instead of a symmetric range.</summary>
    public bool AsymmetricActivations { get; init; }

    public AdcRange AdcRange { get; init; } = AdcRange.Unit;

    /// <summary>Crossbar rows activated per read; 0 means all rows of the crossbar.</summary>
    public int RowsPerRead { get; init; }

    /// <summary>How convolutions are cut into crossbar row blocks (the map pass, Mapping/RowCut.cs); dense layers are unaffected.</summary>
    public ConvMapping ConvMapping { get; init; }

    /// <summary>Per-layer bits by layer name or by index ("0", "1", ...).</summary>
    public ImmutableDictionary<string, LayerPrecision> PerLayer { get; init; } = ImmutableDictionary<string, LayerPrecision>.Empty;

    /// <summary>Weight and input-activation bits of layer <paramref name="index"/> named <paramref name="name"/>.</summary>
    public (int WeightBits, int ActivationBits) BitsFor(int index, string name)
    {
        LayerPrecision? p = PerLayer.GetValueOrDefault(name) ?? PerLayer.GetValueOrDefault(index.ToString(CultureInfo.InvariantCulture));
        return (p?.WeightBits ?? WeightBits, p?.ActivationBits ?? ActivationBits);
    }

    public QuantizationOptions Validate()
    {
        CheckBits("--weight-bits", WeightBits);
        CheckBits("--activation-bits", ActivationBits);
        foreach ((string layer, LayerPrecision p) in PerLayer)
        {
            if (p.WeightBits is int w)
            {
                CheckBits($"--precision: layer '{layer}' weight_bits", w);
            }

            if (p.ActivationBits is int a)
            {
                CheckBits($"--precision: layer '{layer}' activation_bits", a);
            }
        }

        if (RowsPerRead < 0)
        {
            throw new CimcException("bad-option", "--rows-per-read", $"must be at least 1 (got {RowsPerRead})");
        }

        return this;
    }

    private static void CheckBits(string where, int bits)
    {
        if (bits is < 1 or > 16)
        {
            throw new CimcException("bad-option", where, $"must be between 1 and 16 (got {bits})");
        }
    }

    public static SignedWeightEncoding ParseEncoding(string text) => text.ToLowerInvariant() switch
    {
        "differential" => SignedWeightEncoding.Differential,
        "offset" => SignedWeightEncoding.Offset,
        "twos-complement" or "twos_complement" => SignedWeightEncoding.TwosComplement,
        _ => throw new CimcException("bad-option", "--signed-weights", $"unknown encoding '{text}'; expected differential, offset or twos-complement"),
    };

    public static Granularity ParseGranularity(string text) => text.ToLowerInvariant() switch
    {
        "per-tensor" => Granularity.PerTensor,
        "per-channel" => Granularity.PerChannel,
        _ => throw new CimcException("bad-option", "--granularity", $"unknown granularity '{text}'; expected per-tensor or per-channel"),
    };

    public static AdcRange ParseAdcRange(string text) => text.ToLowerInvariant() switch
    {
        "unit" => AdcRange.Unit,
        "full" => AdcRange.Full,
        "calibrated" => AdcRange.Calibrated,
        _ => throw new CimcException("bad-option", "--adc-range", $"unknown ADC range '{text}'; expected unit, full or calibrated"),
    };

    public static ConvMapping ParseConvMapping(string text) => text.ToLowerInvariant() switch
    {
        "im2col" => ConvMapping.Im2col,
        "per-position" => ConvMapping.PerPosition,
        _ => throw new CimcException("bad-option", "--conv-mapping", $"unknown conv mapping '{text}'; expected im2col or per-position"),
    };

    public static string ConvMappingName(ConvMapping m) => m == ConvMapping.PerPosition ? "per-position" : "im2col";

    public static string EncodingName(SignedWeightEncoding e) => e switch
    {
        SignedWeightEncoding.Differential => "differential",
        SignedWeightEncoding.Offset => "offset",
        _ => "twos-complement",
    };
}
