using Cimc.Import.Torch.Pickle;

namespace Cimc.Import.Torch.TorchScript;

/// <summary>
/// A tensor computed from the model input: the graph value <see cref="Value"/> that the interpreter
/// follows through `forward`. Rank is tracked for dim-dependent code (flatten, softmax).
/// </summary>
internal sealed record Activation(string Value, int Rank);

/// <summary>A dotted name not bound to data: `torch`, `torch.nn.functional.relu`, `ops.prim`.</summary>
internal sealed record QualifiedName(string Path)
{
    public QualifiedName Dot(string name) => new($"{Path}.{name}");
}

/// <summary>A method of a module object, e.g. `(_0).forward`.</summary>
internal sealed record BoundMethod(PyObject Self, string Name);

/// <summary>An integer only known at run time (the batch size from `torch.size(x, 0)`).</summary>
internal sealed record SymbolicInt(bool IsBatch);

/// <summary>The value of `uninitialized(T)`, a placeholder TorchScript assigns on paths that raise.</summary>
internal sealed record Uninitialized;
