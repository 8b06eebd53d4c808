using System.Collections.Immutable;

namespace Cimc.Import.Torch.Pickle;

/// <summary>
/// The values a pickle can produce in cimc: Python scalars map to null, bool, long, BigInteger,
/// double, string and byte[]; containers and the records below cover the rest. None of them
/// carries behaviour: an object of an allowed class is its class name and its data.
/// </summary>
internal sealed record PyGlobal(string Module, string Name, GlobalKind Kind)
{
    public string FullName => $"{Module}.{Name}";

    public override string ToString() => FullName;
}

/// <summary>An immutable Python tuple.</summary>
internal sealed record PyTuple(ImmutableArray<object?> Items)
{
    public static PyTuple Empty { get; } = new(ImmutableArray<object?>.Empty);

    public int Count => Items.Length;

    public object? this[int index] => Items[index];
}

/// <summary>A Python set (whole modules keep `_non_persistent_buffers_set`); kept as a list.</summary>
internal sealed class PySet(List<object?> items)
{
    public List<object?> Items { get; } = items;
}

/// <summary>
/// An instance of an allow-listed class (an nn module, a TorchScript `__torch__` class): its class
/// name, the arguments it was created with and the state BUILD gave it. Inert data.
/// </summary>
internal sealed class PyObject(PyGlobal type, PyTuple args)
{
    public PyGlobal Type { get; } = type;

    public string ClassName => Type.FullName;

    public PyTuple Args { get; } = args;

    public object? State { get; set; }

    /// <summary>The attribute dictionary (state of BUILD, or the dict half of a (dict, slots) pair).</summary>
    public PyDict? Attributes => State switch
    {
        PyDict d => d,
        PyTuple { Count: 2 } t when t[0] is PyDict d => d,
        _ => null,
    };

    public object? Attribute(string name) =>
        Attributes is { } d && d.TryGet(name, out object? v) ? v : null;

    public override string ToString() => ClassName;
}
