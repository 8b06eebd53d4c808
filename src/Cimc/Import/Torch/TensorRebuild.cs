using System.Collections.Immutable;
using Cimc.Diagnostics;
using Cimc.Import.Torch.Pickle;
using Cimc.Ir;

namespace Cimc.Import.Torch;

/// <summary>A storage named by a persistent id: its archive key, element type and element count.</summary>
internal sealed record StorageRef(string Key, TorchDType DType, long Numel);

/// <summary>A tensor view of a storage as torch._utils._rebuild_tensor_v2 describes it; no data yet.</summary>
internal sealed record TorchTensor(StorageRef Storage, long Offset, ImmutableArray<long> Size, ImmutableArray<long> Stride)
{
    public int Rank => Size.Length;

    public string ShapeText => $"[{string.Join(", ", Size)}]";
}

/// <summary>
/// Turns pickle data into tensors: validates the persistent id and the view (element count, strides,
/// offset + extent inside the storage) before any data is read, then gathers the view into a dense
/// row-major float32 array.
/// </summary>
internal static class TensorRebuild
{
    /// <summary>Reads ('storage', storage_type, key, location, numel[, view_metadata]).</summary>
    public static StorageRef StorageFromPersistentId(object? pid, string location)
    {
        if (pid is not PyTuple { Count: >= 5 } t || t[0] is not "storage")
        {
            throw new CimcException("bad-pickle", location, $"unsupported persistent id {PickleText.TypeName(pid)}");
        }

        if (t[1] is not PyGlobal { Kind: GlobalKind.StorageType } type || TorchDTypes.FromStorageType(type.Name) is not { } dtype)
        {
            throw new CimcException("bad-pickle", location, $"unsupported storage type {PickleText.Short(t[1])}");
        }

        string key = t[2] switch
        {
            string s => s,
            long l => l.ToString(System.Globalization.CultureInfo.InvariantCulture),
            _ => throw new CimcException("bad-pickle", location, "storage key is not a string"),
        };
        if (t[4] is not long numel)
        {
            throw new CimcException("bad-pickle", location, $"storage '{key}' has no element count");
        }

        Limits.CheckedElementCount([numel], $"{location}: storage '{key}'");
        return new StorageRef(key, dtype, numel);
    }

    /// <summary>_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]).</summary>
    public static TorchTensor FromPickleArgs(PyTuple args, string location)
    {
        if (args.Count < 4 || args[0] is not StorageRef storage || args[1] is not long offset
            || args[2] is not PyTuple size || args[3] is not PyTuple stride)
        {
            throw new CimcException("bad-pickle", location, "_rebuild_tensor_v2 arguments are not (storage, offset, size, stride, ...)");
        }

        return Validate(storage, offset, Longs(size, location), Longs(stride, location), location);
    }

    public static TorchTensor Validate(StorageRef storage, long offset, ImmutableArray<long> size, ImmutableArray<long> stride, string location)
    {
        string where = $"{location}: tensor of storage '{storage.Key}'";
        if (size.Length != stride.Length)
        {
            throw new CimcException("bad-tensor", where, $"size has {size.Length} dimensions but stride has {stride.Length}");
        }

        long count = Limits.CheckedElementCount(size, where);
        if (offset < 0 || stride.Any(s => s < 0))
        {
            throw new CimcException("bad-tensor", where, "negative offset or stride");
        }

        if (count > 0)
        {
            // The last element's index; each term is below 2^29 * 2^63 only in theory, so use Int128.
            Int128 last = offset;
            for (int i = 0; i < size.Length; i++)
            {
                last += (Int128)(size[i] - 1) * stride[i];
            }

            if (last >= storage.Numel)
            {
                throw new CimcException("bad-tensor", where,
                    $"view of shape [{string.Join(", ", size)}] at offset {offset} reaches element {last} of a storage of {storage.Numel}");
            }
        }

        return new TorchTensor(storage, offset, size, stride);
    }

    /// <summary>Gathers the view into float32. <paramref name="bytes"/> holds the whole storage.</summary>
    public static FloatTensor ToFloat(TorchTensor t, ReadOnlySpan<byte> bytes, string location)
    {
        int item = t.Storage.DType.ItemSize();
        if ((long)bytes.Length < t.Storage.Numel * item)
        {
            throw new CimcException("bad-tensor", location,
                $"storage '{t.Storage.Key}' holds {bytes.Length} bytes but declares {t.Storage.Numel} elements of {item} bytes");
        }

        if (t.Size.Any(d => d > int.MaxValue))
        {
            throw new CimcException("tensor-too-large", location, $"a dimension of {t.ShapeText} exceeds 2^31");
        }

        long count = Limits.CheckedElementCount(t.Size, location);
        var data = new float[count];
        var index = new long[t.Rank];
        long source = t.Offset;
        for (long n = 0; n < count; n++)
        {
            data[n] = t.Storage.DType.Read(bytes.Slice((int)(source * item), item));

            // Odometer over the dimensions, last fastest, moving the source by the strides.
            for (int d = t.Rank - 1; d >= 0; d--)
            {
                if (++index[d] < t.Size[d])
                {
                    source += t.Stride[d];
                    break;
                }

                source -= (t.Size[d] - 1) * t.Stride[d];
                index[d] = 0;
            }
        }

        return new FloatTensor([.. t.Size.Select(d => (int)d)], data);
    }

    private static ImmutableArray<long> Longs(PyTuple t, string location)
    {
        var b = ImmutableArray.CreateBuilder<long>(t.Count);
        foreach (object? o in t.Items)
        {
            b.Add(o as long? ?? throw new CimcException("bad-pickle", location, "tensor size or stride is not a tuple of integers"));
        }

        return b.MoveToImmutable();
    }
}
