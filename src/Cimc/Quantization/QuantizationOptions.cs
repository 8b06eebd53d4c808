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
}

/// <summary>The quantization scheme; docs/quantization.md defines each choice exactly.</summary>
public sealed record QuantizationOptions(
    int WeightBits = 8,
    int ActivationBits = 8,
    Granularity Granularity = Granularity.PerChannel,
    SignedWeightEncoding SignedWeights = SignedWeightEncoding.Differential)
{
    public QuantizationOptions Validate()
    {
        if (WeightBits is < 1 or > 16)
        {
            throw new CimcException("bad-option", "--weight-bits", $"must be between 1 and 16 (got {WeightBits})");
        }

        if (ActivationBits is < 1 or > 16)
        {
            throw new CimcException("bad-option", "--activation-bits", $"must be between 1 and 16 (got {ActivationBits})");
        }

        return this;
    }

    public static SignedWeightEncoding ParseEncoding(string text) => text.ToLowerInvariant() switch
    {
        "differential" => SignedWeightEncoding.Differential,
        "offset" => SignedWeightEncoding.Offset,
        _ => throw new CimcException("bad-option", "--signed-weights", $"unknown encoding '{text}'; expected differential or offset"),
    };

    public static Granularity ParseGranularity(string text) => text.ToLowerInvariant() switch
    {
        "per-tensor" => Granularity.PerTensor,
        "per-channel" => Granularity.PerChannel,
        _ => throw new CimcException("bad-option", "--granularity", $"unknown granularity '{text}'; expected per-tensor or per-channel"),
    };
}
