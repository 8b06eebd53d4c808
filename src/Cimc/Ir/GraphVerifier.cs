using System.Collections.Immutable;
using Cimc.Diagnostics;

namespace Cimc.Ir;

/// <summary>
/// Checks that a graph is well formed: unique value names, every input defined before use (which
/// also rules out cycles), each node with as many inputs as its op takes and one output, graph
/// outputs produced, shapes consistent. Reports problems as diagnostics rather than throwing, so tests can list them all.
/// </summary>
public static class GraphVerifier
{
    public static ImmutableArray<Diagnostic> Verify(Graph graph)
    {
        var problems = ImmutableArray.CreateBuilder<Diagnostic>();
        var defined = new HashSet<string>(StringComparer.Ordinal);
        foreach (ValueInfo input in graph.Inputs)
        {
            if (!defined.Add(input.Name))
            {
                problems.Add(new Diagnostic("duplicate-value", $"graph input '{input.Name}'", "is defined twice"));
            }
        }

        foreach (Node node in graph.Nodes)
        {
            string where = $"node '{node.Name}' ({node.Op.Mnemonic})";
            bool arity = node.Op.InputCount is { } count ? node.Inputs.Length == count : node.Inputs.Length >= 1;
            if (!arity || node.Outputs.Length != 1)
            {
                string inputs = node.Op.InputCount is { } n ? n.ToString(System.Globalization.CultureInfo.InvariantCulture) : "one or more";
                problems.Add(new Diagnostic("bad-arity", where, $"has {node.Inputs.Length} inputs and {node.Outputs.Length} outputs; expected {inputs} and one"));
                continue;
            }

            foreach (string input in node.Inputs)
            {
                if (!defined.Contains(input))
                {
                    problems.Add(new Diagnostic("undefined-value", where, $"input '{input}' is not defined before this node"));
                }
            }

            if (!defined.Add(node.Output))
            {
                problems.Add(new Diagnostic("duplicate-value", where, $"output '{node.Output}' is defined twice"));
            }
        }

        foreach (ValueInfo output in graph.Outputs)
        {
            if (!defined.Contains(output.Name))
            {
                problems.Add(new Diagnostic("undefined-value", $"graph output '{output.Name}'", "is not produced by any node"));
            }
        }

        if (problems.Count == 0)
        {
            try
            {
                IReadOnlyDictionary<string, TensorType> types = ShapeInference.Infer(graph);
                foreach (ValueInfo output in graph.Outputs)
                {
                    TensorType inferred = types[output.Name];
                    if (inferred.Rank != output.Type.Rank)
                    {
                        problems.Add(new Diagnostic("shape-mismatch", $"graph output '{output.Name}'",
                            $"declared {output.Type} but computes {inferred}"));
                    }
                }
            }
            catch (CimcException e)
            {
                problems.Add(e.Diagnostic);
            }
        }

        return problems.ToImmutable();
    }

    /// <summary>Throws the first problem found, for callers that cannot continue with a bad graph.</summary>
    public static Graph EnsureValid(Graph graph)
    {
        ImmutableArray<Diagnostic> problems = Verify(graph);
        if (!problems.IsEmpty)
        {
            throw new CimcException(problems[0]);
        }

        return graph;
    }
}
