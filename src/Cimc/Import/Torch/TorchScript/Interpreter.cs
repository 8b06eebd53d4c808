using System.Collections.Immutable;
using Cimc.Diagnostics;
using Cimc.Import.Torch.Pickle;
using Cimc.Ir;

namespace Cimc.Import.Torch.TorchScript;

/// <summary>
/// Runs a TorchScript module's `forward` abstractly. Values are Python scalars, lists and tuples,
/// module objects from data.pkl, constant tensors (parameters, constants.pkl) and one symbolic
/// <see cref="Activation"/>s: tensors computed from the model input. Each torch op applied to one
/// appends a node to a <see cref="ScriptGraph"/> (a DAG: `x + f(x)` reads x twice);
/// `matmul(act, W)` followed by `add(act, b)` folds into one dense layer, a batch norm into the
/// convolution before it. Control flow must be decidable without data (e.g. `if inplace:`), so the
/// result is the graph the model computes for every input. Anything else is a diagnostic with file and line.
/// Steps and call depth are bounded so that recursive or looping code cannot hang the importer.
/// </summary>
internal sealed partial class Interpreter
{
    private const int MaxSteps = 1_000_000;
    private const int MaxCallDepth = 32;
    private const int MaxEvalDepth = 1000;

    private static readonly HashSet<string> GlobalNames = new(StringComparer.Ordinal)
    {
        "torch", "ops", "__torch__", "annotate", "unchecked_cast", "uninitialized", "int", "float", "bool",
        "str", "getattr", "isinstance", "math", "CONSTANTS", "Tensor", "Optional", "List", "Tuple", "Dict",
        "NoneType", "Final", "Any", "Device", "number",
    };

    private readonly TorchArchive _archive;
    private readonly CodeLibrary _code;
    private readonly ScriptGraph _graph;
    private readonly PyTuple _constants;
    private readonly Dictionary<object, string> _paths = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<object, FloatTensor> _tensors = new(ReferenceEqualityComparer.Instance);
    private int _steps;
    private int _callDepth;
    private int _evalDepth;
    private string _file;
    private string _module = "";

    private Interpreter(TorchArchive archive, CodeLibrary code, ScriptGraph graph, PyTuple constants)
    {
        _archive = archive;
        _code = code;
        _graph = graph;
        _constants = constants;
        _file = archive.Path;
    }

    public static Graph Run(TorchArchive archive, string graphName)
    {
        if (archive.Root is not PyObject root)
        {
            throw new CimcException("bad-torchscript", archive.Path, $"data.pkl holds a {PickleText.TypeName(archive.Root)}, not a module");
        }

        CodeLibrary code = CodeLibrary.Load(archive);
        PyTuple constants = archive.Has("constants.pkl") && archive.LoadPickle("constants.pkl") is PyTuple t ? t : PyTuple.Empty;
        var interpreter = new Interpreter(archive, code, new ScriptGraph(graphName, archive.Path, InputRank(root)), constants);
        interpreter.NameModules(root);
        object? result = interpreter.Call(new BoundMethod(root, "forward"), [interpreter._graph.Input], [], 0);
        if (result is not Activation a)
        {
            throw new CimcException("unsupported-torchscript", archive.Path,
                $"forward returns a {Describe(result)}; cimc imports modules that return one tensor computed from the input");
        }

        return interpreter._graph.Build(a);
    }

    /// <summary>
    /// The file does not say the input's rank; code may ask (`input.dim()`, flatten dims). A module
    /// holding a 4-D weight (a convolution) takes NCHW images, any other a [batch, features] matrix.
    /// </summary>
    private static int InputRank(PyObject root)
    {
        var queue = new Queue<PyObject>([root]);
        var seen = new HashSet<object>(ReferenceEqualityComparer.Instance) { root };
        while (queue.Count > 0 && seen.Count < 100_000)
        {
            foreach (KeyValuePair<object?, object?> kv in queue.Dequeue().Attributes?.Items ?? [])
            {
                if (kv.Value is TorchTensor { Rank: 4 })
                {
                    return 4;
                }

                if (kv.Value is PyObject child && seen.Add(child))
                {
                    queue.Enqueue(child);
                }
            }
        }

        return 2;
    }

    /// <summary>Records each submodule's attribute path ("0", "fc3", "net.1") to name its layers.</summary>
    private void NameModules(PyObject root)
    {
        var queue = new Queue<(PyObject Module, string Path)>();
        queue.Enqueue((root, ""));
        _paths[root] = "";
        while (queue.Count > 0 && _paths.Count < 100_000)
        {
            (PyObject module, string path) = queue.Dequeue();
            foreach (KeyValuePair<object?, object?> kv in module.Attributes?.Items ?? [])
            {
                if (kv.Key is string name && kv.Value is PyObject child && !_paths.ContainsKey(child))
                {
                    string childPath = path.Length == 0 ? name : $"{path}.{name}";
                    _paths[child] = childPath;
                    queue.Enqueue((child, childPath));
                }
            }
        }
    }

    private CimcException Unsupported(int line, string message) => new("unsupported-torchscript", $"{_file}:{line}", message);

    private static string Describe(object? v) => v switch
    {
        Activation => "tensor computed from the input",
        FloatTensor t => $"constant tensor [{string.Join(", ", t.Shape)}]",
        QualifiedName q => q.Path,
        BoundMethod m => $"method {m.Name} of {m.Self.ClassName}",
        SymbolicInt => "size known only at run time",
        Uninitialized => "uninitialized value",
        _ => PickleText.Short(v),
    };

    private void Step(int line)
    {
        if (++_steps > MaxSteps)
        {
            throw Unsupported(line, $"the code runs more than {MaxSteps} steps");
        }
    }

    private object? Invoke(FunctionDef f, object? self, List<object?> args, Dictionary<string, object?> keywords, int line)
    {
        if (_callDepth >= MaxCallDepth)
        {
            throw Unsupported(line, $"calls nest deeper than {MaxCallDepth} (recursion?)");
        }

        var locals = new Dictionary<string, object?>(StringComparer.Ordinal);
        var positional = self is null ? args : [self, .. args];
        if (positional.Count > f.Parameters.Length)
        {
            throw Unsupported(line, $"'{f.Name}' takes {f.Parameters.Length} arguments but got {positional.Count}");
        }

        (string file, string module) = (_file, _module);
        for (int i = 0; i < f.Parameters.Length; i++)
        {
            Parameter p = f.Parameters[i];
            if (i < positional.Count)
            {
                locals[p.Name] = positional[i];
            }
            else if (keywords.TryGetValue(p.Name, out object? kw))
            {
                locals[p.Name] = kw;
            }
            else if (p.Default is not null)
            {
                _file = f.File;
                locals[p.Name] = Eval(p.Default, locals);
            }
            else
            {
                throw Unsupported(line, $"'{f.Name}' is missing argument '{p.Name}'");
            }
        }

        _callDepth++;
        _file = f.File;
        if (self is PyObject obj && _paths.TryGetValue(obj, out string? path))
        {
            _module = path;
        }

        try
        {
            (_, object? value) = Exec(f.Body, locals);
            return value;
        }
        finally
        {
            _callDepth--;
            (_file, _module) = (file, module);
        }
    }

    private (bool Returned, object? Value) Exec(ImmutableArray<Stmt> body, Dictionary<string, object?> locals)
    {
        foreach (Stmt s in body)
        {
            Step(s.Line);
            switch (s)
            {
                case AssignStmt a:
                    Assign(a.Target, Eval(a.Value, locals), locals);
                    break;
                case AnnotatedStmt { Value: { } v } a:
                    Assign(a.Target, Eval(v, locals), locals);
                    break;
                case AnnotatedStmt or PassStmt:
                    break;
                case ReturnStmt r:
                    return (true, r.Value is null ? null : Eval(r.Value, locals));
                case IfStmt i:
                    {
                        (bool returned, object? value) = Exec(Truth(Eval(i.Condition, locals), i.Line) ? i.Then : i.Else, locals);
                        if (returned)
                        {
                            return (true, value);
                        }

                        break;
                    }

                case ExprStmt e:
                    Eval(e.Value, locals);
                    break;
                case UnsupportedStmt u:
                    throw Unsupported(u.Line, $"unsupported statement '{u.Keyword}'");
                default:
                    throw new InvalidOperationException($"interpreter has no case for {s.GetType().Name}");
            }
        }

        return (false, null);
    }

    private void Assign(Expr target, object? value, Dictionary<string, object?> locals)
    {
        switch (target)
        {
            case NameExpr n:
                locals[n.Name] = value;
                break;
            case TupleExpr t when Items(value) is { } items && items.Count == t.Items.Length:
                for (int i = 0; i < items.Count; i++)
                {
                    Assign(t.Items[i], items[i], locals);
                }

                break;
            default:
                throw Unsupported(target.Line, "unsupported assignment target");
        }
    }

    private static IReadOnlyList<object?>? Items(object? v) => v switch
    {
        PyTuple t => t.Items,
        List<object?> l => l,
        _ => null,
    };

    private bool Truth(object? v, int line) => v switch
    {
        bool b => b,
        null => false,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        PyTuple t => t.Count > 0,
        List<object?> l => l.Count > 0,
        _ => throw Unsupported(line, $"a condition on a {Describe(v)}: control flow must not depend on the input"),
    };
}
