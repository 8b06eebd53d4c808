namespace Cimc.Import;

/// <summary>The kinds of file cimc can tell apart from their first bytes.</summary>
public enum ModelFormat
{
    Unknown,
    Onnx,
    TorchZip,
    TorchPickle,
    Npy,
    Gzip,
}

/// <summary>
/// Recognises a model file from its first bytes, whatever its name: a zip archive (torch.save,
/// torch.jit.save), a pickle (legacy torch.save), or an ONNX protobuf, whose first byte is the
/// tag of one of ModelProto's fields. Data files given where a model belongs are named as such.
/// </summary>
public static class ModelFormats
{
    /// <summary>ModelProto's fields as (field number, wire type): ir_version, producer_name and version, domain, model_version, doc_string, graph, opset_import, metadata_props, training_info, functions, configuration.</summary>
    private static readonly (int Field, int Wire)[] OnnxFields =
        [(1, 0), (2, 2), (3, 2), (4, 2), (5, 0), (6, 2), (7, 2), (8, 2), (14, 2), (20, 2), (25, 2), (26, 2)];

    public static ModelFormat Detect(ReadOnlySpan<byte> head)
    {
        if (head.Length >= 4 && head[0] == (byte)'P' && head[1] == (byte)'K' && head[2] is 3 or 5 && head[3] == head[2] + 1)
        {
            return ModelFormat.TorchZip;
        }

        if (head.Length >= 2 && head[0] == 0x80 && head[1] is >= 2 and <= 5)
        {
            return ModelFormat.TorchPickle;
        }

        if (head.Length >= 6 && head[0] == 0x93 && head[1..6].SequenceEqual("NUMPY"u8))
        {
            return ModelFormat.Npy;
        }

        if (head.Length >= 2 && head[0] == 0x1f && head[1] == 0x8b)
        {
            return ModelFormat.Gzip;
        }

        return head.Length > 0 && IsOnnxTag(head) ? ModelFormat.Onnx : ModelFormat.Unknown;
    }

    /// <summary>Reads the tag varint (one or two bytes for ModelProto's field numbers).</summary>
    private static bool IsOnnxTag(ReadOnlySpan<byte> head)
    {
        int tag = head[0] & 0x7F;
        if ((head[0] & 0x80) != 0)
        {
            if (head.Length < 2 || (head[1] & 0x80) != 0)
            {
                return false;
            }

            tag |= head[1] << 7;
        }

        int field = tag >> 3, wire = tag & 7;
        return OnnxFields.Contains((field, wire));
    }

    public static ModelFormat Detect(string path)
    {
        Span<byte> head = stackalloc byte[8];
        using FileStream stream = File.OpenRead(path);
        int read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        return Detect(head[..read]);
    }
}
