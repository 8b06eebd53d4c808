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

/// <summary>One dense layer and the activation that follows it.</summary>
public sealed record ChainLayer(string Name, Dense Dense, ActivationKind Activation, float Alpha)
{
    /// <summary>Activations computed by a lookup table over the quantized pre-activation.</summary>
    public bool UsesLookupTable => Activation is ActivationKind.Sigmoid or ActivationKind.Tanh or ActivationKind.LeakyRelu;
}

/// <summary>
/// A float graph canonicalized to Dense + activation pairs (docs/quantization.md section 1).
/// Before: flatten -> dense -> relu -> dropout -> dense -> softmax. After: [dense+relu, dense+none],
/// softmax applied by the host.
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
                    layers.Add(new ChainLayer(node.Name, dense, ActivationKind.None, 0f));
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
                case Relu or LeakyRelu or Sigmoid or Tanh:
                    if (layers.Count == 0 || layers[^1].Activation != ActivationKind.None)
                    {
                        throw new CimcException("unsupported-for-compile", where,
                            layers.Count == 0 ? "an activation before the first dense layer cannot be compiled" : "two activations in a row cannot be compiled");
                    }

                    (ActivationKind kind, float alpha) = node.Op switch
                    {
                        Relu => (ActivationKind.Relu, 0f),
                        LeakyRelu l => (ActivationKind.LeakyRelu, l.Alpha),
                        Sigmoid => (ActivationKind.Sigmoid, 0f),
                        _ => (ActivationKind.Tanh, 0f),
                    };
                    layers[^1] = layers[^1] with { Activation = kind, Alpha = alpha };
                    break;
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

    /// <summary>The activation function in float, for calibration and lookup tables.</summary>
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
