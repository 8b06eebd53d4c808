using System.Collections.Immutable;
using Cimc.Import.Onnx.Proto;
using Cimc.Ir;
using DataType = Cimc.Import.Onnx.Proto.TensorProto.Types.DataType;

namespace Cimc.Import.Onnx;

/// <summary>
/// One case per supported ONNX op (opsets 7 to 25). Dense layers come from Gemm, from MatMul with a
/// constant right operand, and from an Add of a constant folded into the Dense (or Conv) before it;
/// an Add of two computed values is a residual connection. The convolutional ops are in OnnxConvOps.cs.
/// Constants (Constant, Cast or Transpose of a constant) produce no node; Dropout is dropped (inference).
/// QuantizeLinear, DequantizeLinear and Clip of quantized integers are in OnnxQdq.cs.
/// </summary>
internal sealed partial class OnnxLowering
{
    /// <param name="name">The node's name in cimc (its ONNX name, or a generated one).</param>
    /// <param name="where">Where diagnostics point: "node 'n' (Op, opset N)".</param>
    public void Lower(NodeProto node, string name, string where)
    {
        _name = name;
        _where = where;
        if (IsIntegerOp(node))
        {
            throw Problem(node, "onnx-integer-op",
                $"{node.OpType} computes on integers, which cimc does not import; export the quantized model in the QDQ format (QuantizeLinear/DequantizeLinear around float ops, e.g. ONNX Runtime's quantize_static with QuantFormat.QDQ)");
        }

        if (node.Domain is not ("" or "ai.onnx"))
        {
            throw Problem(node, "onnx-domain", $"operator domain '{node.Domain}' is not supported; cimc reads the default ONNX domain only");
        }

        RequireSingleOutput(node);
        switch (node.OpType)
        {
            case "Gemm": Gemm(node); break;
            case "MatMul": MatMul(node); break;
            case "Add": Add(node); break;
            case "Relu": Emit(node, new Relu(), Data(node, 0)); break;
            case "LeakyRelu": Emit(node, new LeakyRelu(Float(node, "alpha", 0.01f)), Data(node, 0)); break;
            case "Sigmoid": Emit(node, new Sigmoid(), Data(node, 0)); break;
            case "Tanh": Emit(node, new Tanh(), Data(node, 0)); break;
            case "Identity": IdentityOp(node); break;
            case "Softmax": Softmax(node); break;
            case "LogSoftmax": Softmax(node); break;
            case "Transpose": Transpose(node); break;
            case "Flatten": Emit(node, new Flatten(Int32(node, "axis", 1)), Data(node, 0)); break;
            case "Reshape": Reshape(node); break;
            case "Dropout": Dropout(node); break;
            case "Constant": _constants[node.Output[0]] = ConstantValue(node); break;
            case "Cast": Cast(node); break;
            case "QuantizeLinear" when _opset >= 10: QuantizeLinear(node); break;
            case "DequantizeLinear" when _opset >= 10: DequantizeLinear(node); break;
            case "Clip": Clip(node); break;
            case "Conv": Conv(node); break;
            case "MaxPool": Pool(node, max: true); break;
            case "AveragePool": Pool(node, max: false); break;
            case "GlobalAveragePool": Emit(node, new GlobalAvgPool(), SpatialInput(node).Value); break;
            case "BatchNormalization": BatchNormalization(node); break;
            case "Concat": Concat(node); break;
            case "Pad": Pad(node); break;
            default: throw Problem(node, "onnx-unsupported-op", "unsupported operator");
        }
    }

    /// <summary>Y = alpha * A * B' + beta * C with B' = B or B^T: alpha is folded into W, beta into the bias.</summary>
    private void Gemm(NodeProto node)
    {
        if (Int(node, "transA", 0) != 0)
        {
            throw Problem(node, "onnx-gemm-transa", "transA=1 (a transposed input) is not supported");
        }

        string a = Data(node, 0);
        if (_types[a].Rank != 2)
        {
            throw Problem(node, "onnx-gemm-rank", $"Gemm needs a 2-D input, got {_types[a]}");
        }

        OnnxConstant b = Constant(node, 1, "weight B");
        if (b.Dims.Length != 2)
        {
            throw Problem(node, "onnx-gemm-weight", $"the weight B must be 2-D, got {b.ShapeText}");
        }

        // Dense stores W as [out, in]; B is [in, out] unless transB=1.
        FloatTensor w = b.ToFloatTensor();
        w = Int(node, "transB", 0) != 0 ? w : w.Transpose();
        float alpha = Float(node, "alpha", 1f);
        w = w.Scale(alpha);
        FloatTensor? bias = null;
        float beta = Float(node, "beta", 1f);
        if (HasInput(node, 2) && beta != 0f)
        {
            bias = BiasVector(node, Constant(node, 2, "bias C"), w.Shape[0], rank: 2).Scale(beta);
        }

        // The file's integers stay valid only if alpha does not rescale them.
        IntegerWeights? quantized = alpha == 1f ? WeightsOf(b, transposed: Int(node, "transB", 0) == 0) : null;
        Emit(node, new Dense(w, bias, quantized), a);
    }

    /// <summary>A x B with constant 2-D B is a Dense without bias; a following Add may give it one.</summary>
    private void MatMul(NodeProto node)
    {
        string a = Data(node, 0);
        OnnxConstant b = Constant(node, 1, "right operand");
        if (b.Dims.Length == 1)
        {
            MatMulVector(node, a, b);
            return;
        }

        if (b.Dims.Length != 2)
        {
            throw Problem(node, "onnx-matmul-weight", $"the constant right operand must be 1-D or 2-D, got {b.ShapeText}");
        }

        Emit(node, new Dense(b.ToFloatTensor().Transpose(), null, WeightsOf(b, transposed: true)), a);
    }

    /// <summary>
    /// x [..., K] times a 1-D constant [K] is [...] (NumPy drops the vector's dimension): a Dense with
    /// one output, then a Reshape that drops the last dimension (each 0 copies a leading one).
    /// </summary>
    private void MatMulVector(NodeProto node, string a, OnnxConstant b)
    {
        int rank = _types[a].Rank;
        if (rank < 2)
        {
            throw Problem(node, "onnx-matmul-rank", $"a 1-D operand times a 1-D constant is a scalar, which cimc does not compute; got {_types[a]}");
        }

        float[] w = b.AsFloats();
        Emit(node, new Dense(FloatTensor.Matrix(1, w.Length, w), null), a);
        string dense = _values[node.Output[0]];
        Emit(node, new Ir.Reshape([.. Enumerable.Repeat(0L, rank - 1)]), dense);
        _irUses[dense] = 1;
    }

    /// <summary>
    /// x + y of two computed values is an <see cref="Ir.Add"/>. x + c with a constant c is accepted
    /// only when x is the output of a Dense or Conv that nothing else reads, and c broadcasts as one
    /// value per output feature (channel); c then joins its bias.
    /// </summary>
    private void Add(NodeProto node)
    {
        if (node.Input.Count != 2 || !HasInput(node, 0) || !HasInput(node, 1))
        {
            throw Problem(node, "onnx-missing-input", "Add needs two inputs");
        }

        bool firstConstant = IsConstant(node.Input[0]);
        if (!firstConstant && !IsConstant(node.Input[1]))
        {
            AddTensors(node);
            return;
        }

        string data = Data(node, firstConstant ? 1 : 0);
        OnnxConstant c = Constant(node, firstConstant ? 0 : 1, "addend");
        if (!_producer.TryGetValue(data, out int at) || _nodes[at].Op is not (Dense or Conv2d) || _irUses[data] != 1)
        {
            throw Problem(node, "onnx-add", "adding a constant is supported only as the bias of a MatMul, Gemm or Conv whose output nothing else uses");
        }

        if (_nodes[at].Op is Conv2d conv)
        {
            FloatTensor channelBias = ChannelBias(node, c, conv.OutChannels);
            Refold(node, at, conv with { Bias = conv.Bias is null ? channelBias : Sum(conv.Bias, channelBias) }, data);
            return;
        }

        var dense = (Dense)_nodes[at].Op;
        FloatTensor add = BiasVector(node, c, dense.OutFeatures, _types[data].Rank);
        Refold(node, at, dense with { Bias = dense.Bias is null ? add : Sum(dense.Bias, add) }, data);
    }

    /// <summary>A constant added to an NCHW convolution output: [C,1,1], [1,C,1,1] or a single value.</summary>
    private FloatTensor ChannelBias(NodeProto node, OnnxConstant c, int channels)
    {
        float[] values = c.AsFloats();
        if (c.Length == 1 && c.Dims.Length <= 4)
        {
            return FloatTensor.Vector(Enumerable.Repeat(values[0], channels).ToArray());
        }

        bool perChannel = c.Length == channels && c.Dims.Length is 3 or 4 && c.Dims[^3] == channels;
        return perChannel ? FloatTensor.Vector(values)
            : throw Problem(node, "onnx-bias-shape", $"addend of shape {c.ShapeText} does not broadcast as one value per channel ({channels}) of an NCHW tensor");
    }

    /// <summary>
    /// A bias broadcast over the last axis: [out], [1, out] (any leading ones) or a single value.
    /// It may not have more dimensions than the value it is added to (that would change its rank).
    /// </summary>
    private FloatTensor BiasVector(NodeProto node, OnnxConstant c, int outFeatures, int rank)
    {
        bool perFeature = c.Length == outFeatures && c.Dims.Length >= 1 && c.Dims[^1] == outFeatures;
        if (c.Dims.Length > rank || !(perFeature || c.Length == 1))
        {
            throw Problem(node, "onnx-bias-shape", $"bias of shape {c.ShapeText} does not broadcast as one value per output feature ({outFeatures})");
        }

        float[] values = c.AsFloats();
        return FloatTensor.Vector(perFeature ? values : Enumerable.Repeat(values[0], outFeatures).ToArray());
    }

    private static FloatTensor Sum(FloatTensor a, FloatTensor b)
    {
        var s = new float[a.Length];
        for (int i = 0; i < s.Length; i++)
        {
            s[i] = a[i] + b[i];
        }

        return FloatTensor.Vector(s);
    }

    /// <summary>
    /// Clip of floats: bounds from the min and max attributes before opset 11, from constant scalar
    /// inputs after (either may be left out). Clip(0, 6) is PyTorch's ReLU6, Clip(-1, 1) hardtanh.
    /// </summary>
    private void FloatClip(NodeProto node)
    {
        string x = Data(node, 0);
        float lo, hi;
        if (_opset < 11)
        {
            lo = Float(node, "min", float.NegativeInfinity);
            hi = Float(node, "max", float.PositiveInfinity);
        }
        else
        {
            lo = HasInput(node, 1) ? ClipBound(node, 1, "min") : float.NegativeInfinity;
            hi = HasInput(node, 2) ? ClipBound(node, 2, "max") : float.PositiveInfinity;
        }

        if (float.IsNaN(lo) || float.IsNaN(hi) || lo > hi)
        {
            throw Problem(node, "onnx-clip-range", FormattableString.Invariant($"clips to [{lo}, {hi}], which is not a range"));
        }

        Emit(node, new Ir.Clip(lo, hi), x);
    }

    private float ClipBound(NodeProto node, int index, string role)
    {
        OnnxConstant b = Constant(node, index, role);
        return b.Length == 1 && b.Dims.Length <= 1
            ? b.AsFloats()[0]
            : throw Problem(node, "onnx-clip-range", $"the {role} must be a scalar, got {b.ShapeText}");
    }

    /// <summary>
    /// From opset 13 Softmax works along one axis (default -1). Before, it flattened the input to 2-D
    /// at the axis (default 1) and normalised each row; that equals a softmax along the last axis
    /// exactly when the axis is the last one (e.g. any 2-D input with axis 1), the only case cimc takes.
    /// LogSoftmax follows the same rules.
    /// </summary>
    private void Softmax(NodeProto node)
    {
        string x = Data(node, 0);
        int axis = Int32(node, "axis", _opset >= 13 ? -1 : 1);
        int rank = _types[x].Rank;
        if (_opset < 13 && (axis < 0 ? axis + rank : axis) != rank - 1)
        {
            throw Problem(node, "onnx-softmax-axis",
                $"before opset 13 {node.OpType} flattens its {rank}-D input from axis {axis}; cimc supports only the last axis (e.g. axis 1 on a 2-D input)");
        }

        Emit(node, node.OpType == "LogSoftmax" ? new Ir.LogSoftmax(axis) : new Ir.Softmax(axis), x);
    }

    private void Reshape(NodeProto node)
    {
        string x = Data(node, 0);
        OnnxConstant shape = Constant(node, 1, "shape");
        if (!shape.IsInteger || shape.Dims.Length != 1)
        {
            throw Problem(node, "onnx-reshape-shape", $"the shape must be a 1-D integer tensor, got {shape.ShapeText}");
        }

        long[] dims = shape.Ints!;

        // allowzero=1 (opset 14) makes a 0 a literal empty dimension rather than "copy the input's".
        if (_opset >= 14 && Int(node, "allowzero", 0) != 0 && dims.Contains(0))
        {
            throw Problem(node, "onnx-reshape-allowzero", "allowzero=1 with a 0 in the shape gives an empty tensor, which cimc does not compile");
        }

        // Bound the fixed dimensions so that shape inference cannot overflow on a hostile shape.
        Diagnostics.Limits.CheckedElementCount(dims.Where(d => d > 0), _where);
        Emit(node, new Ir.Reshape([.. dims]), x);
    }

    /// <summary>At inference Dropout passes its input through; a graph that reads its mask is refused.</summary>
    private void Dropout(NodeProto node)
    {
        string x = Data(node, 0);
        if (_opset >= 12 && HasInput(node, 2))
        {
            OnnxConstant? training = TryConstant(node.Input[2]);
            if (training is null || training.AsFloats().Any(v => v != 0f))
            {
                throw Problem(node, "onnx-dropout-training", "training_mode must be a constant false; cimc compiles inference graphs");
            }
        }

        Alias(node, x);
    }

    private OnnxConstant ConstantValue(NodeProto node)
    {
        AttributeProto? a = node.Attribute.FirstOrDefault();
        if (node.Attribute.Count != 1 || a is null)
        {
            throw Problem(node, "onnx-constant", "a Constant needs exactly one value attribute");
        }

        return a.Name switch
        {
            "value" => a.T is null ? throw Problem(node, "onnx-constant", "attribute 'value' holds no tensor") : OnnxTensors.Read(a.T, _where, _budget),
            "value_float" => OnnxConstant.OfFloats([], [a.F]),
            "value_floats" => OnnxConstant.OfFloats(Dims(a.Floats.Count), [.. a.Floats]),
            "value_int" => OnnxConstant.OfInts([], [a.I]),
            "value_ints" => OnnxConstant.OfInts(Dims(a.Ints.Count), [.. a.Ints]),
            _ => throw Problem(node, "onnx-constant", $"Constant attribute '{a.Name}' is not supported"),
        };
    }

    /// <summary>
    /// A Cast of a constant is folded (typically a float16 weight cast to float). A Cast of the
    /// computed value to float is kept as an Identity, as cimc computes in float32 anyway.
    /// </summary>
    private void Cast(NodeProto node)
    {
        var to = (DataType)Int(node, "to", 0);
        if (!HasInput(node, 0))
        {
            throw Problem(node, "onnx-missing-input", "Cast needs an input");
        }

        OnnxConstant? c = TryConstant(node.Input[0]);
        if (c is null)
        {
            if (to is not (DataType.Float or DataType.Double))
            {
                throw Problem(node, "onnx-cast", $"a Cast of the computed value to {OnnxTensors.Name((int)to)} is not supported");
            }

            Emit(node, new Identity(), Data(node, 0));
            return;
        }

        _constants[node.Output[0]] = to switch
        {
            DataType.Float or DataType.Double => OnnxConstant.OfFloats(c.Dims, c.AsFloats()),
            DataType.Float16 => OnnxConstant.OfFloats(c.Dims, Array.ConvertAll(c.AsFloats(), v => (float)(Half)v)),
            DataType.Int64 or DataType.Int32 => OnnxConstant.OfInts(c.Dims, c.Ints ?? Array.ConvertAll(c.Floats!, ToInteger), to),
            _ => throw Problem(node, "onnx-cast", $"a Cast of a constant to {OnnxTensors.Name((int)to)} is not supported"),
        };
    }

    /// <summary>Float to integer casts truncate toward zero; NaN and out-of-range values become 0 here instead of undefined.</summary>
    private static long ToInteger(float v) => float.IsFinite(v) && Math.Abs(v) < 9.2e18f ? (long)v : 0;
}
