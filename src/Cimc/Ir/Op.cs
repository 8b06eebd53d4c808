using System.Collections.Immutable;

namespace Cimc.Ir;

/// <summary>
/// An operation of the float graph. Each op takes one tensor and gives one tensor; the batch is the
/// leading dimension. New ops get a record here, a case in <see cref="ShapeInference"/>, in
/// <see cref="GraphPrinter"/> and in the float reference executor (a test checks all four).
/// </summary>
public abstract record Op
{
    /// <summary>Short lowercase name used in the text form.</summary>
    public abstract string Mnemonic { get; }
}

/// <summary>y = x W^T + b over the last dimension. Weight is [out, in]; bias, if any, is [out].</summary>
public sealed record Dense(FloatTensor Weight, FloatTensor? Bias) : Op
{
    public override string Mnemonic => "dense";

    public int OutFeatures => Weight.Shape[0];

    public int InFeatures => Weight.Shape[1];
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
