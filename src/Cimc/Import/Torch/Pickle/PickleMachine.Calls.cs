namespace Cimc.Import.Torch.Pickle;

/// <summary>
/// REDUCE, NEWOBJ and BUILD: the only opcodes that would call code in Python. Here each allowed
/// kind of global has one fixed, data-only meaning.
/// </summary>
internal sealed partial class PickleMachine
{
    private object? Call(object? callable, object? args, int at)
    {
        if (callable is not PyGlobal g)
        {
            throw Error(at, $"REDUCE calls a {PickleText.TypeName(callable)}, which is not an allowed class");
        }

        if (args is not PyTuple tuple)
        {
            throw Error(at, $"REDUCE of '{g.FullName}' without an argument tuple");
        }

        switch (g.Kind)
        {
            case GlobalKind.OrderedDict:
                {
                    var dict = new PyDict();
                    if (tuple.Count > 0 && tuple[0] is List<object?> pairs)
                    {
                        foreach (object? p in pairs)
                        {
                            if (p is not PyTuple { Count: 2 } kv)
                            {
                                throw Error(at, "OrderedDict built from something other than pairs");
                            }

                            dict.Set(kv[0], kv[1], Where(at));
                        }
                    }

                    return dict;
                }

            case GlobalKind.RebuildTensor:
                return TensorRebuild.FromPickleArgs(tuple, Where(at));
            case GlobalKind.RebuildParameter:
                return tuple.Count > 0 && tuple[0] is TorchTensor t
                    ? t
                    : throw Error(at, "_rebuild_parameter without a tensor");
            case GlobalKind.Set:
                return new PySet(tuple.Count > 0 && tuple[0] is List<object?> items ? [.. items] : []);
            case GlobalKind.ModuleClass:
            case GlobalKind.ScriptClass:
                return new PyObject(g, tuple);
            case GlobalKind.TypedList:
                return tuple.Count == 1 && tuple[0] is List<object?> list
                    ? list
                    : throw Error(at, $"'{g.FullName}' without a list");
            default:
                throw Error(at, $"'{g.FullName}' cannot be called");
        }
    }

    private object? NewObject(object? cls, object? args, int at)
    {
        if (cls is PyGlobal { Kind: GlobalKind.ModuleClass or GlobalKind.ScriptClass or GlobalKind.OrderedDict or GlobalKind.Set })
        {
            return Call(cls, args, at);
        }

        throw Error(at, $"NEWOBJ of a {PickleText.TypeName(cls)}, which is not an allowed class");
    }

    private void Build(object? target, object? state, int at)
    {
        switch (target)
        {
            case PyObject obj:
                if (obj.State is PyDict old && state is PyDict update)
                {
                    foreach (KeyValuePair<object?, object?> kv in update.Items)
                    {
                        old.Set(kv.Key, kv.Value, Where(at));
                    }
                }
                else
                {
                    obj.State = state;
                }

                break;
            case PyDict or TorchTensor:
                // BUILD gives an OrderedDict its instance attributes (state_dict's `_metadata`) and a
                // tensor its Python attributes, never items: nothing cimc uses.
                break;
            default:
                throw Error(at, $"BUILD on a {PickleText.TypeName(target)}");
        }
    }
}
