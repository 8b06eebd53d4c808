using System.Buffers.Binary;
using System.Numerics;
using Cimc.Diagnostics;
using Cimc.Import.Torch.Pickle;

namespace Cimc.Import.Torch;

/// <summary>
/// The pre-1.6 torch.save format (`_use_new_zipfile_serialization=False`): consecutive pickles
/// (magic number, protocol 1001, sys_info, the object, the storage keys), then each storage as an
/// int64 element count followed by its raw bytes, in key order.
/// </summary>
internal sealed class LegacyTorchFile : TorchFile
{
    private static readonly BigInteger Magic = BigInteger.Parse("119547037146038801333356", System.Globalization.CultureInfo.InvariantCulture);

    private readonly Dictionary<string, (long Offset, long Count)> _storages = new(StringComparer.Ordinal);
    private readonly byte[] _bytes;

    private LegacyTorchFile(string path, byte[] bytes)
        : base(path) => _bytes = bytes;

    public static LegacyTorchFile Open(string path)
    {
        long length = new FileInfo(path).Length;
        // Read whole: its storages are inline, so the file budget bounds the file.
        if (length > ReadBudget.MaxBytes + (64L << 20))
        {
            throw new CimcException("file-too-large", path, $"legacy (non-zip) PyTorch files are read up to {ReadBudget.MaxBytes + (64L << 20)} bytes; re-save with a current torch");
        }

        var file = new LegacyTorchFile(path, File.ReadAllBytes(path));
        file.Parse();
        return file;
    }

    private void Parse()
    {
        var storages = new Dictionary<string, StorageRef>(StringComparer.Ordinal);
        object? StorageOf(object? pid)
        {
            // Legacy whole modules name their class as ('module', cls, source_file, source); the class
            // went through the allow-list when unpickled, and the source text is ignored.
            if (pid is PyTuple { Count: >= 2 } m && m[0] is "module" && m[1] is PyGlobal { Kind: GlobalKind.ModuleClass } cls)
            {
                return cls;
            }

            if (pid is PyTuple { Count: >= 6 } t && t[5] is not null)
            {
                throw new CimcException("unsupported-format", Path, "legacy storage views are not supported; re-save with a current torch");
            }

            StorageRef s = TensorRebuild.StorageFromPersistentId(pid, Path);
            storages.TryAdd(s.Key, s);
            return s;
        }

        var magic = new PickleMachine(_bytes, Path, null);
        object? first = magic.Run();
        if (first is not BigInteger m || m != Magic)
        {
            throw new CimcException("unsupported-format", Path, "a plain pickle, not a torch.save file (no PyTorch magic number)");
        }

        int pos = magic.Position;
        object? protocol = Next(ref pos, null);
        if (protocol is not 1001L)
        {
            throw new CimcException("unsupported-format", Path, $"unsupported legacy PyTorch protocol {PickleText.Short(protocol)}");
        }

        Next(ref pos, null);
        Root = Next(ref pos, StorageOf);
        if (Next(ref pos, null) is not List<object?> keys)
        {
            throw new CimcException("bad-pickle", Path, "the legacy storage key list is missing");
        }

        foreach (object? k in keys)
        {
            if (k is not string key || !storages.TryGetValue(key, out StorageRef? s))
            {
                throw new CimcException("bad-pickle", Path, $"unknown storage key {PickleText.Short(k)}");
            }

            if (_bytes.Length - pos < 8)
            {
                throw new CimcException("bad-archive", Path, "the file is truncated in its storage data");
            }

            long count = BinaryPrimitives.ReadInt64LittleEndian(_bytes.AsSpan(pos, 8));
            long size = count * s.DType.ItemSize();
            if (count != s.Numel || size > _bytes.Length - pos - 8)
            {
                throw new CimcException("bad-archive", Path, $"storage '{key}' is truncated or does not match its declared size");
            }

            _storages[key] = (pos + 8, size);
            pos += 8 + (int)size;
        }
    }

    private object? Next(ref int pos, Func<object?, object?>? persistentLoad)
    {
        var machine = new PickleMachine(_bytes, Path, persistentLoad, pos);
        object? value = machine.Run();
        pos = machine.Position;
        return value;
    }

    protected override byte[] ReadStorage(StorageRef storage, long bytes, string location)
    {
        if (!_storages.TryGetValue(storage.Key, out (long Offset, long Count) at))
        {
            throw new CimcException("bad-archive", location, $"storage '{storage.Key}' is missing");
        }

        CheckStorageSize(at.Count, bytes, storage, location);
        Budget.ChargeBytes(bytes, location);
        return _bytes.AsSpan((int)at.Offset, (int)bytes).ToArray();
    }
}
