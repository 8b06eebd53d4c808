using System.Buffers.Binary;
using System.Collections.Immutable;
using Cimc.Diagnostics;
using Cimc.Import.Onnx.Proto;
using Cimc.Ir;
using DataType = Cimc.Import.Onnx.Proto.TensorProto.Types.DataType;

namespace Cimc.Import.Onnx;

/// <summary>
/// A constant of the ONNX graph (an initializer, a Constant node, a folded Cast) before it becomes
/// part of an op: floating-point data is held as float32 (cimc's weight precision), integer data
/// (Reshape shapes, quantized weights) as int64 with the file's integer <see cref="Type"/>.
/// Exactly one of <see cref="Floats"/> and <see cref="Ints"/> is set. A float constant that a
/// DequantizeLinear computed from integers remembers them in <see cref="Dequantized"/>.
/// </summary>
internal sealed record OnnxConstant(ImmutableArray<long> Dims, float[]? Floats, long[]? Ints, DataType Type = DataType.Float, DequantizedOrigin? Dequantized = null)
{
    public bool IsInteger => Ints is not null;

    public int Length => Floats?.Length ?? Ints!.Length;

    public string ShapeText => $"[{string.Join(",", Dims)}]";

    public static OnnxConstant OfFloats(ImmutableArray<long> dims, float[] data) => new(dims, data, null);

    public static OnnxConstant OfInts(ImmutableArray<long> dims, long[] data, DataType type = DataType.Int64) => new(dims, null, data, type);

    /// <summary>The values as float32, converting integers if needed (an integer weight is unusual but valid).</summary>
    public float[] AsFloats() => Floats ?? Array.ConvertAll(Ints!, v => (float)v);

    public FloatTensor ToFloatTensor() => new([.. Dims.Select(d => (int)d)], AsFloats());
}

/// <summary>
/// Decodes a TensorProto into an <see cref="OnnxConstant"/>. Everything a file declares is checked
/// before memory is allocated for it: the element count against <see cref="Limits"/>, and the
/// count of stored values (raw bytes or a typed field) against the declared shape, so a hostile
/// file can make cimc allocate at most about as much as the file already holds.
/// </summary>
internal static class OnnxTensors
{
    /// <summary>Decodes one tensor, charging its values to the file's <paramref name="budget"/> (integers widen to 8 bytes each).</summary>
    public static OnnxConstant Read(TensorProto tensor, string location, ReadBudget budget)
    {
        if (tensor.DataLocation == TensorProto.Types.DataLocation.External || tensor.ExternalData.Count > 0)
        {
            throw new CimcException("onnx-external-data", location,
                "the tensor's data is stored in an external file, which cimc does not read; save the model with its weights inside the .onnx file");
        }

        ImmutableArray<long> dims = [.. tensor.Dims];
        long count = Limits.CheckedElementCount(dims, location);
        var type = (DataType)tensor.DataType;
        int size = type switch
        {
            DataType.Float or DataType.Int32 => 4,
            DataType.Double or DataType.Int64 => 8,
            DataType.Float16 or DataType.Int16 or DataType.Uint16 => 2,
            DataType.Int8 or DataType.Uint8 or DataType.Bool => 1,
            _ => throw new CimcException("onnx-data-type", location,
                $"element type {Name(tensor.DataType)} is not supported; cimc reads float, double, float16, int64, int32, int16, uint16, int8, uint8 and bool tensors"),
        };

        if (!tensor.RawData.IsEmpty)
        {
            if (tensor.RawData.Length != count * size)
            {
                throw new CimcException("onnx-tensor-size", location,
                    $"raw_data holds {tensor.RawData.Length} bytes but shape [{string.Join(",", dims)}] of {Name(tensor.DataType)} needs {count * size}");
            }

            budget.ChargeElements(count, location);
            return Finite(FromRaw(dims, type, tensor.RawData.Span, (int)count), location);
        }

        budget.ChargeElements(count, location);
        return Finite(FromTyped(tensor, dims, type, count, location), location);
    }

    private static OnnxConstant Finite(OnnxConstant c, string location)
    {
        if (c.Floats is { } f)
        {
            NonFinite.Refuse(c.Dims, f, "onnx-non-finite", location);
        }

        return c;
    }

    /// <summary>Raw data is little-endian whatever the machine, per the ONNX spec.</summary>
    private static OnnxConstant FromRaw(ImmutableArray<long> dims, DataType type, ReadOnlySpan<byte> raw, int count)
    {
        switch (type)
        {
            case DataType.Int64:
                {
                    var ints = new long[count];
                    for (int i = 0; i < count; i++)
                    {
                        ints[i] = BinaryPrimitives.ReadInt64LittleEndian(raw[(i * 8)..]);
                    }

                    return OnnxConstant.OfInts(dims, ints);
                }

            case DataType.Int32 or DataType.Int16 or DataType.Uint16 or DataType.Int8 or DataType.Uint8 or DataType.Bool:
                {
                    var ints = new long[count];
                    for (int i = 0; i < count; i++)
                    {
                        ints[i] = type switch
                        {
                            DataType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(raw[(i * 4)..]),
                            DataType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(raw[(i * 2)..]),
                            DataType.Uint16 => BinaryPrimitives.ReadUInt16LittleEndian(raw[(i * 2)..]),
                            DataType.Int8 => (sbyte)raw[i],
                            DataType.Bool => raw[i] != 0 ? 1 : 0,
                            _ => raw[i],
                        };
                    }

                    return OnnxConstant.OfInts(dims, ints, type);
                }

            default:
                {
                    var floats = new float[count];
                    for (int i = 0; i < count; i++)
                    {
                        floats[i] = type switch
                        {
                            DataType.Float => BinaryPrimitives.ReadSingleLittleEndian(raw[(i * 4)..]),
                            DataType.Double => (float)BinaryPrimitives.ReadDoubleLittleEndian(raw[(i * 8)..]),
                            _ => (float)BinaryPrimitives.ReadHalfLittleEndian(raw[(i * 2)..]),
                        };
                    }

                    return OnnxConstant.OfFloats(dims, floats);
                }
        }
    }

    /// <summary>
    /// Typed fields: float in float_data, double in double_data, int64 in int64_data, and int32,
    /// the narrower integers and float16 in int32_data (float16 as its 16 bits in the low half of
    /// each value; a narrow integer is cast to its type, as ONNX Runtime reads it).
    /// </summary>
    private static OnnxConstant FromTyped(TensorProto tensor, ImmutableArray<long> dims, DataType type, long count, string location)
    {
        int stored = type switch
        {
            DataType.Float => tensor.FloatData.Count,
            DataType.Double => tensor.DoubleData.Count,
            DataType.Int64 => tensor.Int64Data.Count,
            _ => tensor.Int32Data.Count,
        };

        if (stored != count)
        {
            throw new CimcException("onnx-tensor-size", location,
                $"holds {stored} values but shape [{string.Join(",", dims)}] needs {count}");
        }

        return type switch
        {
            DataType.Float => OnnxConstant.OfFloats(dims, [.. tensor.FloatData]),
            DataType.Double => OnnxConstant.OfFloats(dims, [.. tensor.DoubleData.Select(d => (float)d)]),
            DataType.Float16 => OnnxConstant.OfFloats(dims, [.. tensor.Int32Data.Select(bits => (float)BitConverter.UInt16BitsToHalf((ushort)bits))]),
            DataType.Int64 => OnnxConstant.OfInts(dims, [.. tensor.Int64Data]),
            DataType.Int16 => OnnxConstant.OfInts(dims, [.. tensor.Int32Data.Select(v => (long)(short)v)], type),
            DataType.Uint16 => OnnxConstant.OfInts(dims, [.. tensor.Int32Data.Select(v => (long)(ushort)v)], type),
            DataType.Int8 => OnnxConstant.OfInts(dims, [.. tensor.Int32Data.Select(v => (long)(sbyte)v)], type),
            DataType.Uint8 => OnnxConstant.OfInts(dims, [.. tensor.Int32Data.Select(v => (long)(byte)v)], type),
            DataType.Bool => OnnxConstant.OfInts(dims, [.. tensor.Int32Data.Select(v => v != 0 ? 1L : 0L)], type),
            _ => OnnxConstant.OfInts(dims, [.. tensor.Int32Data.Select(v => (long)v)], type),
        };
    }

    /// <summary>ONNX's name for a TensorProto.DataType code (as onnx.proto spells it), for messages.</summary>
    public static string Name(int dataType) =>
        Enum.IsDefined((DataType)dataType) ? ((DataType)dataType).ToString().ToUpperInvariant() : $"type {dataType} (unknown)";
}
