using Cimc.Import.Onnx.Proto;
using Cimc.Ir;

namespace Cimc.Import.Onnx;

/// <summary>
/// The convolutional ops (opsets 9 to 21 and on): Conv (2-D, any group dividing the channels),
/// MaxPool, AveragePool, GlobalAveragePool, BatchNormalization folded into the Conv or Gemm
/// before it, Add of two computed tensors (a residual connection), Concat, and Pad of zeros
/// folded into the Conv or AveragePool after it (PyTorch exports AvgPool2d as Pad + AveragePool).
/// Before: Conv(x, W) -> BatchNormalization(scale, bias, mean, var) -> Relu.
/// After:  conv2d[W * s, (b - mean) * s + bias](x) -> relu, with s = scale / sqrt(var + epsilon).
/// </summary>
internal sealed partial class OnnxLowering
{
    /// <summary>Zero padding of a computed value, waiting for the Conv or AveragePool that absorbs it.</summary>
    private sealed record PendingPad(string Source, int Top, int Left, int Bottom, int Right);

    private readonly Dictionary<string, PendingPad> _pads = new(StringComparer.Ordinal);

    private void Conv(NodeProto node)
    {
        (string x, PendingPad? pad) = SpatialInput(node);
        OnnxConstant w = Constant(node, 1, "weight W");
        if (w.Dims.Length != 4)
        {
            throw Problem(node, "onnx-conv-rank", $"the weight {w.ShapeText} is not 4-D; cimc imports 2-D convolutions ([out, in/group, kh, kw])");
        }

        int group = Int32(node, "group", 1);
        Window2d window = Window(node, x, (int)w.Dims[2], (int)w.Dims[3], pad, allowCeil: false);
        FloatTensor? bias = HasInput(node, 2) ? BiasVector(node, Constant(node, 2, "bias B"), (int)w.Dims[0], rank: 1) : null;
        Emit(node, new Conv2d(w.ToFloatTensor(), bias, window, group, ConvWeightsOf(w)), x);
    }

    private void Pool(NodeProto node, bool max)
    {
        (string x, PendingPad? pad) = SpatialInput(node);
        long[] kernel = IntList(node, "kernel_shape") ?? throw Problem(node, "onnx-attribute", "attribute 'kernel_shape' is missing");
        if (kernel.Length != 2)
        {
            throw Problem(node, "onnx-pool-rank", $"kernel_shape has {kernel.Length} dimensions; cimc imports 2-D pooling");
        }

        bool countPad = Int(node, "count_include_pad", 0) != 0;
        if (pad is not null && (max || (!countPad && HasOwnPads(node))))
        {
            throw Problem(node, "onnx-pad", max
                ? "a Pad before MaxPool pads with zeros, which cimc does not fold; use the pool's own pads"
                : "a Pad before an AveragePool that has its own pads and count_include_pad=0 cannot be folded");
        }

        Window2d window = Window(node, x, Narrow(node, kernel[0]), Narrow(node, kernel[1]), pad, allowCeil: true);
        if (window.CeilMode && (window with { CeilMode = false, PadBottom = window.PadBottom + window.StrideH - 1 }).OutputHeight(_types[x].Dims[2]) != window.OutputHeight(_types[x].Dims[2])
            || window.CeilMode && (window with { CeilMode = false, PadRight = window.PadRight + window.StrideW - 1 }).OutputWidth(_types[x].Dims[3]) != window.OutputWidth(_types[x].Dims[3]))
        {
            // PyTorch drops a last window that starts past the input and its begin padding; ONNX
            // Runtime keeps it. Rather than pick one, cimc refuses the shapes where they differ.
            throw Problem(node, "onnx-ceil-mode", $"ceil_mode=1 gives a last window that starts past the {_types[x]} input, which PyTorch drops and ONNX Runtime keeps; export with ceil_mode=0 or padding that covers it");
        }

        // Zeros padded by a Pad node are input cells, counted in the mean's divisor.
        Emit(node, max ? new MaxPool2d(window) : new AvgPool2d(window, countPad || pad is not null), x);

        bool HasOwnPads(NodeProto n) => (IntList(n, "pads") ?? []).Any(p => p != 0);
    }

    /// <summary>
    /// y = (x - mean) / sqrt(var + epsilon) * scale + bias per channel, folded into the weights and
    /// bias of the Conv or Gemm that produced x, when nothing else reads x.
    /// </summary>
    private void BatchNormalization(NodeProto node)
    {
        string x = Data(node, 0);
        if (_opset >= 14 && Int(node, "training_mode", 0) != 0)
        {
            throw Problem(node, "onnx-batchnorm-training", "training_mode=1 computes batch statistics; cimc imports inference graphs");
        }

        if (!_producer.TryGetValue(x, out int at) || _irUses[x] != 1 || _nodes[at].Op is not (Conv2d or Dense))
        {
            throw Problem(node, "onnx-batchnorm", "BatchNormalization is supported only right after a Conv or Gemm whose output nothing else uses (it is folded into its weights)");
        }

        Op producer = _nodes[at].Op;
        int channels = BatchNormFold.Channels(producer)!.Value;
        float[] scale = Channels(node, 1, "scale", channels), shift = Channels(node, 2, "bias B", channels);
        float[] mean = Channels(node, 3, "mean", channels), variance = Channels(node, 4, "var", channels);
        Refold(node, at, BatchNormFold.Fold(producer, mean, variance, scale, shift, Float(node, "epsilon", 1e-5f)), x);
    }

    /// <summary>A per-channel constant of BatchNormalization, as [C].</summary>
    private float[] Channels(NodeProto node, int index, string role, int channels)
    {
        OnnxConstant c = Constant(node, index, role);
        return c.Length == channels && c.Dims.Length == 1
            ? c.AsFloats()
            : throw Problem(node, "onnx-batchnorm", $"the {role} has shape {c.ShapeText}, not [{channels}] (one value per channel)");
    }

    /// <summary>Replaces node <paramref name="at"/>'s op (a fold of this ONNX node into it) and gives it this node's output.</summary>
    private void Refold(NodeProto node, int at, Op op, string data)
    {
        string onnxOut = node.Output[0];
        string output = NewValueName(onnxOut);
        _nodes[at] = _nodes[at] with { Op = op, Outputs = [output] };
        _types[output] = _types[data];
        _producer[output] = at;
        _irUses[output] = _onnxUses.GetValueOrDefault(onnxOut);
        _values[onnxOut] = output;
    }

    /// <summary>x + y of two computed tensors of one shape: a residual connection.</summary>
    private void AddTensors(NodeProto node) => EmitAll(node, new Ir.Add(), [Data(node, 0), Data(node, 1)]);

    private void Concat(NodeProto node)
    {
        if (node.Input.Count == 0)
        {
            throw Problem(node, "onnx-missing-input", "Concat needs at least one input");
        }

        if (Attribute(node, "axis") is null)
        {
            throw Problem(node, "onnx-attribute", "attribute 'axis' is missing");
        }

        EmitAll(node, new Ir.Concat(Int32(node, "axis", 1)), [.. Enumerable.Range(0, node.Input.Count).Select(i => Data(node, i))]);
    }

    /// <summary>
    /// Pad with zeros: none at all is dropped; zeros on the height and width of an NCHW tensor wait
    /// for the Conv or AveragePool that reads them, which pads instead.
    /// </summary>
    private void Pad(NodeProto node)
    {
        string x = Data(node, 0);
        string mode = Attribute(node, "mode") is { } m ? m.S.ToStringUtf8() : "constant";
        long[] pads = _opset < 11 ? IntList(node, "pads") ?? throw Problem(node, "onnx-attribute", "attribute 'pads' is missing")
            : Constant(node, 1, "pads").Ints ?? throw Problem(node, "onnx-pad", "the pads must be integers");
        float value = _opset < 11 ? Float(node, "value", 0f) : HasInput(node, 2) ? ClipBound(node, 2, "constant value") : 0f;
        int rank = _types[x].Rank;
        if (_opset >= 18 && HasInput(node, 3))
        {
            throw Problem(node, "onnx-pad", "Pad with an axes input is not supported");
        }

        if (pads.Length != 2 * rank)
        {
            throw Problem(node, "onnx-pad", $"{pads.Length} pads for a rank-{rank} input; expected {2 * rank}");
        }

        if (pads.All(p => p == 0))
        {
            Alias(node, x);
            return;
        }

        bool spatialOnly = rank == 4 && pads[0] == 0 && pads[1] == 0 && pads[4] == 0 && pads[5] == 0 && pads.All(p => p >= 0);
        if (mode != "constant" || value != 0f || !spatialOnly)
        {
            throw Problem(node, "onnx-pad", $"Pad (mode {mode}, value {value}, pads [{string.Join(",", pads)}]) is supported only as zeros on the height and width of an NCHW tensor before a Conv or AveragePool");
        }

        _pads[node.Output[0]] = new PendingPad(x, Narrow(node, pads[2]), Narrow(node, pads[3]), Narrow(node, pads[6]), Narrow(node, pads[7]));
    }

    /// <summary>The data input of a windowed op, and the zero padding a Pad before it left to absorb.</summary>
    private (string Value, PendingPad? Pad) SpatialInput(NodeProto node)
    {
        if (HasInput(node, 0) && _pads.TryGetValue(node.Input[0], out PendingPad? pad))
        {
            if (_onnxUses.GetValueOrDefault(node.Input[0]) != 1)
            {
                throw Problem(node, "onnx-pad", "the padded value is read by more than this node; cimc folds a Pad only into its one reader");
            }

            return (pad.Source, pad);
        }

        string x = Data(node, 0);
        if (_types[x].Rank != 4)
        {
            throw Problem(node, "onnx-conv-rank", $"{node.OpType} needs an NCHW input (rank 4), got {_types[x]}; cimc imports 2-D convolution and pooling");
        }

        return (x, null);
    }

    /// <summary>Kernel, strides, pads (explicit or auto_pad), dilations and ceil_mode of a windowed op.</summary>
    private Window2d Window(NodeProto node, string x, int kh, int kw, PendingPad? extra, bool allowCeil)
    {
        if (IntList(node, "kernel_shape") is { } k && (k.Length != 2 || k[0] != kh || k[1] != kw))
        {
            throw Problem(node, "onnx-attribute", $"kernel_shape [{string.Join(",", k)}] does not match the {kh}x{kw} kernel");
        }

        long[] strides = IntList(node, "strides") ?? [1, 1];
        long[] dilations = IntList(node, "dilations") ?? [1, 1];
        if (strides.Length != 2 || dilations.Length != 2)
        {
            throw Problem(node, "onnx-attribute", $"strides and dilations need two values each, got [{string.Join(",", strides)}] and [{string.Join(",", dilations)}]");
        }

        bool ceil = Int(node, "ceil_mode", 0) != 0;
        if (ceil && !allowCeil)
        {
            throw Problem(node, "onnx-attribute", "ceil_mode is not an attribute of this op");
        }

        int[] pads = Pads(node, x, [kh, kw], strides, dilations);
        if (extra is not null)
        {
            pads = [pads[0] + extra.Top, pads[1] + extra.Left, pads[2] + extra.Bottom, pads[3] + extra.Right];
        }

        var window = new Window2d(kh, kw, Narrow(node, strides[0]), Narrow(node, strides[1]), pads[0], pads[1], pads[2], pads[3],
            Narrow(node, dilations[0]), Narrow(node, dilations[1]), ceil);
        return ConvShapes.Check(window) is { } problem ? throw Problem(node, "onnx-attribute", problem) : window;
    }

    /// <summary>[top, left, bottom, right] from pads ([top, left, bottom, right] in ONNX order) or auto_pad.</summary>
    private int[] Pads(NodeProto node, string x, int[] kernel, long[] strides, long[] dilations)
    {
        string autoPad = Attribute(node, "auto_pad") is { } a ? a.S.ToStringUtf8() : "NOTSET";
        switch (autoPad)
        {
            case "NOTSET" or "":
                long[] pads = IntList(node, "pads") ?? [0, 0, 0, 0];
                return pads.Length == 4
                    ? [Narrow(node, pads[0]), Narrow(node, pads[1]), Narrow(node, pads[2]), Narrow(node, pads[3])]
                    : throw Problem(node, "onnx-attribute", $"pads has {pads.Length} values; a 2-D window needs 4");
            case "VALID":
                return [0, 0, 0, 0];
            case "SAME_UPPER" or "SAME_LOWER":
                var result = new int[4];
                for (int d = 0; d < 2; d++)
                {
                    int size = _types[x].Dims[2 + d];
                    if (size < 0)
                    {
                        throw Problem(node, "onnx-auto-pad", $"auto_pad {autoPad} needs the input's height and width, which {_types[x]} leaves open");
                    }

                    long stride = Math.Max(1, strides[d]), span = (Math.Max(1, dilations[d]) * (kernel[d] - 1)) + 1;
                    long total = Math.Max(0, ((((size + stride - 1) / stride) - 1) * stride) + span - size);
                    long small = total / 2, large = total - small;
                    (result[d], result[d + 2]) = autoPad == "SAME_UPPER" ? (Narrow(node, small), Narrow(node, large)) : (Narrow(node, large), Narrow(node, small));
                }

                return result;
            default:
                throw Problem(node, "onnx-attribute", $"auto_pad '{autoPad}' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER");
        }
    }

    private long[]? IntList(NodeProto node, string name)
    {
        AttributeProto? a = Attribute(node, name);
        if (a is null)
        {
            return null;
        }

        return a.Type is AttributeProto.Types.AttributeType.Ints or AttributeProto.Types.AttributeType.Undefined
            ? [.. a.Ints]
            : throw Problem(node, "onnx-attribute", $"attribute '{name}' should be a list of integers but is {a.Type}");
    }

    /// <summary>A window size from a file: out-of-range values are its mistake (the window check bounds them further).</summary>
    private int Narrow(NodeProto node, long v) => v is >= -(1 << 20) and <= 1 << 20
        ? (int)v
        : throw Problem(node, "onnx-attribute", $"value {v} is out of range");
}
