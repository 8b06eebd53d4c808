using System.Collections.Immutable;

namespace Cimc.Quantization;

/// <summary>
/// How an activation vector is held: unsigned codes in [0, Max], real = Scale * (code - ZeroPoint).
/// </summary>
public sealed record ActivationQuant(double Scale, long ZeroPoint, long Max)
{
    /// <summary>Bits of the codes (bitlen(Max)): what the DACs stream.</summary>
    public int Bits => Math.Max(1, IntMath.BitLength(Max));

    /// <summary>Quantizes a float as the host does: clamp(round(x / s) + z, 0, Max).</summary>
    public long Quantize(double x) => IntMath.Clamp(IntMath.Round(x / Scale) + ZeroPoint, 0, Max);

    public double Dequantize(long code) => Scale * (code - ZeroPoint);

    /// <summary>
    /// The file's quantization of an activation as unsigned codes (docs/quantization.md section 8):
    /// codes are the file's integers shifted by -QMin, so uint8 keeps its zero point and int8 z
    /// becomes z + 128; the codes span [0, QMax - QMin].
    /// </summary>
    public static ActivationQuant FromFile(Ir.FakeQuant q) => new(q.Scale, q.ZeroPoint - q.QMin, q.QMax - q.QMin);

    /// <summary>
    /// Scale and zero point for a calibrated range (docs/quantization.md section 2): unsigned when the
    /// range is non-negative, else symmetric around a zero point, or asymmetric over all 2^b codes.
    /// </summary>
    public static ActivationQuant ForRange(Range range, int bits, bool asymmetric = false)
    {
        long full = (1L << bits) - 1;
        if (range.Min >= 0)
        {
            return new ActivationQuant(range.Max > 0 ? range.Max / full : 1.0, 0, full);
        }

        if (asymmetric)
        {
            double lo = Math.Min(range.Min, 0), hi = Math.Max(range.Max, 0);
            double scale = (hi - lo) / full;
            return new ActivationQuant(scale, IntMath.Clamp(IntMath.Round(-lo / scale), 0, full), full);
        }

        long q = IntMath.SymmetricMax(bits);
        double m = Math.Max(Math.Abs(range.Min), Math.Abs(range.Max));
        return new ActivationQuant(m / q, q, 2 * q);
    }
}

/// <summary>
/// One quantized layer: everything the crossbars and the output stage need, as integers, plus the
/// scales they came from. Weights are row-major [out, in].
/// </summary>
public sealed record QuantizedLayer(
    string Name,
    int InFeatures,
    int OutFeatures,
    QuantizedWeights Weights,
    int WeightBits,
    ImmutableArray<double> WeightScales,
    ImmutableArray<long> Bias,
    ActivationQuant Input,
    ActivationKind Activation,
    float Alpha,
    ImmutableArray<FixedPoint> Requant,
    ActivationQuant? PreActivation,
    ActivationQuant? Output,
    bool IsLast)
{
    /// <summary>ADC step is 2^AdcShift units (docs/quantization.md section 6); 0 for a unit step.</summary>
    public int AdcShift { get; init; }

    /// <summary>Crossbar rows activated per read; 0 means all rows of the crossbar.</summary>
    public int RowsPerRead { get; init; }

    /// <summary>Qw: the largest weight magnitude.</summary>
    public long WeightMax => IntMath.SymmetricMax(WeightBits);

    /// <summary>beff[o] = b_q[o] - z_x * sum_i w_q[o,i] (docs/quantization.md section 4).</summary>
    public ImmutableArray<long> EffectiveBias()
    {
        var beff = new long[OutFeatures];
        QuantizedWeights weights = Weights;
        Parallel.For(0, OutFeatures, o => beff[o] = Bias[o] - (Input.ZeroPoint * weights.Sum(o * InFeatures, InFeatures)));

        return [.. beff];
    }

    /// <summary>True when the layer's result leaves the chip as the raw accumulator.</summary>
    public bool OutputsAccumulator => IsLast && Output is null;
}

/// <summary>The quantized network: the input of compile's mapping stage and of the golden model.</summary>
public sealed record QuantizedModel(string Name, QuantizationOptions Options, ImmutableArray<QuantizedLayer> Layers, bool SoftmaxAtEnd)
{
    /// <summary>Where the quantizer departed from what the model file asked for, one line each (shown by --emit quantized).</summary>
    public ImmutableArray<string> Notes { get; init; } = [];

    /// <summary>
    /// How maps flow between the layers of a network with convolutions, pooling or residual adds
    /// (<see cref="QuantizedGraph"/>); null for a chain of dense layers, where layer l feeds layer l + 1.
    /// </summary>
    public QuantizedGraph? Graph { get; init; }

    public ActivationQuant Input => Graph?.InputQuant ?? Layers[0].Input;

    /// <summary>How the host turns the last layer's integers into floats: out = (q - zero) * scale.</summary>
    public (ImmutableArray<double> Scales, ImmutableArray<long> ZeroPoints) OutputDequantization()
    {
        QuantizedLayer last = Layers[^1];
        if (last.OutputsAccumulator)
        {
            return ([.. last.WeightScales.Select(sw => last.Input.Scale * sw)], [.. Enumerable.Repeat(0L, last.OutFeatures)]);
        }

        ActivationQuant y = last.Output!;
        return ([.. Enumerable.Repeat(y.Scale, last.OutFeatures)], [.. Enumerable.Repeat(y.ZeroPoint, last.OutFeatures)]);
    }
}
