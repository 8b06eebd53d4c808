using System.Collections.Immutable;
using Cimc.Diagnostics;
using Cimc.Ir;

namespace Cimc.Quantization;

/// <summary>
/// One step of a canonical convolutional network: a crossbar layer (with its activation), a pool,
/// a residual add or a concat. <see cref="Value"/> is the float graph's value the step's output
/// equals (after a fused activation), whose calibrated range quantizes it, unless the file
/// quantized it (<see cref="FileQuant"/>, a QDQ model's fake_quant on that value).
/// </summary>
public abstract record GraphStep(string Name, ImmutableArray<int> Inputs, MapShape Shape, string Value)
{
    /// <summary>The file's quantization of <see cref="Value"/> (docs/quantization.md section 8), used instead of a calibrated range.</summary>
    public FakeQuant? FileQuant { get; init; }
}

/// <summary>
/// A convolution or dense layer and the activation after it, as a <see cref="ChainLayer"/> whose
/// Dense is the layer's matrix as the crossbars hold it: a convolution's im2col matrix (columns in
/// (kh, kw, c) order, zeros between groups), a dense layer after a map with its columns permuted
/// from the file's CHW flattening to HWC. <see cref="PreActivation"/> names the value before the activation.
/// </summary>
public sealed record LayerStep(string Name, ImmutableArray<int> Inputs, MapShape Shape, string Value, ChainLayer Layer, ConvGeometry? Conv, string PreActivation)
    : GraphStep(Name, Inputs, Shape, Value);

public sealed record MaxPoolStep(string Name, ImmutableArray<int> Inputs, MapShape Shape, string Value, Window2d Window)
    : GraphStep(Name, Inputs, Shape, Value);

/// <summary>An average pool; a global average pool is the window of the whole map.</summary>
public sealed record AvgPoolStep(string Name, ImmutableArray<int> Inputs, MapShape Shape, string Value, Window2d Window, bool CountIncludePad)
    : GraphStep(Name, Inputs, Shape, Value);

/// <summary>A residual add, with the ReLU that follows it when there is one.</summary>
public sealed record AddStep(string Name, ImmutableArray<int> Inputs, MapShape Shape, string Value, bool Relu)
    : GraphStep(Name, Inputs, Shape, Value);

public sealed record ConcatStep(string Name, ImmutableArray<int> Inputs, MapShape Shape, string Value)
    : GraphStep(Name, Inputs, Shape, Value);

/// <summary>
/// A float DAG with convolutions, pooling or residual adds canonicalized for quantization
/// (docs/quantization.md, "Convolutional networks"), as <see cref="LayerChain"/> is for a chain of
/// dense layers. Before: conv -> relu -> maxpool -> conv -> add(., maxpool) -> relu -> flatten -> dense -> softmax.
/// After: [conv+relu, maxpool, conv, add+relu, dense(columns HWC)], softmax on the host. Steps are
/// in topological order; <see cref="Steps"/>[i].Inputs index earlier steps, or
/// <see cref="QuantizedGraph.NetworkInput"/>. Identity and Flatten are no steps; an activation
/// joins the layer (or, a ReLU, the add) it follows. The network must end in a dense layer.
/// </summary>
public sealed record LayerGraph(string Name, string InputValue, MapShape InputShape, ImmutableArray<GraphStep> Steps, bool SoftmaxAtEnd)
{
    /// <summary>The file's quantization of the network input (a QDQ model's first fake_quant), or null.</summary>
    public FakeQuant? InputQuant { get; init; }

    /// <summary>The crossbar layers in step order: the model's Layers.</summary>
    public IEnumerable<LayerStep> Layers => Steps.OfType<LayerStep>();

    /// <summary>A chain of dense layers (no convolution, pooling, add or concat) is quantized by <see cref="LayerChain"/>.</summary>
    public static bool IsConvolutional(Graph graph) => graph.Nodes.Any(n => n.Op is Conv2d or MaxPool2d or AvgPool2d or GlobalAvgPool or Add or Concat);

    /// <summary>A value of the float graph as the steps see it: which step made it, its map, and whether a flatten turned it into a vector.</summary>
    private sealed record Source(int Step, MapShape Shape, bool Flattened);

    /// <summary>
    /// Canonicalizes <paramref name="graph"/>, whose input type must be concrete (every dimension
    /// but the batch known); every refusal is one line naming the node.
    /// </summary>
    public static LayerGraph FromGraph(Graph graph)
    {
        GraphVerifier.EnsureValid(graph);
        if (graph.Inputs.Length != 1 || graph.Outputs.Length != 1)
        {
            throw new CimcException("unsupported-for-compile", graph.Name, "the compiler takes networks with one input and one output");
        }

        IReadOnlyDictionary<string, TensorType> types = ShapeInference.Infer(graph);
        ValueInfo input = graph.Inputs[0];
        MapShape inputShape = ShapeOf(types[input.Name], $"input '{input.Name}'");
        // Readers of each value, counting through the ops that only rename it.
        var root = new Dictionary<string, string>(StringComparer.Ordinal);
        string Root(string value) => root.GetValueOrDefault(value, value);
        var uses = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (Node node in graph.Nodes)
        {
            foreach (string name in node.Inputs)
            {
                uses[Root(name)] = uses.GetValueOrDefault(Root(name)) + 1;
            }

            if (node.Op is Identity or Flatten or Reshape or FakeQuant)
            {
                uses[Root(node.Input)]--;
                root[node.Output] = Root(node.Input);
            }
        }

        var steps = new List<GraphStep>();
        var sources = new Dictionary<string, Source>(StringComparer.Ordinal) { [input.Name] = new(QuantizedGraph.NetworkInput, inputShape, inputShape.Pixels == 1) };
        bool softmaxAtEnd = false;
        FakeQuant? inputQuant = null;
        foreach (Node node in graph.Nodes)
        {
            string where = ShapeInference.Where(node);
            if (softmaxAtEnd)
            {
                throw new CimcException("unsupported-for-compile", where, "only a final softmax is supported; nothing may follow it");
            }

            Source Read(string value) => sources[value];
            MapShape outShape = node.Op is Softmax or Flatten or Reshape or Identity or FakeQuant ? Read(node.Input).Shape : ShapeOf(types[node.Output], where);
            GraphStep? step = node.Op switch
            {
                Conv2d conv => Map(node, Read(node.Input), where) is var x
                    ? new LayerStep(node.Name, [x.Step], outShape, node.Output, new ChainLayer(node.Name, Im2Col(conv, x.Shape), ActivationKind.None, 0f),
                        new ConvGeometry(x.Shape, conv.Window, conv.Group), node.Output)
                    : null,
                Dense dense => Read(node.Input) is var v && v.Flattened
                    ? new LayerStep(node.Name, [v.Step], outShape, node.Output, new ChainLayer(node.Name, Hwc(dense, v.Shape), ActivationKind.None, 0f), null, node.Output)
                    : throw new CimcException("unsupported-for-compile", where, $"a dense layer over the {v.Shape} map needs a flatten before it"),
                MaxPool2d pool => new MaxPoolStep(node.Name, [Map(node, Read(node.Input), where).Step], outShape, node.Output, pool.Window),
                AvgPool2d pool => new AvgPoolStep(node.Name, [Map(node, Read(node.Input), where).Step], outShape, node.Output, pool.Window, pool.CountIncludePad),
                GlobalAvgPool => Map(node, Read(node.Input), where) is var m
                    ? new AvgPoolStep(node.Name, [m.Step], outShape, node.Output, new Window2d(m.Shape.Height, m.Shape.Width), false)
                    : null,
                Add => new AddStep(node.Name, [Map(node, Read(node.Inputs[0]), where).Step, Map(node, Read(node.Inputs[1]), where).Step], outShape, node.Output, false),
                Concat concat => (concat.Axis is 1 or -3)
                    ? new ConcatStep(node.Name, [.. node.Inputs.Select(i => Map(node, Read(i), where).Step)], outShape, node.Output)
                    : throw new CimcException("unsupported-for-compile", where, $"concat on axis {concat.Axis}: cimc joins NCHW maps on channels (axis 1)"),
                _ => null,
            };
            if (step is not null)
            {
                steps.Add(step);
                sources[node.Output] = new Source(steps.Count - 1, outShape, outShape.Pixels == 1 && types[node.Output].Rank == 2);
                continue;
            }

            switch (node.Op)
            {
                case Identity:
                    sources[node.Output] = Read(node.Input);
                    break;
                case Flatten or Reshape:
                    Source s = Read(node.Input);
                    TensorType flat = types[node.Output];
                    if (flat.Rank != 2 || flat.Dims[1] != s.Shape.Size)
                    {
                        throw new CimcException("unsupported-for-compile", where, $"reshapes to {flat}; the compiler flattens a map to [batch, {s.Shape.Size}] only");
                    }

                    sources[node.Output] = s with { Flattened = true };
                    break;
                case Softmax:
                    softmaxAtEnd = true;
                    sources[node.Output] = Read(node.Input);
                    break;
                case Relu or LeakyRelu or Sigmoid or Tanh or Clip:
                    sources[node.Output] = Read(node.Input);
                    Activate(steps, node, Read(node.Input), uses.GetValueOrDefault(Root(node.Input)), Root(node.Input), where);
                    break;
                case LogSoftmax:
                    throw new CimcException("unsupported-for-compile", where,
                        "a final log_softmax runs in the float reference (inspect, infer, accuracy without --arch) but is not compiled; export the model without it (the predicted class is the same) or end it with Softmax");
                case FakeQuant fq:
                    // The file's quantization of the value: of the network input, or of the step that made it.
                    Source q = Read(node.Input);
                    sources[node.Output] = q;
                    if (q.Step == QuantizedGraph.NetworkInput)
                    {
                        inputQuant = LayerChain.Single(inputQuant, fq, where);
                    }
                    else if (steps[q.Step].Value == Root(node.Input))
                    {
                        steps[q.Step] = steps[q.Step] with { FileQuant = LayerChain.Single(steps[q.Step].FileQuant, fq, where) };
                    }
                    else
                    {
                        throw new CimcException("unsupported-for-compile", where, $"quantizes '{node.Input}', which no step of the compiled network outputs as it is");
                    }

                    break;
                default:
                    throw new CimcException("unsupported-for-compile", where, "this op cannot be compiled to crossbars");
            }
        }

        Source output = sources[graph.Outputs[0].Name];
        if (steps.Count == 0 || output.Step != steps.Count - 1 || steps[^1] is not LayerStep { Conv: null })
        {
            throw new CimcException("unsupported-for-compile", graph.Name, "the compiler needs a network that ends in a dense layer (a classifier), optionally followed by softmax");
        }

        return new LayerGraph(graph.Name, input.Name, inputShape, [.. steps], softmaxAtEnd) { InputQuant = inputQuant };
    }

    /// <summary>A value read as a map (NCHW, not flattened).</summary>
    private static Source Map(Node node, Source value, string where) => value.Flattened && value.Shape.Pixels > 1
        ? throw new CimcException("unsupported-for-compile", where, $"{node.Op.Mnemonic} reads a flattened map; cimc runs it on NCHW maps")
        : value;

    /// <summary>The activation joins the step that made its input: a layer without one yet, or (a ReLU) an add.</summary>
    private static void Activate(List<GraphStep> steps, Node node, Source input, int readers, string value, string where)
    {
        GraphStep? producer = input.Step >= 0 ? steps[input.Step] : null;
        if (producer is null || readers != 1 || producer.Value != value)
        {
            throw new CimcException("unsupported-for-compile", where,
                producer is null ? "an activation of the network input cannot be compiled"
                : $"an activation of '{node.Input}' that is also read elsewhere (or follows another activation) cannot be compiled");
        }

        (ActivationKind kind, float alpha, float ceiling) = node.Op switch
        {
            Relu => (ActivationKind.Relu, 0f, float.PositiveInfinity),
            Clip { Min: 0f, Max: > 0f } clip => (ActivationKind.Relu, 0f, clip.Max),
            Clip clip => throw new CimcException("unsupported-for-compile", where,
                FormattableString.Invariant($"clip to [{clip.Min}, {clip.Max}] cannot be compiled; cimc compiles Clip(0, max) (ReLU6 and the like) as the ReLU clamp")),
            LeakyRelu l => (ActivationKind.LeakyRelu, l.Alpha, float.PositiveInfinity),
            Sigmoid => (ActivationKind.Sigmoid, 0f, float.PositiveInfinity),
            _ => (ActivationKind.Tanh, 0f, float.PositiveInfinity),
        };
        steps[input.Step] = producer switch
        {
            // A fake_quant between the layer and its activation quantized the pre-activation (as in a chain).
            LayerStep { Layer.Activation: ActivationKind.None } l => l with
            {
                Value = node.Output,
                Layer = l.Layer with { Activation = kind, Alpha = alpha, Ceiling = ceiling, PreActivationQuant = l.FileQuant },
                FileQuant = null,
            },

            // The add's codes are the ReLU's; a quantization of the sum before it is not used (as a ReLU layer's pre-activation).
            AddStep { Relu: false } a when kind == ActivationKind.Relu && float.IsPositiveInfinity(ceiling) => a with { Value = node.Output, Relu = true, FileQuant = null },
            _ => throw new CimcException("unsupported-for-compile", where, $"{node.Op.Mnemonic} after {Describe(producer)} cannot be compiled"),
        };
    }

    private static string Describe(GraphStep step) => step switch
    {
        LayerStep => $"'{step.Name}', which already has an activation,",
        AddStep => $"the add '{step.Name}' (only a ReLU joins an add)",
        _ => $"the {step.GetType().Name.Replace("Step", "", StringComparison.Ordinal).ToLowerInvariant()} '{step.Name}'",
    };

    /// <summary>The map of a value's type: [N, C, H, W] or [N, F] (a vector, F x 1 x 1).</summary>
    private static MapShape ShapeOf(TensorType type, string where)
    {
        if (type.Dims.Skip(1).Any(d => d < 0))
        {
            throw new CimcException("unsupported-for-compile", where,
                $"has type {type} whose size is unknown (a PyTorch file does not record the image size); give calibration samples as N x C x H x W images");
        }

        return type.Rank switch
        {
            4 => new MapShape(type.Dims[1], type.Dims[2], type.Dims[3]),
            2 => MapShape.Vector(type.Dims[1]),
            _ => throw new CimcException("unsupported-for-compile", where, $"has type {type}; the compiler handles NCHW maps and [batch, features] vectors"),
        };
    }

    /// <summary>
    /// A convolution's im2col matrix, [out, kh * kw * Cin]: column ((kh * KW) + kw) * Cin + c holds
    /// W[o, c - g * Cg, kh, kw] for c in output channel o's group g, zero for the other groups.
    /// The file's integer weights (a QDQ model) move the same way, a zero being the channel's zero point.
    /// </summary>
    public static Dense Im2Col(Conv2d conv, MapShape input)
    {
        Window2d win = conv.Window;
        int outC = conv.OutChannels, inC = input.Channels, groupIn = inC / conv.Group, groupOut = outC / conv.Group;
        int k = win.KernelH * win.KernelW * inC;
        var from = new int[(long)outC * k];
        Array.Fill(from, -1);
        for (int o = 0; o < outC; o++)
        {
            int g = o / groupOut;
            for (int ci = 0; ci < groupIn; ci++)
            {
                int c = (g * groupIn) + ci;
                for (int kh = 0; kh < win.KernelH; kh++)
                {
                    for (int kw = 0; kw < win.KernelW; kw++)
                    {
                        from[((long)o * k) + (((kh * win.KernelW) + kw) * inC) + c] = (((((o * groupIn) + ci) * win.KernelH) + kh) * win.KernelW) + kw;
                    }
                }
            }
        }

        return Moved(new Dense(conv.Weight, conv.Bias, conv.Quantized), outC, k, from);
    }

    /// <summary>
    /// A dense layer reading a flattened C x H x W map: the file's column c * H * W + y * W + x
    /// becomes column (y * W + x) * C + c, the map's HWC order on the chip (the file's integer
    /// weights, if any, move with them).
    /// </summary>
    public static Dense Hwc(Dense dense, MapShape map)
    {
        if (map.Pixels == 1 || map.Channels == 1)
        {
            return dense;
        }

        int outF = dense.OutFeatures, inF = dense.InFeatures;
        var from = new int[(long)outF * inF];
        for (int o = 0; o < outF; o++)
        {
            for (int c = 0; c < map.Channels; c++)
            {
                for (int p = 0; p < map.Pixels; p++)
                {
                    from[((long)o * inF) + (p * map.Channels) + c] = (o * inF) + (c * map.Pixels) + p;
                }
            }
        }

        return Moved(dense, outF, inF, from);
    }

    /// <summary>The [rows, cols] layer whose element i is <paramref name="layer"/>'s element from[i] (zero, or the row's zero point, where from[i] is -1).</summary>
    private static Dense Moved(Dense layer, int rows, int cols, int[] from)
    {
        var w = new float[from.Length];
        ReadOnlySpan<float> src = layer.Weight.Span;
        for (int i = 0; i < w.Length; i++)
        {
            w[i] = from[i] < 0 ? 0f : src[from[i]];
        }

        IntegerWeights? q = layer.Quantized;
        if (q is not null)
        {
            var values = new int[from.Length];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = from[i] < 0 ? (int)q.ZeroPointOf(i / cols) : q.Values[from[i]];
            }

            q = q with { Values = [.. values] };
        }

        return new Dense(FloatTensor.Matrix(rows, cols, w), layer.Bias, q);
    }
}
