using System.Collections.Immutable;
using Cimc.Diagnostics;
using Cimc.Ir;

namespace Cimc.Import.Torch;

/// <summary>
/// A loaded torch.save / torch.jit.save file: the unpickled root object and access to tensor data.
/// Storages are read on first use and cached, since several tensors may view one storage; both
/// are charged to the file's <see cref="ReadBudget"/> before memory is allocated for them. A
/// float32 tensor that is a contiguous view (what torch.save writes for a state_dict) is read
/// straight from the file into its float array when the file can do that, without a byte copy of
/// the storage: the one copy of the weights that import makes.
/// </summary>
internal abstract class TorchFile : IDisposable
{
    private readonly Dictionary<string, byte[]> _storages = new(StringComparer.Ordinal);

    protected TorchFile(string path)
    {
        Path = path;
        Budget = new ReadBudget(new FileInfo(path).Length);
    }

    public string Path { get; }

    public object? Root { get; protected set; }

    protected ReadBudget Budget { get; }

    /// <summary>
    /// Tensors of at least this many elements read straight from the file (a large state_dict's
    /// weight matrices) may be read on demand (<see cref="FloatTensor.OnDemand"/>): 4 Mi floats, 16 MB.
    /// </summary>
    internal const long OnDemandElements = 1L << 22;

    /// <summary>
    /// The float32 values of a tensor, gathered from its storage view; NaN and infinities are refused.
    /// With <paramref name="onDemand"/>, a large tensor read straight from the file is not read here:
    /// it is read when used, held only weakly, and read again from the file when its values have been
    /// collected (the file is reopened, and refused if it changed since); so the graph does not keep
    /// every weight in memory, and non-finite values are refused at first use rather than at import.
    /// </summary>
    public FloatTensor ReadTensor(TorchTensor tensor, string name, bool onDemand = false)
    {
        string location = $"{Path}: '{name}'";
        long count = Limits.CheckedElementCount(tensor.Size, location);
        Budget.ChargeElements(count, location);
        if (tensor.Storage.DType == TorchDType.Float32 && BitConverter.IsLittleEndian && IsContiguous(tensor) && count <= Array.MaxLength
            && !_storages.ContainsKey(tensor.Storage.Key) && CanReadContiguous(tensor.Storage, tensor.Offset * sizeof(float), count * sizeof(float), location))
        {
            ImmutableArray<int> shape = [.. tensor.Size.Select(d => (int)d)];
            if (onDemand && count >= OnDemandElements && Reopen() is { } reopen)
            {
                // Not read now: each use reads it (and refuses non-finite values) until it is collected.
                return FloatTensor.OnDemand(shape, null, Rereader(reopen, tensor, count, location));
            }

            return new FloatTensor(shape, ReadFloats(tensor, count, location));
        }

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

    /// <summary>A contiguous float32 view read from the file into its own array (after <see cref="CanReadContiguous"/> agreed).</summary>
    private float[] ReadFloats(TorchTensor tensor, long count, string location)
    {
        var data = new float[count];
        ReadContiguous(tensor.Storage, tensor.Offset * sizeof(float), System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan()), location);
        NonFinite.Refuse(tensor.Size, data, "non-finite-weight", location);
        return data;
    }

    /// <summary>Reads the tensor again from a fresh opening of the file, refusing a file that changed since this one was opened.</summary>
    private Func<float[]> Rereader(Func<TorchFile> reopen, TorchTensor tensor, long count, string location)
    {
        var info = new FileInfo(Path);
        (long length, DateTime written) = (info.Length, info.LastWriteTimeUtc);
        string path = Path;
        return () =>
        {
            var now = new FileInfo(path);
            if (!now.Exists || now.Length != length || now.LastWriteTimeUtc != written)
            {
                throw new CimcException("model-changed", location, "the model file changed while cimc was using it (large weights are read from it again, layer by layer)");
            }

            using TorchFile again = reopen();
            if (!again.CanReadContiguous(tensor.Storage, tensor.Offset * sizeof(float), count * sizeof(float), location))
            {
                throw new CimcException("model-changed", location, "the model file changed while cimc was using it");
            }

            return again.ReadFloats(tensor, count, location);
        };
    }

    /// <summary>How to open this file again for an on-demand read (null: this kind of file is not reread).</summary>
    protected virtual Func<TorchFile>? Reopen() => null;

    /// <summary>Row-major with no gaps: the view is one run of the storage from its offset.</summary>
    private static bool IsContiguous(TorchTensor t)
    {
        long expected = 1;
        for (int d = t.Rank - 1; d >= 0; d--)
        {
            if (t.Size[d] != 1 && t.Stride[d] != expected)
            {
                return false;
            }

            expected *= t.Size[d];
        }

        return true;
    }

    /// <summary>
    /// Whether this kind of file can read <paramref name="length"/> bytes of a storage from byte
    /// <paramref name="offset"/> straight into the caller's array (else the caller reads the whole
    /// storage); when it can, the sizes are checked and the bytes charged before anything is allocated.
    /// </summary>
    protected virtual bool CanReadContiguous(StorageRef storage, long offset, long length, string location) => false;

    /// <summary>Reads what <see cref="CanReadContiguous"/> agreed to read. The view was checked to lie inside the storage's elements.</summary>
    protected virtual void ReadContiguous(StorageRef storage, long offset, Span<byte> destination, string location) =>
        throw new NotSupportedException();

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
