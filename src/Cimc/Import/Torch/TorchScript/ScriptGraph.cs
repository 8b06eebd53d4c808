using System.Collections.Immutable;
using Cimc.Diagnostics;
using Cimc.Ir;

namespace Cimc.Import.Torch.TorchScript;

/// <summary>
/// The graph a TorchScript `forward` builds as the interpreter runs it: each torch op on a
/// computed tensor appends a node reading the values it was given, so a tensor used twice (a
/// residual connection) simply has two readers. A fold (a bias add, a batch norm) appends a new
/// node in place of the one it folds into; nodes the output does not depend on are dropped at the
/// end. The input's shape comes from its readers: a PyTorch file never records it, so a dense
/// model takes [batch, in_features of the first linear layer] (a leading flatten then keeps its
/// meaning only for flat inputs), a convolutional one [batch, in_channels, ?, ?].
/// </summary>
internal sealed class ScriptGraph(string graphName, string location, int inputRank)
{
    public const string InputName = "input";

    private readonly List<Node> _nodes = [];
    private readonly Dictionary<string, int> _producer = new(StringComparer.Ordinal);
    private readonly HashSet<string> _names = new(StringComparer.Ordinal) { InputName };

    public Activation Input { get; } = new(InputName, inputRank);

    /// <summary>Appends a node computing <paramref name="op"/> of the given values.</summary>
    public Activation Add(string name, Op op, IReadOnlyList<Activation> inputs, int rank)
    {
        string unique = name;
        for (int i = 1; !_names.Add(unique); i++)
        {
            unique = $"{name}_{i}";
        }

        _producer[unique] = _nodes.Count;
        _nodes.Add(new Node(unique, op, [.. inputs.Select(a => a.Value)], [unique]));
        return new Activation(unique, rank);
    }

    /// <summary>The node that computed a value, or null for the graph input.</summary>
    public Node? Producer(Activation value) => _producer.TryGetValue(value.Value, out int at) ? _nodes[at] : null;

    public Graph Build(Activation result)
    {
        ImmutableArray<Node> live = LiveNodes(result.Value);
        Op? first = live.Select(n => n.Op).FirstOrDefault(op => op is Dense or Conv2d);
        if (first is null)
        {
            throw new CimcException("no-dense-layers", location, "the model has no linear or convolution layers; cimc maps those onto crossbars");
        }

        TensorType input = live.Any(n => n.Op is Conv2d)
            ? TensorType.Float(TensorType.Dynamic, FirstReader<Conv2d>(live)?.InChannels ?? TensorType.Dynamic, TensorType.Dynamic, TensorType.Dynamic)
            : TensorType.Float(TensorType.Dynamic, ((Dense)first).InFeatures);

        // The last value is renamed so that the graph's output has a stable name.
        string output = result.Value;
        if (live.Length > 0 && live[^1].Output == output && !_names.Contains("output"))
        {
            live = live.SetItem(live.Length - 1, live[^1] with { Outputs = ["output"] });
            output = "output";
        }

        Graph draft = new(graphName, [new ValueInfo(InputName, input)], live, []);
        TensorType outType;
        try
        {
            outType = ShapeInference.Infer(draft)[output];
        }
        catch (CimcException e)
        {
            throw new CimcException(e.Diagnostic with { Location = $"{location}: {e.Diagnostic.Location}" });
        }

        return GraphVerifier.EnsureValid(draft with { Outputs = [new ValueInfo(output, outType)] });
    }

    /// <summary>The first op of a kind that reads the graph input directly.</summary>
    private T? FirstReader<T>(ImmutableArray<Node> live)
        where T : Op => live.Where(n => n.Inputs.Contains(InputName)).Select(n => n.Op).OfType<T>().FirstOrDefault();

    /// <summary>Nodes the result depends on, in the order they ran.</summary>
    private ImmutableArray<Node> LiveNodes(string result)
    {
        var needed = new HashSet<string>(StringComparer.Ordinal) { result };
        var live = new List<Node>();
        for (int i = _nodes.Count - 1; i >= 0; i--)
        {
            if (needed.Contains(_nodes[i].Output))
            {
                live.Add(_nodes[i]);
                needed.UnionWith(_nodes[i].Inputs);
            }
        }

        live.Reverse();
        return [.. live];
    }
}
