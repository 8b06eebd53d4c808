using System.Collections.Immutable;

namespace Cimc.Ir;

/// <summary>A named value with its type: a graph input or output.</summary>
public sealed record ValueInfo(string Name, TensorType Type);

/// <summary>One operation applied to named values. Names are unique in a graph (SSA).</summary>
public sealed record Node(string Name, Op Op, ImmutableArray<string> Inputs, ImmutableArray<string> Outputs)
{
    public Node(string name, Op op, string input, string output)
        : this(name, op, [input], [output])
    {
    }

    public string Input => Inputs[0];

    public string Output => Outputs[0];
}

/// <summary>
/// The float graph: what the model computes, exactly as the file defined it. Nodes are in
/// topological order (importers sort them and refuse cycles). Immutable: passes build new graphs.
/// </summary>
public sealed record Graph(string Name, ImmutableArray<ValueInfo> Inputs, ImmutableArray<Node> Nodes, ImmutableArray<ValueInfo> Outputs)
{
    /// <summary>The dense layers in execution order.</summary>
    public IEnumerable<(Node Node, Dense Dense)> DenseLayers =>
        Nodes.Where(n => n.Op is Dense).Select(n => (n, (Dense)n.Op));

    public long ParameterCount =>
        DenseLayers.Sum(l => (long)l.Dense.Weight.Length + (l.Dense.Bias?.Length ?? 0));
}
