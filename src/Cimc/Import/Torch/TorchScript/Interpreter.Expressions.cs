using System.Collections.Immutable;
using Cimc.Import.Torch.Pickle;
using Cimc.Ir;

namespace Cimc.Import.Torch.TorchScript;

/// <summary>Expression evaluation: names, attributes, calls, operators, literals.</summary>
internal sealed partial class Interpreter
{
    /// <summary>
    /// Bounds the interpreter's total recursion (expressions inside calls inside expressions), so
    /// hostile code ends in a diagnostic well before the thread's stack would.
    /// </summary>
    private object? Eval(Expr e, Dictionary<string, object?> locals)
    {
        if (++_evalDepth > MaxEvalDepth)
        {
            throw Unsupported(e.Line, $"expressions and calls nest deeper than {MaxEvalDepth}");
        }

        try
        {
            return EvalCore(e, locals);
        }
        finally
        {
            _evalDepth--;
        }
    }

    private object? EvalCore(Expr e, Dictionary<string, object?> locals)
    {
        switch (e)
        {
            case ConstExpr c:
                return c.Value;
            case NameExpr n:
                if (locals.TryGetValue(n.Name, out object? v))
                {
                    return v;
                }

                return GlobalNames.Contains(n.Name) ? new QualifiedName(n.Name) : throw Unsupported(n.Line, $"unknown name '{n.Name}'");
            case AttributeExpr a:
                return Attribute(Eval(a.Target, locals), a.Name, a.Line);
            case CallExpr c:
                {
                    object? target = Eval(c.Target, locals);
                    List<object?> args = [.. c.Args.Select(x => Eval(x, locals))];
                    var keywords = new Dictionary<string, object?>(StringComparer.Ordinal);
                    foreach (KeyValuePair<string, Expr> kw in c.Keywords)
                    {
                        keywords[kw.Key] = Eval(kw.Value, locals);
                    }

                    return Call(target, args, keywords, c.Line);
                }

            case SubscriptExpr s:
                {
                    object? target = Eval(s.Target, locals);
                    if (target is QualifiedName)
                    {
                        // A type such as List[int] or Optional[Tensor]: only ever an argument to annotate().
                        return target;
                    }

                    object? index = Eval(s.Index, locals);
                    if (Items(target) is { } items && index is long i)
                    {
                        long at = i < 0 ? i + items.Count : i;
                        return at >= 0 && at < items.Count ? Value(items[(int)at]) : throw Unsupported(s.Line, $"index {i} out of range");
                    }

                    throw Unsupported(s.Line, $"indexing a {Describe(target)}");
                }

            case BinaryExpr b:
                return Binary(b, locals);
            case UnaryExpr u:
                {
                    object? operand = Eval(u.Operand, locals);
                    return (u.Op, operand) switch
                    {
                        ("not", _) => !Truth(operand, u.Line),
                        ("-", long l) => -l,
                        ("-", double d) => -d,
                        ("+", long or double) => operand,
                        _ => throw Unsupported(u.Line, $"unsupported operator '{u.Op}' on a {Describe(operand)}"),
                    };
                }

            case ConditionalExpr c:
                return Truth(Eval(c.Condition, locals), c.Line) ? Eval(c.Then, locals) : Eval(c.Else, locals);
            case ListExpr l:
                return l.Items.Select(x => Eval(x, locals)).ToList();
            case TupleExpr t:
                return new PyTuple([.. t.Items.Select(x => Eval(x, locals))]);
            default:
                throw new InvalidOperationException($"interpreter has no case for {e.GetType().Name}");
        }
    }

    private object? Binary(BinaryExpr b, Dictionary<string, object?> locals)
    {
        if (b.Op is "and" or "or")
        {
            object? left = Eval(b.Left, locals);
            bool t = Truth(left, b.Line);
            return (b.Op == "and") == t ? Eval(b.Right, locals) : left;
        }

        object? l = Eval(b.Left, locals), r = Eval(b.Right, locals);
        return b.Op switch
        {
            "@" => MatMul(l, r, b.Line),
            "+" => Add(l, r, 1.0, b.Line),
            "is" => Same(l, r),
            "is not" => !Same(l, r),
            "in" or "not in" when Items(r) is { } items => items.Any(x => Compare("==", l, x, b.Line)) == (b.Op == "in"),
            "==" or "!=" or "<" or ">" or "<=" or ">=" => Compare(b.Op, l, r, b.Line),
            _ => Arithmetic(b.Op, l, r, b.Line),
        };
    }

    private static bool Same(object? a, object? b) => a is null ? b is null : ReferenceEquals(a, b) || (a is bool or long or string && Equals(a, b));

    private bool Compare(string op, object? a, object? b, int line)
    {
        if (op is "==" or "!=" && (a is null || b is null || a is string || b is string || a is bool || b is bool))
        {
            return Equals(a, b) == (op == "==");
        }

        if (a is not (long or double) || b is not (long or double))
        {
            throw Unsupported(line, $"comparing a {Describe(a)} with a {Describe(b)}");
        }

        double x = Convert.ToDouble(a, System.Globalization.CultureInfo.InvariantCulture);
        double y = Convert.ToDouble(b, System.Globalization.CultureInfo.InvariantCulture);
        return op switch
        {
            "==" => x == y,
            "!=" => x != y,
            "<" => x < y,
            ">" => x > y,
            "<=" => x <= y,
            _ => x >= y,
        };
    }

    private object Arithmetic(string op, object? a, object? b, int line)
    {
        if (a is long x && b is long y)
        {
            return op switch
            {
                "+" => x + y,
                "-" => x - y,
                "*" => x * y,
                "//" when y != 0 => (long)Math.Floor((double)x / y),
                "%" when y != 0 => ((x % y) + y) % y,
                "/" when y != 0 => (double)x / y,
                _ => throw Unsupported(line, $"unsupported integer operation '{op}'"),
            };
        }

        if (a is long or double && b is long or double)
        {
            double p = Convert.ToDouble(a, System.Globalization.CultureInfo.InvariantCulture);
            double q = Convert.ToDouble(b, System.Globalization.CultureInfo.InvariantCulture);
            return op switch
            {
                "+" => p + q,
                "-" => p - q,
                "*" => p * q,
                "/" => p / q,
                "**" => Math.Pow(p, q),
                _ => throw Unsupported(line, $"unsupported float operation '{op}'"),
            };
        }

        throw Unsupported(line, $"unsupported operation '{op}' on a {Describe(a)} and a {Describe(b)}");
    }

    private object? Attribute(object? target, string name, int line)
    {
        switch (target)
        {
            case QualifiedName { Path: "CONSTANTS" }:
                if (name.StartsWith('c') && int.TryParse(name.AsSpan(1), out int i) && i >= 0 && i < _constants.Count)
                {
                    return Value(_constants[i]);
                }

                throw Unsupported(line, $"constants.pkl has no constant '{name}'");
            case QualifiedName q:
                return q.Dot(name);
            case PyObject obj:
                return Member(obj, name, line);
            default:
                throw Unsupported(line, $"attribute '{name}' of a {Describe(target)}");
        }
    }

    /// <summary>An attribute of a module: data from data.pkl, else a method, else a class constant.</summary>
    private object? Member(PyObject obj, string name, int line)
    {
        if (obj.Attributes is { } attributes && attributes.TryGet(name, out object? v))
        {
            return Value(v);
        }

        ClassDef? cls = _code.Class(obj.ClassName);
        if (cls is not null && cls.Methods.ContainsKey(name))
        {
            return new BoundMethod(obj, name);
        }

        if (cls is not null && cls.Constants.TryGetValue(name, out Expr? constant))
        {
            return Eval(constant, []);
        }

        throw Unsupported(line, $"'{obj.ClassName}' has no attribute '{name}'");
    }

    /// <summary>Data from a pickle as an interpreter value: tensors are read as float32 once.</summary>
    private object? Value(object? v)
    {
        if (v is not TorchTensor t)
        {
            return v;
        }

        if (!_tensors.TryGetValue(t, out FloatTensor? f))
        {
            f = _archive.ReadTensor(t, $"tensor of storage '{t.Storage.Key}'");
            _tensors[t] = f;
        }

        return f;
    }

    private object? Call(object? target, List<object?> args, Dictionary<string, object?> keywords, int line)
    {
        Step(line);
        switch (target)
        {
            case BoundMethod m:
                {
                    FunctionDef f = _code.Class(m.Self.ClassName)?.Methods.GetValueOrDefault(m.Name)
                        ?? throw Unsupported(line, $"no code for '{m.Self.ClassName}.{m.Name}' in the archive");
                    return Invoke(f, m.Self, args, keywords, line);
                }

            case QualifiedName q when _code.Function(q.Path) is { } f:
                return Invoke(f, null, args, keywords, line);
            case QualifiedName q when _code.Class(q.Path) is not null:
                throw Unsupported(line, $"constructing '{q.Path}' inside forward");
            case QualifiedName q:
                return Builtin(q.Path, args, keywords, line);
            default:
                throw Unsupported(line, $"calling a {Describe(target)}");
        }
    }

}
