using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Numerics;
using System.Text;
using Cimc.Diagnostics;
using static Cimc.Import.Torch.Pickle.PickleOpcodes;

namespace Cimc.Import.Torch.Pickle;

/// <summary>
/// A pickle virtual machine that only builds data. It runs one pickle (up to STOP) from a byte
/// buffer and returns the top value. Globals go through <see cref="AllowList"/>; REDUCE, NEWOBJ and
/// BUILD apply a fixed data-only meaning per allowed kind, so no file can make it run code.
/// Every length is checked against the bytes left before anything is allocated, and the memo, the
/// stack, the mark depth and the number of operations are bounded, so a corrupt or hostile pickle ends in a
/// <see cref="CimcException"/> after at most one pass over its bytes.
/// </summary>
internal sealed partial class PickleMachine
{
    public const int MaxStack = 1 << 20;
    public const int MaxMarkDepth = 1000;
    public const int MaxMemo = 1 << 20;

    /// <summary>
    /// Opcodes one pickle may execute: each can add an object to a list or dict that outlives the
    /// stack, so this bounds memory (a state_dict of 10,000 tensors takes about 300,000).
    /// </summary>
    public const int MaxOps = 1 << 23;

    private int _ops;

    private readonly ReadOnlyMemory<byte> _data;
    private readonly string _location;
    private readonly Func<object?, object?>? _persistentLoad;
    private readonly List<object?> _stack = [];
    private readonly Stack<int> _marks = new();
    private readonly Dictionary<long, object?> _memo = [];
    private int _pos;

    /// <param name="data">The bytes; the pickle starts at <paramref name="start"/>.</param>
    /// <param name="location">Named in diagnostics (the file and entry).</param>
    /// <param name="persistentLoad">Resolves BINPERSID ids (torch storages); null refuses them.</param>
    public PickleMachine(ReadOnlyMemory<byte> data, string location, Func<object?, object?>? persistentLoad, int start = 0)
    {
        _data = data;
        _location = location;
        _persistentLoad = persistentLoad;
        _pos = start;
    }

    /// <summary>Where the next pickle starts once <see cref="Run"/> has returned (legacy files chain pickles).</summary>
    public int Position => _pos;

    /// <summary>Convenience: runs the whole buffer as one pickle.</summary>
    public static object? Load(ReadOnlyMemory<byte> data, string location, Func<object?, object?>? persistentLoad = null) =>
        new PickleMachine(data, location, persistentLoad).Run();

    public object? Run()
    {
        while (true)
        {
            int at = _pos;
            if (++_ops > MaxOps)
            {
                throw Error(at, $"more than {MaxOps} pickle operations; a model's pickle needs far fewer");
            }

            byte op = ReadByte();
            switch (op)
            {
                case Proto:
                    byte version = ReadByte();
                    if (version > 5)
                    {
                        throw Error(at, $"unsupported pickle protocol {version}");
                    }

                    break;
                case Frame:
                    // Frames only group opcodes for buffered readers; the length just has to fit.
                    Need(ReadUInt64(), at);
                    break;
                case Stop:
                    if (_stack.Count != 1 || _marks.Count != 0)
                    {
                        throw Error(at, "STOP with an unbalanced stack");
                    }

                    return Pop(at);
                case Mark:
                    if (_marks.Count >= MaxMarkDepth)
                    {
                        throw Error(at, $"nesting deeper than {MaxMarkDepth} levels");
                    }

                    _marks.Push(_stack.Count);
                    break;
                case PickleOpcodes.Pop:
                    Pop(at);
                    break;
                case PopMark:
                    PopToMark(at);
                    break;
                case Dup:
                    Push(Peek(at), at);
                    break;
                case PickleOpcodes.None:
                    Push(null, at);
                    break;
                case NewTrue:
                    Push(true, at);
                    break;
                case NewFalse:
                    Push(false, at);
                    break;
                case BinInt:
                    Push((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4, at)), at);
                    break;
                case BinInt1:
                    Push((long)ReadByte(), at);
                    break;
                case BinInt2:
                    Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2, at)), at);
                    break;
                case Long1:
                    Push(ReadLong(ReadByte(), at), at);
                    break;
                case Long4:
                    Push(ReadLong(BinaryPrimitives.ReadInt32LittleEndian(Take(4, at)), at), at);
                    break;
                case BinFloat:
                    Push(BinaryPrimitives.ReadDoubleBigEndian(Take(8, at)), at);
                    break;
                case BinUnicode:
                    Push(Utf8(BinaryPrimitives.ReadUInt32LittleEndian(Take(4, at)), at), at);
                    break;
                case ShortBinUnicode:
                    Push(Utf8(ReadByte(), at), at);
                    break;
                case BinUnicode8:
                    Push(Utf8(ReadUInt64(), at), at);
                    break;
                case ShortBinString:
                    Push(Latin1(ReadByte(), at), at);
                    break;
                case BinString:
                    Push(Latin1(BinaryPrimitives.ReadUInt32LittleEndian(Take(4, at)), at), at);
                    break;
                case ShortBinBytes:
                    Push(Take(Need(ReadByte(), at), at).ToArray(), at);
                    break;
                case BinBytes:
                    Push(Take(Need(BinaryPrimitives.ReadUInt32LittleEndian(Take(4, at)), at), at).ToArray(), at);
                    break;
                case BinBytes8:
                case ByteArray8:
                    Push(Take(Need(ReadUInt64(), at), at).ToArray(), at);
                    break;
                case EmptyTuple:
                    Push(PyTuple.Empty, at);
                    break;
                case PickleOpcodes.Tuple:
                    Push(new PyTuple([.. PopToMark(at)]), at);
                    break;
                case Tuple1:
                case Tuple2:
                case Tuple3:
                    Push(new PyTuple([.. PopMany(op - Tuple1 + 1, at)]), at);
                    break;
                case EmptyList:
                    Push(new List<object?>(), at);
                    break;
                case PickleOpcodes.List:
                    Push(PopToMark(at), at);
                    break;
                case Append:
                    {
                        object? item = Pop(at);
                        ListOf(Peek(at), at).Add(item);
                        break;
                    }

                case Appends:
                    {
                        List<object?> items = PopToMark(at);
                        ListOf(Peek(at), at).AddRange(items);
                        break;
                    }

                case EmptyDict:
                    Push(new PyDict(), at);
                    break;
                case PickleOpcodes.Dict:
                    {
                        var dict = new PyDict();
                        SetPairs(dict, PopToMark(at), at);
                        Push(dict, at);
                        break;
                    }

                case SetItem:
                    {
                        object? value = Pop(at);
                        object? key = Pop(at);
                        DictOf(Peek(at), at).Set(key, value, Where(at));
                        break;
                    }

                case SetItems:
                    {
                        List<object?> pairs = PopToMark(at);
                        SetPairs(DictOf(Peek(at), at), pairs, at);
                        break;
                    }

                case EmptySet:
                    Push(new PySet([]), at);
                    break;
                case AddItems:
                    {
                        List<object?> items = PopToMark(at);
                        if (Peek(at) is not PySet set)
                        {
                            throw Error(at, "ADDITEMS on a value that is not a set");
                        }

                        set.Items.AddRange(items);
                        break;
                    }

                case FrozenSet:
                    Push(new PySet(PopToMark(at)), at);
                    break;
                case BinPut:
                    Memo(ReadByte(), at);
                    break;
                case LongBinPut:
                    Memo(BinaryPrimitives.ReadUInt32LittleEndian(Take(4, at)), at);
                    break;
                case Memoize:
                    Memo(_memo.Count, at);
                    break;
                case BinGet:
                    Push(Recall(ReadByte(), at), at);
                    break;
                case LongBinGet:
                    Push(Recall(BinaryPrimitives.ReadUInt32LittleEndian(Take(4, at)), at), at);
                    break;
                case Global:
                    {
                        string module = ReadLine(at);
                        string name = ReadLine(at);
                        Push(AllowList.Resolve(module, name, _location), at);
                        break;
                    }

                case StackGlobal:
                    {
                        object? name = Pop(at);
                        object? module = Pop(at);
                        if (module is not string m || name is not string n)
                        {
                            throw Error(at, "STACK_GLOBAL needs two strings");
                        }

                        Push(AllowList.Resolve(m, n, _location), at);
                        break;
                    }

                case PickleOpcodes.Reduce:
                    {
                        object? args = Pop(at);
                        object? callable = Pop(at);
                        Push(Call(callable, args, at), at);
                        break;
                    }

                case NewObj:
                    {
                        object? args = Pop(at);
                        object? cls = Pop(at);
                        Push(NewObject(cls, args, at), at);
                        break;
                    }

                case NewObjEx:
                    {
                        object? kwargs = Pop(at);
                        object? args = Pop(at);
                        object? cls = Pop(at);
                        if (kwargs is PyDict { Count: > 0 })
                        {
                            throw Error(at, "NEWOBJ_EX with keyword arguments is not supported");
                        }

                        Push(NewObject(cls, args, at), at);
                        break;
                    }

                case PickleOpcodes.Build:
                    {
                        object? state = Pop(at);
                        Build(Peek(at), state, at);
                        break;
                    }

                case BinPersId:
                    {
                        object? pid = Pop(at);
                        if (_persistentLoad is null)
                        {
                            throw Error(at, "a persistent id outside a PyTorch archive");
                        }

                        Push(_persistentLoad(pid), at);
                        break;
                    }

                default:
                    throw Error(at, $"unsupported pickle opcode 0x{op:x2}");
            }
        }
    }

    private string Where(int at) => $"{_location} (pickle offset {at})";

    private CimcException Error(int at, string message) => new("bad-pickle", Where(at), message);

    private void SetPairs(PyDict dict, List<object?> pairs, int at)
    {
        if (pairs.Count % 2 != 0)
        {
            throw Error(at, "odd number of items for a dictionary");
        }

        for (int i = 0; i < pairs.Count; i += 2)
        {
            dict.Set(pairs[i], pairs[i + 1], Where(at));
        }
    }

    private List<object?> ListOf(object? value, int at) =>
        value as List<object?> ?? throw Error(at, $"APPEND on a {PickleText.TypeName(value)}, not a list");

    private PyDict DictOf(object? value, int at) => value switch
    {
        PyDict d => d,
        _ => throw Error(at, $"SETITEM on a {PickleText.TypeName(value)}, not a dict"),
    };

    private void Memo(long index, int at)
    {
        if (_stack.Count == 0)
        {
            throw Error(at, "memo store with an empty stack");
        }

        if (_memo.Count >= MaxMemo && !_memo.ContainsKey(index))
        {
            throw Error(at, $"more than {MaxMemo} memo entries");
        }

        _memo[index] = _stack[^1];
    }

    private object? Recall(long index, int at) =>
        _memo.TryGetValue(index, out object? value) ? value : throw Error(at, $"memo index {index} was never stored");

    private void Push(object? value, int at)
    {
        if (_stack.Count >= MaxStack)
        {
            throw Error(at, $"stack deeper than {MaxStack} values");
        }

        _stack.Add(value);
    }

    private object? Pop(int at)
    {
        if (_stack.Count == 0 || (_marks.Count > 0 && _stack.Count <= _marks.Peek()))
        {
            throw Error(at, "stack underflow");
        }

        object? v = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return v;
    }

    private object? Peek(int at) =>
        _stack.Count == 0 || (_marks.Count > 0 && _stack.Count <= _marks.Peek()) ? throw Error(at, "stack underflow") : _stack[^1];

    private List<object?> PopMany(int count, int at)
    {
        int floor = _marks.Count > 0 ? _marks.Peek() : 0;
        if (_stack.Count - floor < count)
        {
            throw Error(at, "stack underflow");
        }

        List<object?> items = _stack.GetRange(_stack.Count - count, count);
        _stack.RemoveRange(_stack.Count - count, count);
        return items;
    }

    private List<object?> PopToMark(int at)
    {
        if (_marks.Count == 0)
        {
            throw Error(at, "no MARK on the stack");
        }

        int mark = _marks.Pop();
        List<object?> items = _stack.GetRange(mark, _stack.Count - mark);
        _stack.RemoveRange(mark, _stack.Count - mark);
        return items;
    }

    private byte ReadByte()
    {
        if (_pos >= _data.Length)
        {
            throw Error(_pos, "the pickle is truncated");
        }

        return _data.Span[_pos++];
    }

    private int Need(ulong length, int at)
    {
        if (length > (ulong)(_data.Length - _pos))
        {
            throw Error(at, $"a length of {length} bytes runs past the end of the data (truncated or corrupt)");
        }

        return (int)length;
    }

    private ReadOnlySpan<byte> Take(int length, int at)
    {
        Need((ulong)length, at);
        ReadOnlySpan<byte> s = _data.Span.Slice(_pos, length);
        _pos += length;
        return s;
    }

    private ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, _pos));

    private string Utf8(ulong length, int at)
    {
        ReadOnlySpan<byte> bytes = Take(Need(length, at), at);
        try
        {
            return new UTF8Encoding(false, true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw Error(at, "a string is not valid UTF-8");
        }
    }

    private string Latin1(ulong length, int at) => Encoding.Latin1.GetString(Take(Need(length, at), at));

    /// <summary>GLOBAL's operands are newline-terminated; bounded so a missing newline cannot scan far.</summary>
    private string ReadLine(int at)
    {
        ReadOnlySpan<byte> rest = _data.Span[_pos..];
        int end = rest[..Math.Min(rest.Length, 512)].IndexOf((byte)'\n');
        if (end < 0)
        {
            throw Error(at, "GLOBAL name is unterminated or longer than 512 bytes");
        }

        string s = Encoding.ASCII.GetString(rest[..end]);
        _pos += end + 1;
        return s;
    }

    private object ReadLong(int length, int at)
    {
        if (length < 0 || length > 256)
        {
            throw Error(at, $"integer of {length} bytes is not supported");
        }

        ReadOnlySpan<byte> bytes = Take(length, at);
        var big = new BigInteger(bytes, isUnsigned: false, isBigEndian: false);
        return big >= long.MinValue && big <= long.MaxValue ? (long)big : big;
    }

    private static ImmutableArray<object?> Items(object? args) => args switch
    {
        PyTuple t => t.Items,
        _ => [],
    };
}
