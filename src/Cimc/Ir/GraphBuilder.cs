using System.Collections.Immutable;

namespace Cimc.Ir;

/// <summary>
/// Builds a chain graph one op at a time, naming values for the importers that read layer lists
/// (state_dict, whole modules, TorchScript).
/// </summary>
public sealed class GraphBuilder
{
    private readonly string _name;
    private readonly ValueInfo _input;
    private readonly ImmutableArray<Node>.Builder _nodes = ImmutableArray.CreateBuilder<Node>();
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private string _current;

    public GraphBuilder(string name, TensorType inputType, string inputName = "input")
    {
        _name = name;
        _input = new ValueInfo(inputName, inputType);
        _current = inputName;
        _names.Add(inputName);
    }

    /// <summary>Appends an op consuming the current value; returns the new value's name.</summary>
    public string Add(string nodeName, Op op)
    {
        string unique = nodeName;
        for (int i = 1; !_names.Add(unique); i++)
        {
            unique = $"{nodeName}_{i}";
        }

        _nodes.Add(new Node(unique, op, _current, unique));
        _current = unique;
        return unique;
    }

    public Graph Build(string outputName = "output")
    {
        Graph draft = new(_name, [_input], _nodes.ToImmutable(), []);
        TensorType outType = ShapeInference.Infer(draft)[_current];
        if (_nodes.Count == 0)
        {
            return draft with { Outputs = [new ValueInfo(_current, outType)] };
        }

        // Rename the last value so the graph's output has a stable name.
        ImmutableArray<Node> nodes = _nodes.ToImmutable();
        Node last = nodes[^1];
        if (!_names.Contains(outputName))
        {
            nodes = nodes.SetItem(nodes.Length - 1, last with { Outputs = [outputName] });
            return draft with { Nodes = nodes, Outputs = [new ValueInfo(outputName, outType)] };
        }

        return draft with { Outputs = [new ValueInfo(_current, outType)] };
    }
}
