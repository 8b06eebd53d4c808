using System.Collections.Immutable;
using Cimc.Diagnostics;

namespace Cimc.Ir;

/// <summary>
/// Computes the type of every value in a graph from its inputs. A mismatch (a Dense layer fed the
/// wrong number of features, a Reshape that cannot hold the data) is a diagnostic naming the node.
/// </summary>
public static class ShapeInference
{
    /// <summary>Types of all values, or throws <see cref="CimcException"/> on the first problem.</summary>
    public static IReadOnlyDictionary<string, TensorType> Infer(Graph graph)
    {
        var types = new Dictionary<string, TensorType>(StringComparer.Ordinal);
        foreach (ValueInfo input in graph.Inputs)
        {
            types[input.Name] = input.Type;
        }

        foreach (Node node in graph.Nodes)
        {
            var inputs = new TensorType[node.Inputs.Length];
            for (int i = 0; i < inputs.Length; i++)
            {
                if (!types.TryGetValue(node.Inputs[i], out TensorType? inputType))
                {
                    throw new CimcException("undefined-value", Where(node), $"input '{node.Inputs[i]}' is not defined before this node");
                }

                inputs[i] = inputType;
            }

            types[node.Output] = InferNode(node, inputs);
        }

        return types;
    }

    /// <summary>The output type of a node with one input.</summary>
    public static TensorType InferNode(Node node, TensorType input) => InferNode(node, [input]);

    /// <summary>The output type of a node from its inputs' types.</summary>
    public static TensorType InferNode(Node node, IReadOnlyList<TensorType> inputs)
    {
        if (node.Op.InputCount is { } count ? inputs.Count != count : inputs.Count == 0)
        {
            throw new CimcException("bad-arity", Where(node), $"has {inputs.Count} inputs; {node.Op.Mnemonic} takes {node.Op.InputCount?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "one or more"}");
        }

        TensorType input = inputs[0];
        return node.Op switch
        {
            Dense dense => InferDense(node, dense, input),
            Relu or LeakyRelu or Sigmoid or Tanh or Identity or FakeQuant or Clip => input,
            Softmax softmax => CheckAxis(node, softmax.Axis, input.Rank) is var _ ? input : input,
            LogSoftmax softmax => CheckAxis(node, softmax.Axis, input.Rank) is var _ ? input : input,
            Flatten flatten => InferFlatten(node, flatten, input),
            Reshape reshape => InferReshape(node, reshape, input),
            Conv2d conv => ConvShapes.Conv(node, conv, input),
            MaxPool2d pool => ConvShapes.Pool(node, pool.Window, input),
            AvgPool2d pool => ConvShapes.Pool(node, pool.Window, input),
            GlobalAvgPool => ConvShapes.GlobalPool(node, input),
            Add => ConvShapes.Add(node, inputs[0], inputs[1]),
            Concat concat => ConvShapes.Concat(node, concat, inputs),
            _ => throw new InvalidOperationException($"shape inference has no case for {node.Op.GetType().Name}"),
        };
    }

    internal static string Where(Node node) => $"node '{node.Name}' ({node.Op.Mnemonic})";

    private static TensorType InferDense(Node node, Dense dense, TensorType input)
    {
        if (input.Rank < 1)
        {
            throw new CimcException("shape-mismatch", Where(node), "a dense layer needs an input with at least one dimension");
        }

        if (dense.InFeatures == 0 || dense.OutFeatures == 0)
        {
            throw new CimcException("empty-layer", Where(node),
                $"the weight of shape [{dense.OutFeatures}, {dense.InFeatures}] (out, in) has no values; a layer needs at least one input and one output");
        }

        int last = input.Dims[^1];
        if (last >= 0 && last != dense.InFeatures)
        {
            throw new CimcException("shape-mismatch", Where(node),
                $"input {input} has {last} features but the weight expects {dense.InFeatures}");
        }

        if (dense.Bias is { } bias && bias.Length != dense.OutFeatures)
        {
            throw new CimcException("shape-mismatch", Where(node),
                $"bias has {bias.Length} values but the layer has {dense.OutFeatures} outputs");
        }

        return input with { Element = ElementType.Float32, Dims = input.Dims.SetItem(input.Rank - 1, dense.OutFeatures) };
    }

    private static int CheckAxis(Node node, int axis, int rank)
    {
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= Math.Max(rank, 1))
        {
            throw new CimcException("bad-axis", Where(node), $"axis {axis} is out of range for rank {rank}");
        }

        return a;
    }

    private static TensorType InferFlatten(Node node, Flatten flatten, TensorType input)
    {
        int axis = flatten.Axis < 0 ? flatten.Axis + input.Rank : flatten.Axis;
        if (axis < 0 || axis > input.Rank)
        {
            throw new CimcException("bad-axis", Where(node), $"flatten axis {flatten.Axis} is out of range for rank {input.Rank}");
        }

        int Product(int from, int to)
        {
            long p = 1;
            for (int i = from; i < to; i++)
            {
                if (input.Dims[i] < 0)
                {
                    return TensorType.Dynamic;
                }

                p *= input.Dims[i];
            }

            return checked((int)p);
        }

        return input with { Dims = [Product(0, axis), Product(axis, input.Rank)] };
    }

    private static TensorType InferReshape(Node node, Reshape reshape, TensorType input)
    {
        var dims = new int[reshape.Shape.Length];
        int inferAt = -1;
        long known = 1;
        bool unknown = false;
        for (int i = 0; i < dims.Length; i++)
        {
            long s = reshape.Shape[i];
            if (s == -1)
            {
                if (inferAt >= 0)
                {
                    throw new CimcException("bad-reshape", Where(node), "more than one dimension is -1");
                }

                inferAt = i;
                continue;
            }

            if (s == 0)
            {
                if (i >= input.Rank)
                {
                    throw new CimcException("bad-reshape", Where(node), $"dimension {i} is 0 but the input has rank {input.Rank}");
                }

                dims[i] = input.Dims[i];
            }
            else if (s > 0 && s <= int.MaxValue)
            {
                dims[i] = (int)s;
            }
            else
            {
                throw new CimcException("bad-reshape", Where(node), $"invalid dimension {s}");
            }

            if (dims[i] < 0)
            {
                unknown = true;
            }
            else
            {
                known *= dims[i];
            }
        }

        long? total = input.ElementsFrom(0);
        if (inferAt >= 0)
        {
            if (total is { } t && !unknown)
            {
                if (known == 0 || t % known != 0)
                {
                    throw new CimcException("bad-reshape", Where(node), $"cannot reshape {input} to [{string.Join(",", reshape.Shape)}]");
                }

                dims[inferAt] = checked((int)(t / known));
            }
            else
            {
                // The batch is dynamic: the -1 takes it, provided the known part divides the per-sample size.
                dims[inferAt] = TensorType.Dynamic;
            }
        }
        else if (total is { } t && !unknown && t != known)
        {
            throw new CimcException("bad-reshape", Where(node), $"cannot reshape {input} to [{string.Join(",", reshape.Shape)}]");
        }

        return input with { Dims = [.. dims] };
    }
}
