using System.Collections.Immutable;
using Cimc.Diagnostics;
using Cimc.Ir;

namespace Cimc.Quantization;

/// <summary>The activation after a dense layer, as the quantized network knows it.</summary>
public enum ActivationKind
{
    None,
    Relu,
    LeakyRelu,
    Sigmoid,
    Tanh,
}

/// <summary>
/// One dense layer and the activation that follows it. The quantization the file gave the layer's
/// input, pre-activation and output (a <see cref="FakeQuant"/> at that point of the graph) rides
/// along; the quantizer prefers it to calibrated ranges (docs/quantization.md section 8).
/// <see cref="Ceiling"/> bounds a ReLU from above (Clip(0, 6) is ReLU6): the quantizer keeps the
/// output range within it, so that the clamp to the top code is the clip (section 5).
/// </summary>
public sealed record ChainLayer(string Name, Dense Dense, ActivationKind Activation, float Alpha,
    FakeQuant? InputQuant = null, FakeQuant? PreActivationQuant = null, FakeQuant? OutputQuant = null, float Ceiling = float.PositiveInfinity)
{
    /// <summary>Activations computed by the special-function unit (vact) from a quantized pre-activation.</summary>
    public bool UsesActivationUnit => Activation is ActivationKind.Sigmoid or ActivationKind.Tanh or ActivationKind.LeakyRelu;
}

/// <summary>
/// A float graph canonicalized to Dense + activation pairs (docs/quantization.md section 1).
/// Before: flatten -> dense -> relu -> dropout -> dense -> softmax. After: [dense+relu, dense+none],
/// softmax applied by the host. A fake_quant becomes the quantization of the point where it sits:
/// before the first dense, the network input; after a dense, its output, or its pre-activation
/// once an activation follows; after an activation, the layer's output (and the next layer's input).
/// </summary>
public sealed record LayerChain(string Name, ImmutableArray<ChainLayer> Layers, bool SoftmaxAtEnd)
{
    public int InFeatures => Layers[0].Dense.InFeatures;

    public int OutFeatures => Layers[^1].Dense.OutFeatures;

    public static LayerChain FromGraph(Graph graph)
    {
        GraphVerifier.EnsureValid(graph);
        IReadOnlyDictionary<string, TensorType> types = ShapeInference.Infer(graph);
        var layers = ImmutableArray.CreateBuilder<ChainLayer>();
        bool softmaxAtEnd = false;
        FakeQuant? inputQuant = null;
        for (int n = 0; n < graph.Nodes.Length; n++)
        {
            Node node = graph.Nodes[n];
            string where = $"node '{node.Name}' ({node.Op.Mnemonic})";
            if (softmaxAtEnd)
            {
                throw new CimcException("unsupported-for-compile", where, "only a final softmax is supported; nothing may follow it");
            }

            switch (node.Op)
            {
                case Dense dense:
                    FakeQuant? before = layers.Count == 0 ? inputQuant : layers[^1].OutputQuant;
                    layers.Add(new ChainLayer(node.Name, dense, ActivationKind.None, 0f, before));
                    break;
                case FakeQuant fq when layers.Count == 0:
                    inputQuant = Single(inputQuant, fq, where);
                    break;
                case FakeQuant fq:
                    layers[^1] = layers[^1] with { OutputQuant = Single(layers[^1].OutputQuant, fq, where) };
                    break;
                case Identity:
                    break;
                case Flatten or Reshape:
                    TensorType output = types[node.Output];
                    if (output.Rank != 2)
                    {
                        throw new CimcException("unsupported-for-compile", where, $"reshapes to {output}; the compiler needs [batch, features]");
                    }

                    break;
                case Softmax:
                    softmaxAtEnd = true;
                    break;
                case LogSoftmax:
                    throw new CimcException("unsupported-for-compile", where,
                        "a final log_softmax runs in the float reference (inspect, infer, accuracy without --arch) but is not compiled; export the model without it (the predicted class is the same) or end it with Softmax");
                case Clip clip when clip.Min == 0f && clip.Max > 0f:
                    AddActivation(layers, where, ActivationKind.Relu, 0f);
                    layers[^1] = layers[^1] with { Ceiling = clip.Max };
                    break;
                case Clip clip:
                    throw new CimcException("unsupported-for-compile", where,
                        FormattableString.Invariant($"clip to [{clip.Min}, {clip.Max}] cannot be compiled; cimc compiles Clip(0, max) (ReLU6 and the like) as the ReLU clamp"));
                case Relu or LeakyRelu or Sigmoid or Tanh:
                    (ActivationKind kind, float alpha) = node.Op switch
                    {
                        Relu => (ActivationKind.Relu, 0f),
                        LeakyRelu l => (ActivationKind.LeakyRelu, l.Alpha),
                        Sigmoid => (ActivationKind.Sigmoid, 0f),
                        _ => (ActivationKind.Tanh, 0f),
                    };
                    AddActivation(layers, where, kind, alpha);
                    break;
                case Conv2d or MaxPool2d or AvgPool2d or GlobalAvgPool or Add or Concat:
                    throw new CimcException("unsupported-for-compile", where,
                        "convolutional networks (convolution, pooling, residual add, concat) are not compiled yet; cimc infer and cimc accuracy without --arch run them in the float reference");
                default:
                    throw new CimcException("unsupported-for-compile", where, "this op cannot be compiled to crossbars");
            }
        }

        if (layers.Count == 0)
        {
            throw new CimcException("unsupported-for-compile", graph.Name, "the model has no dense layer to map onto crossbars");
        }

        return new LayerChain(graph.Name, layers.ToImmutable(), softmaxAtEnd);
    }

    /// <summary>Gives the last dense layer its activation.</summary>
    private static void AddActivation(ImmutableArray<ChainLayer>.Builder layers, string where, ActivationKind kind, float alpha)
    {
        if (layers.Count == 0 || layers[^1].Activation != ActivationKind.None)
        {
            throw new CimcException("unsupported-for-compile", where,
                layers.Count == 0 ? "an activation before the first dense layer cannot be compiled" : "two activations in a row cannot be compiled");
        }

        // A fake_quant between the dense and its activation quantized the pre-activation.
        layers[^1] = layers[^1] with
        {
            Activation = kind,
            Alpha = alpha,
            PreActivationQuant = layers[^1].OutputQuant,
            OutputQuant = null,
        };
    }

    /// <summary>Two fake quantizations of one value compose to something cimc cannot hold, unless they are the same.</summary>
    internal static FakeQuant Single(FakeQuant? existing, FakeQuant next, string where) =>
        existing is null || existing == next ? next
            : throw new CimcException("unsupported-for-compile", where, "a second, different quantization of the same value cannot be compiled");

    /// <summary>The activation function in float, for calibration and the quantizer's error estimates.</summary>
    public static double Apply(ActivationKind kind, float alpha, double v) => kind switch
    {
        ActivationKind.None => v,
        ActivationKind.Relu => v > 0 ? v : 0,
        ActivationKind.LeakyRelu => v >= 0 ? v : v * alpha,
        ActivationKind.Sigmoid => 1.0 / (1.0 + Math.Exp(-v)),
        ActivationKind.Tanh => Math.Tanh(v),
        _ => throw new InvalidOperationException(kind.ToString()),
    };
}
