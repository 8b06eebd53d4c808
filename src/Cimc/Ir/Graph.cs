using System.Collections.Immutable;

namespace Cimc.Ir;

/// <summary>A named value with its type: a graph input or output.</summary>
public sealed record ValueInfo(string Name, TensorType Type);

/// <summary>
/// One operation applied to named values. Names are unique in a graph (SSA); a value may feed
/// several nodes (the graph is a DAG: a residual connection reads a value twice).
/// </summary>
public sealed record Node(string Name, Op Op, ImmutableArray<string> Inputs, ImmutableArray<string> Outputs)
{
    public Node(string name, Op op, string input, string output)
        : this(name, op, [input], [output])
    {
    }

    /// <summary>The first input (the only one for all ops but Add and Concat).</summary>
    public string Input => Inputs[0];

    public string Output => Outputs[0];
}

/// <summary>
/// The float graph: what the model computes, exactly as the file defined it. A DAG whose nodes are
/// in topological order (importers sort them and refuse cycles). Immutable: passes build new graphs.
/// </summary>
public sealed record Graph(string Name, ImmutableArray<ValueInfo> Inputs, ImmutableArray<Node> Nodes, ImmutableArray<ValueInfo> Outputs)
{
    /// <summary>The dense layers in execution order.</summary>
    public IEnumerable<(Node Node, Dense Dense)> DenseLayers =>
        Nodes.Where(n => n.Op is Dense).Select(n => (n, (Dense)n.Op));

    /// <summary>The convolutions in execution order.</summary>
    public IEnumerable<(Node Node, Conv2d Conv)> ConvLayers =>
        Nodes.Where(n => n.Op is Conv2d).Select(n => (n, (Conv2d)n.Op));

    public long ParameterCount =>
        DenseLayers.Sum(l => (long)l.Dense.Weight.Length + (l.Dense.Bias?.Length ?? 0))
        + ConvLayers.Sum(l => (long)l.Conv.Weight.Length + (l.Conv.Bias?.Length ?? 0));
}
