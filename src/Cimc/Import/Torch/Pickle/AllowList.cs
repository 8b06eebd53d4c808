using System.Collections.Frozen;
using Cimc.Diagnostics;

namespace Cimc.Import.Torch.Pickle;

/// <summary>What an allowed global is; the machine decides what REDUCE and NEWOBJ may do from it.</summary>
internal enum GlobalKind
{
    OrderedDict,
    RebuildTensor,
    RebuildParameter,
    Set,
    StorageType,
    DType,

    /// <summary>A torch.nn module class of a whole-module file: becomes an inert <see cref="PyObject"/>.</summary>
    ModuleClass,

    /// <summary>A TorchScript `__torch__.*` class named in data.pkl: becomes an inert <see cref="PyObject"/>.</summary>
    ScriptClass,

    /// <summary>TorchScript's typed list builders (a scripted Conv2d's `List[int]` attributes): the list itself.</summary>
    TypedList,
}

/// <summary>
/// The globals a pickle may name: the equivalent of torch.load(weights_only=True) plus the nn
/// module classes of MLPs and TorchScript's `__torch__` classes. Everything else is refused, because
/// a pickle that may name any global may call any function (os.system, builtins.eval, ...).
/// Nothing here is ever executed: each kind maps to a fixed, data-only constructor in the machine.
/// </summary>
internal static class AllowList
{
    private static readonly FrozenDictionary<string, GlobalKind> Known = Build();

    public static PyGlobal Resolve(string module, string name, string location)
    {
        string full = $"{module}.{name}";
        if (Known.TryGetValue(full, out GlobalKind kind))
        {
            return new PyGlobal(module, name, kind);
        }

        if (IsScriptClass(module, name))
        {
            return new PyGlobal(module, name, GlobalKind.ScriptClass);
        }

        string shown = full.Length <= 120 ? full : full[..117] + "...";
        throw new CimcException("refused-global", location,
            $"refused to load '{shown}': only tensors and standard layers are allowed (pickles can run code)");
    }

    /// <summary>TorchScript names its classes `__torch__.path.Class`; only plain dotted identifiers qualify.</summary>
    private static bool IsScriptClass(string module, string name) =>
        (module == "__torch__" || module.StartsWith("__torch__.", StringComparison.Ordinal))
        && module.Length + name.Length < 400
        && IsDottedIdentifier(module) && IsDottedIdentifier(name) && !name.Contains('.');

    private static bool IsDottedIdentifier(string s) =>
        s.Length > 0 && s.Split('.').All(p => p.Length > 0 && !char.IsAsciiDigit(p[0]) && p.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'));

    private static FrozenDictionary<string, GlobalKind> Build()
    {
        var d = new Dictionary<string, GlobalKind>(StringComparer.Ordinal)
        {
            ["collections.OrderedDict"] = GlobalKind.OrderedDict,
            ["torch._utils._rebuild_tensor_v2"] = GlobalKind.RebuildTensor,
            ["torch._utils._rebuild_parameter"] = GlobalKind.RebuildParameter,

            // Whole modules store `_non_persistent_buffers_set` as a set of strings; a set is data.
            ["builtins.set"] = GlobalKind.Set,
            ["__builtin__.set"] = GlobalKind.Set,

            ["torch.jit._pickle.build_intlist"] = GlobalKind.TypedList,
            ["torch.jit._pickle.build_floatlist"] = GlobalKind.TypedList,
            ["torch.jit._pickle.build_boollist"] = GlobalKind.TypedList,
        };
        foreach (string s in TorchDTypes.StorageTypeNames)
        {
            d[$"torch.{s}"] = GlobalKind.StorageType;
        }

        foreach (string s in TorchDTypes.DTypeNames)
        {
            d[$"torch.{s}"] = GlobalKind.DType;
        }

        string[] modules =
        [
            "container.Sequential", "container.ModuleList",
            "linear.Linear", "linear.Identity",
            "activation.ReLU", "activation.Sigmoid", "activation.Tanh", "activation.LeakyReLU", "activation.Softmax",
            "flatten.Flatten", "dropout.Dropout",
            "conv.Conv2d", "batchnorm.BatchNorm2d", "pooling.MaxPool2d", "pooling.AvgPool2d", "pooling.AdaptiveAvgPool2d",
            "activation.ReLU6", "activation.Hardtanh",
        ];
        foreach (string m in modules)
        {
            d[$"torch.nn.modules.{m}"] = GlobalKind.ModuleClass;
        }

        return d.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
