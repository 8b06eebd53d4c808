using System.Collections.Immutable;

namespace Cimc.Ir;

/// <summary>
/// An operation of the float graph. Each op gives one tensor; most take one (<see cref="Add"/>
/// takes two, <see cref="Concat"/> one or more); the batch is the leading dimension. Image tensors
/// are NCHW. New ops get a record here (convolution and pooling in ConvOps.cs), a case in
/// <see cref="ShapeInference"/>, in <see cref="GraphPrinter"/> and in the float reference executor
/// (a test checks all four).
/// </summary>
public abstract record Op
{
    /// <summary>Short lowercase name used in the text form.</summary>
    public abstract string Mnemonic { get; }

    /// <summary>How many inputs the op takes; null for any number from one up.</summary>
    public virtual int? InputCount => 1;
}

/// <summary>
/// y = x W^T + b over the last dimension. Weight is [out, in]; bias, if any, is [out].
/// <paramref name="Quantized"/> is set when the file stored the weight as integers (ONNX
/// int8 -> DequantizeLinear): Weight holds the dequantized values, which the graph computes with;
/// the quantizer may reuse the integers and scales instead of choosing its own.
/// </summary>
public sealed record Dense(FloatTensor Weight, FloatTensor? Bias, IntegerWeights? Quantized = null) : Op
{
    public override string Mnemonic => "dense";

    public int OutFeatures => Weight.Shape[0];

    public int InFeatures => Weight.Shape[1];
}

/// <summary>
/// Integer weights as a file stored them: Weight[o, i] = (Values[o, i] - ZeroPoints[c]) * Scales[c]
/// with c = o when there is one scale per output channel and c = 0 when there is one for the
/// tensor. Values are row-major [out, in], in the integer type's range [QMin, QMax].
/// </summary>
public sealed record IntegerWeights(ImmutableArray<int> Values, ImmutableArray<float> Scales, ImmutableArray<long> ZeroPoints, long QMin, long QMax)
{
    public bool PerChannel => Scales.Length > 1;

    public float ScaleOf(int output) => Scales[PerChannel ? output : 0];

    public long ZeroPointOf(int output) => ZeroPoints[PerChannel ? output : 0];
}

/// <summary>
/// A quantize-dequantize round trip of an activation (ONNX QuantizeLinear then DequantizeLinear with
/// the same scale and zero point): y = (clamp(round_half_even(x / Scale) + ZeroPoint, QMin, QMax) - ZeroPoint) * Scale,
/// in float32 as ONNX Runtime computes it. [QMin, QMax] is the integer type's range (uint8 [0, 255],
/// int8 [-128, 127]), narrowed by a Clip of the integers if the file has one. It marks where the
/// file quantized an activation and how; the quantizer adopts it (docs/quantization.md section 8).
/// </summary>
public sealed record FakeQuant(float Scale, long ZeroPoint, long QMin, long QMax) : Op
{
    public override string Mnemonic => "fake_quant";

    /// <summary>One value, exactly as ONNX Runtime's QuantizeLinear and DequantizeLinear compute it.</summary>
    public float Apply(float x)
    {
        // MLAS divides in float32, clamps to the code range shifted by the zero point (a NaN
        // becomes the low end, as MAXPS returns its second operand), then converts rounding to
        // nearest even. DequantizeLinear multiplies (q - z), converted to float, by the scale
        // (through an integer: -0.4 gives +0, not -0).
        float v = x / Scale;
        float lo = QMin - ZeroPoint, hi = QMax - ZeroPoint;
        v = !(v >= lo) ? lo : v > hi ? hi : v;
        return (float)(long)MathF.Round(v, MidpointRounding.ToEven) * Scale;
    }
}

public sealed record Relu : Op
{
    public override string Mnemonic => "relu";
}

public sealed record LeakyRelu(float Alpha) : Op
{
    public override string Mnemonic => "leaky_relu";
}

public sealed record Sigmoid : Op
{
    public override string Mnemonic => "sigmoid";
}

public sealed record Tanh : Op
{
    public override string Mnemonic => "tanh";
}

/// <summary>Softmax over one axis (negative counts from the end).</summary>
public sealed record Softmax(int Axis) : Op
{
    public override string Mnemonic => "softmax";
}

/// <summary>log(softmax(x)) over one axis, computed as x - max - log(sum(exp(x - max))).</summary>
public sealed record LogSoftmax(int Axis) : Op
{
    public override string Mnemonic => "log_softmax";
}

/// <summary>
/// min(max(x, Min), Max) (ONNX Clip; ReLU6 is Clip(0, 6), hardtanh Clip(-1, 1)). NaN passes
/// through, as in ONNX Runtime.
/// </summary>
public sealed record Clip(float Min, float Max) : Op
{
    public override string Mnemonic => "clip";
}

/// <summary>ONNX Flatten: dimensions before Axis become the first, the rest the second.</summary>
public sealed record Flatten(int Axis) : Op
{
    public override string Mnemonic => "flatten";
}

/// <summary>Reshape to a constant shape with ONNX semantics: 0 copies the input dimension, -1 is inferred.</summary>
public sealed record Reshape(ImmutableArray<long> Shape) : Op
{
    public override string Mnemonic => "reshape";

    public bool Equals(Reshape? other) => other is not null && Shape.SequenceEqual(other.Shape);

    public override int GetHashCode() => Shape.Length;
}

public sealed record Identity : Op
{
    public override string Mnemonic => "identity";
}
