using System.Buffers.Binary;

namespace Cimc.Import.Torch;

/// <summary>Element types of torch storages, and how to read one element as float.</summary>
internal enum TorchDType
{
    Float32,
    Float64,
    Float16,
    BFloat16,
    Int64,
    Int32,
    Int16,
    Int8,
    UInt8,
    Bool,
}

internal static class TorchDTypes
{
    public static readonly string[] StorageTypeNames =
    [
        "FloatStorage", "DoubleStorage", "HalfStorage", "BFloat16Storage", "LongStorage",
        "IntStorage", "ShortStorage", "CharStorage", "ByteStorage", "BoolStorage",
    ];

    public static readonly string[] DTypeNames =
    [
        "float32", "float", "float64", "double", "float16", "half", "bfloat16",
        "int64", "long", "int32", "int", "int16", "short", "int8", "uint8", "bool",
    ];

    public static TorchDType? FromStorageType(string name) => name switch
    {
        "FloatStorage" => TorchDType.Float32,
        "DoubleStorage" => TorchDType.Float64,
        "HalfStorage" => TorchDType.Float16,
        "BFloat16Storage" => TorchDType.BFloat16,
        "LongStorage" => TorchDType.Int64,
        "IntStorage" => TorchDType.Int32,
        "ShortStorage" => TorchDType.Int16,
        "CharStorage" => TorchDType.Int8,
        "ByteStorage" => TorchDType.UInt8,
        "BoolStorage" => TorchDType.Bool,
        _ => null,
    };

    public static int ItemSize(this TorchDType t) => t switch
    {
        TorchDType.Float64 or TorchDType.Int64 => 8,
        TorchDType.Float32 or TorchDType.Int32 => 4,
        TorchDType.Float16 or TorchDType.BFloat16 or TorchDType.Int16 => 2,
        _ => 1,
    };

    public static float Read(this TorchDType t, ReadOnlySpan<byte> b) => t switch
    {
        TorchDType.Float32 => BinaryPrimitives.ReadSingleLittleEndian(b),
        TorchDType.Float64 => (float)BinaryPrimitives.ReadDoubleLittleEndian(b),
        TorchDType.Float16 => (float)BinaryPrimitives.ReadHalfLittleEndian(b),

        // bfloat16 is the top half of a float32.
        TorchDType.BFloat16 => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(b) << 16),
        TorchDType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(b),
        TorchDType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(b),
        TorchDType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(b),
        TorchDType.Int8 => (sbyte)b[0],
        _ => b[0],
    };
}
