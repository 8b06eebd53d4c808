using System.Collections.Immutable;
using Cimc.Import.Onnx.Proto;
using Cimc.Ir;
using DataType = Cimc.Import.Onnx.Proto.TensorProto.Types.DataType;

namespace Cimc.Import.Onnx;

/// <summary>
/// The integers a DequantizeLinear turned into a float constant, kept so that a Dense can carry the
/// file's quantized weights. <see cref="Axis"/> is the per-axis dimension (normalized), or -1 when
/// one scale covers the tensor.
/// </summary>
internal sealed record DequantizedOrigin(long[] Values, float[] Scales, long[] ZeroPoints, int Axis, long QMin, long QMax);

/// <summary>A QuantizeLinear of a computed value, not yet dequantized: integers exist only in the file's view.</summary>
internal sealed record PendingQuantized(string Source, float Scale, long ZeroPoint, DataType Type, long QMin, long QMax);

/// <summary>
/// QDQ models (QuantizeLinear / DequantizeLinear, opsets 10 to 21), lowered so that the float graph
/// computes exactly what ONNX Runtime computes:
/// - integer constant -> DequantizeLinear is folded: (q - z) * s in float32, per tensor or per axis
///   (weights int8/uint8, biases int32); the integers are remembered for the Dense that uses them;
/// - float constant -> QuantizeLinear is folded to integers (PyTorch exports QAT weights this way);
/// - computed x -> QuantizeLinear [-> Clip of the integers] -> DequantizeLinear becomes one
///   <see cref="FakeQuant"/> (per tensor only). The integers in between are never materialized, so
///   anything else reading them (QLinearMatMul, an integer graph output) is refused.
/// Before: x -> QuantizeLinear(s, z) -> DequantizeLinear(s, z) -> Gemm(DequantizeLinear(Wq)).
/// After:  fake_quant[scale=s, zero_point=z](x) -> dense(W = (Wq - zw) * sw, integers kept).
/// </summary>
internal sealed partial class OnnxLowering
{
    /// <summary>Ops that compute on integers; cimc reads the QDQ form of quantized models instead.</summary>
    private static readonly HashSet<string> IntegerOps = new(StringComparer.Ordinal)
    {
        "QLinearMatMul", "MatMulInteger", "QGemm", "QLinearConv", "ConvInteger", "DynamicQuantizeLinear",
        "QLinearAdd", "QLinearMul", "QLinearSigmoid", "QLinearLeakyRelu", "QLinearSoftmax", "MatMulIntegerToFloat",
        "DynamicQuantizeMatMul", "QAttention",
    };

    private readonly Dictionary<string, PendingQuantized> _quantized = new(StringComparer.Ordinal);

    private static bool IsIntegerOp(NodeProto node) => IntegerOps.Contains(node.OpType);

    private void QuantizeLinear(NodeProto node)
    {
        if (!HasInput(node, 0))
        {
            throw Problem(node, "onnx-missing-input", "QuantizeLinear needs an input");
        }

        QuantParams p = Params(node, quantize: true);
        OnnxConstant? c = TryConstant(node.Input[0]);
        if (c is not null)
        {
            // A float weight quantized in the file (PyTorch QAT export): fold to its integers.
            float[] x = c.AsFloats();
            p.CheckAxis(this, node, c.Dims);
            var q = new long[x.Length];
            for (int i = 0; i < q.Length; i++)
            {
                int k = p.Channel(c.Dims, i);
                q[i] = Quantize(x[i], p.Scales[k], p.ZeroPoints[k], p.QMin, p.QMax);
            }

            _constants[node.Output[0]] = OnnxConstant.OfInts(c.Dims, q, p.Type);
            return;
        }

        string source = Data(node, 0);
        if (p.Scales.Length != 1)
        {
            throw Problem(node, "onnx-quantize-per-axis",
                $"per-axis quantization of a computed value ({p.Scales.Length} scales) is not supported; cimc quantizes activations per tensor");
        }

        _quantized[node.Output[0]] = new PendingQuantized(source, p.Scales[0], p.ZeroPoints[0], p.Type, p.QMin, p.QMax);

        // The integers are used only through the DequantizeLinear nodes that read them.
        _irUses[source] += _onnxUses.GetValueOrDefault(node.Output[0]) - 1;
    }

    private void DequantizeLinear(NodeProto node)
    {
        if (!HasInput(node, 0))
        {
            throw Problem(node, "onnx-missing-input", "DequantizeLinear needs an input");
        }

        QuantParams p = Params(node, quantize: false);
        if (_quantized.TryGetValue(node.Input[0], out PendingQuantized? q))
        {
            if (p.Scales.Length != 1 || BitConverter.SingleToInt32Bits(p.Scales[0]) != BitConverter.SingleToInt32Bits(q.Scale) || p.ZeroPoints[0] != q.ZeroPoint || p.Type != q.Type)
            {
                throw Problem(node, "onnx-dequantize-mismatch",
                    $"dequantizes '{node.Input[0]}' with a scale or zero point other than the QuantizeLinear that produced it (scale {q.Scale:R}, zero point {q.ZeroPoint}); cimc supports matching pairs");
            }

            Emit(node, new FakeQuant(q.Scale, q.ZeroPoint, q.QMin, q.QMax), q.Source);
            return;
        }

        OnnxConstant c = TryConstant(node.Input[0])
            ?? throw Problem(node, "onnx-dequantize-input",
                $"input '{node.Input[0]}' is neither an integer constant nor the output of a QuantizeLinear; cimc reads DequantizeLinear of weights, biases and quantize-dequantize pairs");
        if (!c.IsInteger)
        {
            throw Problem(node, "onnx-dequantize-input", $"input '{node.Input[0]}' is {OnnxTensors.Name((int)c.Type)}; DequantizeLinear takes integers");
        }

        if (p.Type == DataType.Int32 && p.ZeroPoints.Any(z => z != 0))
        {
            throw Problem(node, "onnx-zero-point", "an int32 DequantizeLinear must have zero point 0 (ONNX)");
        }

        p.CheckAxis(this, node, c.Dims);
        long[] ints = c.Ints!;
        var w = new float[ints.Length];
        for (int i = 0; i < w.Length; i++)
        {
            // As ONNX Runtime: the difference as a 32-bit integer, converted to float, times the scale.
            int k = p.Channel(c.Dims, i);
            w[i] = (float)(int)(ints[i] - p.ZeroPoints[k]) * p.Scales[k];
        }

        int axis = p.Scales.Length == 1 ? -1 : p.Axis(c.Dims.Length);
        _constants[node.Output[0]] = OnnxConstant.OfFloats(c.Dims, w) with
        {
            Dequantized = new DequantizedOrigin(ints, p.Scales, p.ZeroPoints, axis, p.QMin, p.QMax),
        };
    }

    /// <summary>A Clip of quantized integers (PyTorch exports a narrowed range, e.g. [0, 127], this way) narrows the range; a Clip of floats is <see cref="FloatClip"/>.</summary>
    private void Clip(NodeProto node)
    {
        if (!HasInput(node, 0) || !_quantized.TryGetValue(node.Input[0], out PendingQuantized? q))
        {
            FloatClip(node);
            return;
        }

        long lo = q.QMin, hi = q.QMax;
        if (_opset < 11)
        {
            lo = Math.Max(lo, (long)Math.Ceiling(Float(node, "min", float.NegativeInfinity)));
            hi = Math.Min(hi, (long)Math.Floor(Float(node, "max", float.PositiveInfinity)));
        }
        else
        {
            lo = HasInput(node, 1) ? Math.Max(lo, Bound(node, 1, "min")) : lo;
            hi = HasInput(node, 2) ? Math.Min(hi, Bound(node, 2, "max")) : hi;
        }

        if (lo > hi)
        {
            throw Problem(node, "onnx-clip-range", $"clips the integers to an empty range [{lo}, {hi}]");
        }

        _quantized[node.Output[0]] = q with { QMin = lo, QMax = hi };
        _irUses[q.Source] += _onnxUses.GetValueOrDefault(node.Output[0]) - 1;
    }

    private long Bound(NodeProto node, int index, string role)
    {
        OnnxConstant b = Constant(node, index, role);
        if (!b.IsInteger || b.Length != 1)
        {
            throw Problem(node, "onnx-clip-range", $"the {role} of a Clip of quantized integers must be one integer, got {b.ShapeText} {OnnxTensors.Name((int)b.Type)}");
        }

        return b.Ints![0];
    }

    /// <summary>Identity of a constant or of quantized integers passes them on; of a computed value it is kept.</summary>
    private void IdentityOp(NodeProto node)
    {
        if (HasInput(node, 0) && TryConstant(node.Input[0]) is { } c)
        {
            _constants[node.Output[0]] = c;
        }
        else if (HasInput(node, 0) && _quantized.TryGetValue(node.Input[0], out PendingQuantized? q))
        {
            _quantized[node.Output[0]] = q;
            _irUses[q.Source] += _onnxUses.GetValueOrDefault(node.Output[0]) - 1;
        }
        else
        {
            Emit(node, new Identity(), Data(node, 0));
        }
    }

    /// <summary>ONNX's QuantizeLinear on one value: saturate(round_half_even(x / s) + z), as <see cref="FakeQuant"/> computes it.</summary>
    private static long Quantize(float x, float scale, long zeroPoint, long qmin, long qmax)
    {
        float v = x / scale;
        float lo = qmin - zeroPoint, hi = qmax - zeroPoint;
        v = !(v >= lo) ? lo : v > hi ? hi : v;
        return (long)MathF.Round(v, MidpointRounding.ToEven) + zeroPoint;
    }

    /// <summary>
    /// Scale and zero point of a QuantizeLinear or DequantizeLinear (inputs 1 and 2), the integer type
    /// and its range. The zero point's type is the integer type; without one it is uint8 for
    /// QuantizeLinear (or output_dtype, opset 21), and the input's type for DequantizeLinear.
    /// </summary>
    private QuantParams Params(NodeProto node, bool quantize)
    {
        if (_opset >= 21 && Int(node, "block_size", 0) != 0)
        {
            throw Problem(node, "onnx-quantize-blocked", "blocked quantization (block_size) is not supported");
        }

        // Opsets 23 to 25: DequantizeLinear may produce another float type, QuantizeLinear divide in one.
        if (!quantize && Int(node, "output_dtype", 0) is not (0 or (long)DataType.Float))
        {
            throw Problem(node, "onnx-quantize-type", $"output_dtype {OnnxTensors.Name((int)Int(node, "output_dtype", 0))} is not supported; cimc dequantizes to FLOAT");
        }

        if (quantize && Int(node, "precision", 0) is not (0 or (long)DataType.Float))
        {
            throw Problem(node, "onnx-quantize-type", $"precision {OnnxTensors.Name((int)Int(node, "precision", 0))} is not supported; cimc divides in FLOAT");
        }

        OnnxConstant scale = Constant(node, 1, "scale");
        if (scale.IsInteger || scale.Dims.Length > 1)
        {
            throw Problem(node, "onnx-quantize-scale", $"the scale must be a float scalar or 1-D tensor, got {scale.ShapeText} {OnnxTensors.Name((int)scale.Type)}");
        }

        float[] scales = scale.AsFloats();
        if (scales.Length == 0 || scales.Any(s => !(s > 0) || !float.IsFinite(s)))
        {
            throw Problem(node, "onnx-quantize-scale", "every scale must be positive and finite");
        }

        if (scales.Length > 1 && _opset < 13)
        {
            throw Problem(node, "onnx-quantize-scale", "per-axis scales need opset 13 or later");
        }

        DataType type;
        long[] zeroPoints;
        if (HasInput(node, 2))
        {
            OnnxConstant zp = Constant(node, 2, "zero point");
            if (!zp.IsInteger || zp.Length != scales.Length)
            {
                throw Problem(node, "onnx-zero-point", $"the zero point must be integers shaped like the scale {scale.ShapeText}, got {zp.ShapeText} {OnnxTensors.Name((int)zp.Type)}");
            }

            type = zp.Type;
            zeroPoints = zp.Ints!;
        }
        else
        {
            type = quantize
                ? (_opset >= 21 && Int(node, "output_dtype", 0) != 0 ? (DataType)Int(node, "output_dtype", 0) : DataType.Uint8)
                : TryConstant(node.Input[0])?.Type ?? DataType.Uint8;
            zeroPoints = new long[scales.Length];
        }

        (long qmin, long qmax) = type switch
        {
            DataType.Uint8 => (0L, 255L),
            DataType.Int8 => (-128L, 127L),
            DataType.Uint16 => (0L, 65535L),
            DataType.Int16 => (-32768L, 32767L),
            DataType.Int32 when !quantize => ((long)int.MinValue, (long)int.MaxValue),
            _ => throw Problem(node, "onnx-quantize-type",
                $"quantization to {OnnxTensors.Name((int)type)} is not supported; cimc reads uint8, int8, uint16 and int16 (and int32 biases)"),
        };
        if (!quantize && TryConstant(node.Input[0]) is { IsInteger: true } x && x.Type != type)
        {
            throw Problem(node, "onnx-zero-point", $"the zero point is {OnnxTensors.Name((int)type)} but the input is {OnnxTensors.Name((int)x.Type)}");
        }

        long axis = _opset >= 13 ? Int(node, "axis", 1) : 1;
        return new QuantParams(scales, zeroPoints, type, qmin, qmax, axis);
    }

    /// <summary>Scales and zero points, one (per tensor) or one per index of <see cref="RawAxis"/>.</summary>
    private sealed record QuantParams(float[] Scales, long[] ZeroPoints, DataType Type, long QMin, long QMax, long RawAxis)
    {
        /// <summary>The normalized axis, or -1 (never valid) for a value no tensor has.</summary>
        public int Axis(int rank) => RawAxis is < -1024 or > 1024 ? -1 : (int)(RawAxis < 0 ? RawAxis + rank : RawAxis);

        public void CheckAxis(OnnxLowering lowering, NodeProto node, ImmutableArray<long> dims)
        {
            if (Scales.Length == 1)
            {
                return;
            }

            int axis = Axis(dims.Length);
            if (axis < 0 || axis >= dims.Length || dims[axis] != Scales.Length)
            {
                throw lowering.Problem(node, "onnx-quantize-axis",
                    $"{Scales.Length} scales do not match axis {RawAxis} of the input [{string.Join(",", dims)}]");
            }
        }

        /// <summary>Which scale applies to flat index <paramref name="i"/> of a row-major tensor.</summary>
        public int Channel(ImmutableArray<long> dims, int i)
        {
            if (Scales.Length == 1)
            {
                return 0;
            }

            long inner = 1;
            for (int d = Axis(dims.Length) + 1; d < dims.Length; d++)
            {
                inner *= dims[d];
            }

            return (int)(i / inner % Scales.Length);
        }
    }

    /// <summary>
    /// The file's integer weights for a Dense whose [out, in] weight came from <paramref name="b"/>,
    /// stored [out, in] when <paramref name="transposed"/> is false and [in, out] when true. Null when
    /// the weight was not dequantized from integers, or its scales are not per tensor or per output.
    /// </summary>
    private static IntegerWeights? WeightsOf(OnnxConstant b, bool transposed)
    {
        if (b.Dequantized is not { } d || b.Dims.Length != 2 || d.QMin < int.MinValue || d.QMax > int.MaxValue)
        {
            return null;
        }

        int outAxis = transposed ? 1 : 0;
        if (d.Axis != -1 && d.Axis != outAxis)
        {
            return null;
        }

        int rows = (int)b.Dims[0], cols = (int)b.Dims[1];
        int outF = transposed ? cols : rows, inF = transposed ? rows : cols;
        var values = new int[d.Values.Length];
        for (int o = 0; o < outF; o++)
        {
            for (int i = 0; i < inF; i++)
            {
                values[(o * inF) + i] = (int)d.Values[transposed ? (i * cols) + o : (o * cols) + i];
            }
        }

        return new IntegerWeights([.. values], [.. d.Scales], [.. d.ZeroPoints], d.QMin, d.QMax);
    }

    /// <summary>
    /// The file's integer weights for a Conv whose [out, in / group, kh, kw] weight came from
    /// <paramref name="w"/>: already one row per output channel. Null when the weight was not
    /// dequantized from integers, or its scales are neither per tensor nor per output channel (axis 0).
    /// </summary>
    private static IntegerWeights? ConvWeightsOf(OnnxConstant w) =>
        w.Dequantized is { Axis: -1 or 0 } d && d.QMin >= int.MinValue && d.QMax <= int.MaxValue
            ? new IntegerWeights([.. d.Values.Select(v => (int)v)], [.. d.Scales], [.. d.ZeroPoints], d.QMin, d.QMax)
            : null;
}
