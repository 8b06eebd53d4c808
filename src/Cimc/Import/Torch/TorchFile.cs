using Cimc.Diagnostics;
using Cimc.Ir;

namespace Cimc.Import.Torch;

/// <summary>
/// A loaded torch.save / torch.jit.save file: the unpickled root object and access to tensor data.
/// Storages are read on first use and cached, since several tensors may view one storage; both
/// are charged to the file's <see cref="ReadBudget"/> before memory is allocated for them.
/// </summary>
internal abstract class TorchFile : IDisposable
{
    private readonly Dictionary<string, byte[]> _storages = new(StringComparer.Ordinal);

    protected TorchFile(string path) => Path = path;

    public string Path { get; }

    public object? Root { get; protected set; }

    protected ReadBudget Budget { get; } = new();

    /// <summary>The float32 values of a tensor, gathered from its storage view; NaN and infinities are refused.</summary>
    public FloatTensor ReadTensor(TorchTensor tensor, string name)
    {
        string location = $"{Path}: '{name}'";
        Budget.ChargeElements(Limits.CheckedElementCount(tensor.Size, location), location);
        if (!_storages.TryGetValue(tensor.Storage.Key, out byte[]? bytes))
        {
            long needed = tensor.Storage.Numel * tensor.Storage.DType.ItemSize();
            bytes = ReadStorage(tensor.Storage, needed, location);
            _storages[tensor.Storage.Key] = bytes;
        }

        FloatTensor values = TensorRebuild.ToFloat(tensor, bytes, location);
        NonFinite.Refuse(tensor.Size, values.Span, "non-finite-weight", location);
        return values;
    }

    /// <summary>Reads exactly <paramref name="bytes"/> bytes of a storage, refusing files that hold fewer.</summary>
    protected abstract byte[] ReadStorage(StorageRef storage, long bytes, string location);

    public virtual void Dispose()
    {
    }

    protected static void CheckStorageSize(long declared, long needed, StorageRef storage, string location)
    {
        if (declared < needed)
        {
            throw new CimcException("bad-tensor", location,
                $"storage '{storage.Key}' holds {declared} bytes but declares {storage.Numel} {storage.DType} elements");
        }
    }
}
