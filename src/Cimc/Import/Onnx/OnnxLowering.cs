using System.Collections.Immutable;
using System.Text;
using Cimc.Diagnostics;
using Cimc.Import.Onnx.Proto;
using Cimc.Ir;

namespace Cimc.Import.Onnx;

/// <summary>
/// Turns sorted ONNX nodes into cimc graph nodes, one ONNX node at a time (the op cases are in
/// OnnxOps.cs). Keeps three maps keyed by ONNX value name: constants (initializers, Constant
/// nodes, folded Casts), the cimc value each computed ONNX value became (several ONNX values
/// can share one when a node is dropped, e.g. Dropout), and how many live nodes use each value,
/// so that an Add can be folded into the bias of the Dense before it only when nothing else reads
/// the Dense's output. Types are inferred as nodes are emitted, so an op can check its input's rank.
/// </summary>
internal sealed partial class OnnxLowering
{
    private readonly long _opset;
    private readonly Dictionary<string, TensorProto> _initializers;
    private readonly Dictionary<string, OnnxConstant> _constants = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _onnxUses;
    private readonly Dictionary<string, int> _irUses = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TensorType> _types = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _producer = new(StringComparer.Ordinal);
    private readonly HashSet<string> _irNames = new(StringComparer.Ordinal);
    private readonly HashSet<string> _nodeNames = new(StringComparer.Ordinal);
    private readonly List<Node> _nodes = [];
    private readonly ReadBudget _budget = new();
    private string _name = "";
    private string _where = "";

    public OnnxLowering(long opset, Dictionary<string, TensorProto> initializers, Dictionary<string, int> onnxUses)
    {
        _opset = opset;
        _initializers = initializers;
        _onnxUses = onnxUses;
    }

    public IReadOnlyList<Node> Nodes => _nodes;

    /// <summary>Declares the graph input; returns its cimc name.</summary>
    public string AddInput(string onnxName, TensorType type)
    {
        string name = NewValueName(onnxName);
        _values[onnxName] = name;
        _types[name] = type;
        _irUses[name] = _onnxUses.GetValueOrDefault(onnxName);
        return name;
    }

    /// <summary>The cimc value and type an ONNX graph output became.</summary>
    public (string Name, TensorType Type) Output(string onnxName)
    {
        if (IsConstant(onnxName))
        {
            throw new CimcException("onnx-constant-output", $"graph output '{onnxName}'", "is a constant; cimc compiles graphs whose output depends on the input");
        }

        if (_quantized.ContainsKey(onnxName))
        {
            throw new CimcException("onnx-quantized-output", $"graph output '{onnxName}'",
                "is quantized integers; cimc compiles graphs with a float output (end the graph with a DequantizeLinear)");
        }

        if (_pads.ContainsKey(onnxName))
        {
            throw new CimcException("onnx-pad", $"graph output '{onnxName}'", "comes from a Pad, which cimc folds only into the Conv or AveragePool that reads it");
        }

        if (!_values.TryGetValue(onnxName, out string? name))
        {
            throw new CimcException("onnx-dangling-output", $"graph output '{onnxName}'", "is not produced by any node");
        }

        return (name, _types[name]);
    }

    /// <summary>Value names may hold '/', ':' and the like (PyTorch writes "/fc1/Gemm_output_0"); cimc keeps letters, digits, '_' and '.'.</summary>
    public static string Sanitize(string onnxName)
    {
        var sb = new StringBuilder(onnxName.Length);
        foreach (char c in onnxName)
        {
            bool keep = char.IsAsciiLetterOrDigit(c) || c is '_' or '.';
            if (keep)
            {
                sb.Append(c);
            }
            else if (sb.Length > 0 && sb[^1] != '_')
            {
                sb.Append('_');
            }
        }

        string s = sb.ToString().TrimEnd('_');
        return s.Length == 0 || char.IsAsciiDigit(s[0]) ? "v" + s : s;
    }

    private string NewValueName(string onnxName) => Unique(_irNames, Sanitize(onnxName));

    private static string Unique(HashSet<string> taken, string name)
    {
        string unique = name;
        for (int i = 1; !taken.Add(unique); i++)
        {
            unique = $"{name}_{i}";
        }

        return unique;
    }

    private bool IsConstant(string onnxName) => _constants.ContainsKey(onnxName) || _initializers.ContainsKey(onnxName);

    private OnnxConstant? TryConstant(string onnxName)
    {
        if (_constants.TryGetValue(onnxName, out OnnxConstant? c))
        {
            return c;
        }

        if (_initializers.TryGetValue(onnxName, out TensorProto? t))
        {
            // Decoded on first use, so an initializer nothing uses cannot fail the import.
            c = OnnxTensors.Read(t, $"initializer '{onnxName}'", _budget);
            _constants[onnxName] = c;
            return c;
        }

        return null;
    }

    private static bool HasInput(NodeProto node, int index) => node.Input.Count > index && node.Input[index].Length > 0;

    /// <summary>The computed (non-constant) value feeding input <paramref name="index"/>.</summary>
    private string Data(NodeProto node, int index)
    {
        if (!HasInput(node, index))
        {
            throw Problem(node, "onnx-missing-input", $"input {index} is missing");
        }

        string onnxName = node.Input[index];
        if (IsConstant(onnxName))
        {
            throw Problem(node, "onnx-constant-input", $"input '{onnxName}' is a constant; cimc needs this input to be computed from the graph input");
        }

        if (_pads.ContainsKey(onnxName))
        {
            throw Problem(node, "onnx-pad", $"input '{onnxName}' comes from a Pad, which cimc folds only into the Conv or AveragePool that reads it");
        }

        if (_quantized.ContainsKey(onnxName))
        {
            throw Problem(node, "onnx-quantized-input", $"input '{onnxName}' is quantized integers; cimc reads them only through a DequantizeLinear");
        }

        return _values[onnxName];
    }

    private OnnxConstant Constant(NodeProto node, int index, string role)
    {
        if (!HasInput(node, index))
        {
            throw Problem(node, "onnx-missing-input", $"the {role} (input {index}) is missing");
        }

        return TryConstant(node.Input[index])
            ?? throw Problem(node, "onnx-not-constant", $"the {role} '{node.Input[index]}' must be a constant (an initializer or a Constant node)");
    }

    /// <summary>Appends a cimc node for the ONNX node's first output.</summary>
    private void Emit(NodeProto onnx, Op op, string input) => EmitAll(onnx, op, [input]);

    /// <summary>Appends a cimc node reading several values (Add, Concat) for the ONNX node's first output.</summary>
    private void EmitAll(NodeProto onnx, Op op, string[] inputs)
    {
        string onnxOut = onnx.Output[0];
        string output = NewValueName(onnxOut);
        string name = Unique(_nodeNames, _name);
        var node = new Node(name, op, [.. inputs], [output]);
        try
        {
            _types[output] = ShapeInference.InferNode(node, [.. inputs.Select(i => _types[i])]);
        }
        catch (CimcException e)
        {
            // Point at the ONNX node the user knows ("node 'fc2' (Gemm, opset 13)"), not the cimc op.
            throw new CimcException(e.Diagnostic with { Location = _where });
        }

        _producer[output] = _nodes.Count;
        _irUses[output] = _onnxUses.GetValueOrDefault(onnxOut);
        _values[onnxOut] = output;
        _nodes.Add(node);
    }

    /// <summary>The ONNX node's output is the same cimc value as <paramref name="input"/> (a dropped node).</summary>
    private void Alias(NodeProto onnx, string input)
    {
        string onnxOut = onnx.Output[0];
        _values[onnxOut] = input;

        // The dropped node's use of the input is replaced by the uses of its output.
        _irUses[input] += _onnxUses.GetValueOrDefault(onnxOut) - 1;
    }

    /// <summary>A diagnostic located at the node being lowered.</summary>
    private CimcException Problem(NodeProto node, string code, string message) => new(code, _where, message);

    private static AttributeProto? Attribute(NodeProto node, string name) =>
        node.Attribute.FirstOrDefault(a => a.Name == name);

    private long Int(NodeProto node, string name, long fallback)
    {
        AttributeProto? a = Attribute(node, name);
        if (a is null)
        {
            return fallback;
        }

        return a.Type is AttributeProto.Types.AttributeType.Int or AttributeProto.Types.AttributeType.Undefined
            ? a.I
            : throw Problem(node, "onnx-attribute", $"attribute '{name}' should be an integer but is {a.Type}");
    }

    /// <summary>An integer attribute that must fit 32 bits (an axis): a file's out-of-range value is its mistake.</summary>
    private int Int32(NodeProto node, string name, long fallback)
    {
        long v = Int(node, name, fallback);
        return v is >= int.MinValue and <= int.MaxValue
            ? (int)v
            : throw Problem(node, "onnx-attribute", $"attribute '{name}' is {v}, out of range");
    }

    private float Float(NodeProto node, string name, float fallback)
    {
        AttributeProto? a = Attribute(node, name);
        if (a is null)
        {
            return fallback;
        }

        return a.Type is AttributeProto.Types.AttributeType.Float or AttributeProto.Types.AttributeType.Undefined
            ? a.F
            : throw Problem(node, "onnx-attribute", $"attribute '{name}' should be a float but is {a.Type}");
    }

    private void RequireSingleOutput(NodeProto node)
    {
        if (node.Output.Count == 0 || node.Output[0].Length == 0)
        {
            throw Problem(node, "onnx-missing-output", "the node has no output");
        }

        for (int i = 1; i < node.Output.Count; i++)
        {
            if (_onnxUses.GetValueOrDefault(node.Output[i]) > 0)
            {
                throw Problem(node, "onnx-extra-output", $"output {i} '{node.Output[i]}' is used, but cimc supports only the first output of this op");
            }
        }
    }

    private static ImmutableArray<long> Dims(params long[] dims) => [.. dims];
}
