using System.Collections.Immutable;
using Cimc.Ir;

namespace Cimc.Import.Torch.TorchScript;

/// <summary>
/// Torch ops on computed tensors become graph nodes; on constant tensors only the reshaping of
/// weights (transpose, permute) is evaluated.
/// </summary>
internal sealed partial class Interpreter
{
    private Activation Emit(object? input, Op op, string hint, int line, int? rank = null)
    {
        if (input is not Activation a)
        {
            throw Unsupported(line, $"'{hint}' applied to a {Describe(input)}; cimc only maps ops on the model input's data path");
        }

        return _graph.Add(NodeName(hint), op, [a], rank ?? a.Rank);
    }

    /// <summary>Nodes are named after the module that ran them ("fc1", "layer1.conv2"), else the op.</summary>
    private string NodeName(string hint) => _module.Length > 0 ? _module : hint;

    private Activation Apply(object? input, Op op, string hint, int line) => Emit(input, op, hint, line);

    private Activation Linear(object? input, object? weight, object? bias, int line)
    {
        if (weight is not FloatTensor { Shape.Length: 2 } w)
        {
            throw Unsupported(line, $"linear with a weight that is a {Describe(weight)}, not a constant matrix");
        }

        return Emit(input, new Dense(w, BiasVector(bias, w.Shape[0], line)), "linear", line);
    }

    private Activation Addmm(object? bias, object? input, object? matrix, object? beta, object? alpha, int line)
    {
        if (matrix is not FloatTensor { Shape.Length: 2 } m)
        {
            throw Unsupported(line, $"addmm with a {Describe(matrix)} as its matrix");
        }

        FloatTensor weight = m.Transpose().Scale((float)Number(alpha, line));
        FloatTensor? b = BiasVector(bias, weight.Shape[0], line)?.Scale((float)Number(beta, line));
        return Emit(input, new Dense(weight, b), "addmm", line);
    }

    /// <summary>x @ W with W stored [in, out]: a dense layer without bias (an add may follow).</summary>
    private Activation MatMul(object? input, object? other, int line)
    {
        if (other is not FloatTensor { Shape.Length: 2 } w)
        {
            throw Unsupported(line, $"matmul of a {Describe(input)} by a {Describe(other)}; cimc maps input @ constant matrix");
        }

        return Emit(input, new Dense(w.Transpose(), null), "matmul", line);
    }

    /// <summary>Adds a constant vector to the output of the dense layer that just ran: its bias.</summary>
    private object? Add(object? left, object? right, double alpha, int line)
    {
        if (left is long or double && right is long or double)
        {
            return Arithmetic("+", left, alpha == 1 ? right : Arithmetic("*", right, alpha, line), line);
        }

        if (left is Activation x && right is Activation y)
        {
            if (alpha != 1)
            {
                throw Unsupported(line, $"adding two computed tensors with alpha={alpha}; cimc adds them as they are");
            }

            return _graph.Add(NodeName("add"), new Ir.Add(), [x, y], Math.Max(x.Rank, y.Rank));
        }

        (object? act, object? constant, double scale) = left is Activation ? (left, right, alpha) : right is Activation && alpha == 1 ? (right, left, 1.0) : (null, null, 0);
        if (act is not Activation a || constant is not FloatTensor c)
        {
            throw Unsupported(line, $"adding a {Describe(left)} and a {Describe(right)}; cimc maps only a bias added after a matrix product");
        }

        if (_graph.Producer(a) is not { Op: Dense d } producer)
        {
            throw Unsupported(line, "adding a constant that is not the bias of the preceding matrix product");
        }

        FloatTensor b = BiasVector(c, d.OutFeatures, line)!.Scale((float)scale);
        if (d.Bias is { } old)
        {
            float[] sum = new float[b.Length];
            for (int i = 0; i < sum.Length; i++)
            {
                sum[i] = old[i] + b[i];
            }

            b = FloatTensor.Vector(sum);
        }

        return Refold(producer, d with { Bias = b }, a.Rank);
    }

    /// <summary>
    /// A new node computing <paramref name="op"/> (the producer's op with something folded in) from
    /// the producer's inputs; the producer is dropped at the end if nothing else reads it.
    /// </summary>
    private Activation Refold(Node producer, Op op, int rank) =>
        _graph.Add(producer.Name, op, [.. producer.Inputs.Select(v => new Activation(v, rank))], rank);

    private FloatTensor? BiasVector(object? bias, int outFeatures, int line)
    {
        switch (bias)
        {
            case null:
                return null;
            case FloatTensor t when t.Length == outFeatures && (t.Shape.Length == 1 || (t.Shape.Length == 2 && t.Shape[0] == 1)):
                return t.Shape.Length == 1 ? t : FloatTensor.Vector(t.Span.ToArray());
            case FloatTensor t:
                throw Unsupported(line, $"bias of shape [{string.Join(", ", t.Shape)}] for a layer with {outFeatures} outputs");
            default:
                throw Unsupported(line, $"bias is a {Describe(bias)}, not a constant tensor");
        }
    }

    private Activation Softmax(object? input, object? dim, object? dtype, int line)
    {
        if (dim is not long d || dtype is not null)
        {
            throw Unsupported(line, "softmax needs a constant dim and no dtype");
        }

        return Emit(input, new Softmax((int)d), "softmax", line);
    }

    /// <summary>Only torch.flatten(x, 1) (all but the batch) matches the IR's ONNX-style Flatten.</summary>
    private Activation Flatten(object? input, object? start, object? end, int line)
    {
        int rank = input is Activation a ? a.Rank : 0;
        if (start is not long s || end is not long e)
        {
            throw Unsupported(line, "flatten needs constant dims");
        }

        long s0 = s < 0 ? s + rank : s, e0 = e < 0 ? e + rank : e;
        if (s0 != 1 || e0 != rank - 1)
        {
            throw Unsupported(line, $"flatten(start_dim={s}, end_dim={e}); cimc supports flattening all but the batch dimension");
        }

        return Emit(input, new Flatten(1), "flatten", line, rank: 2);
    }

    private Activation Reshape(object? input, object? shape, int line)
    {
        if (Items(shape) is not { } items)
        {
            throw Unsupported(line, "reshape needs a constant shape list");
        }

        var dims = ImmutableArray.CreateBuilder<long>(items.Count);
        for (int i = 0; i < items.Count; i++)
        {
            dims.Add(items[i] switch
            {
                // The batch size read from the input: ONNX-style 0 copies the input's dimension.
                SymbolicInt { IsBatch: true } when i == 0 => 0,
                long l when l > 0 || l == -1 => l,
                var other => throw Unsupported(line, $"reshape dimension {i} is a {Describe(other)}"),
            });
        }

        return Emit(input, new Reshape(dims.MoveToImmutable()), "reshape", line, rank: items.Count);
    }

    private object Size(object? input, object? dim, int line)
    {
        if (dim is null && input is Activation whole)
        {
            // size() of a computed tensor: only the rank is known (and that the first entry is the batch).
            return Enumerable.Range(0, whole.Rank).Select(i => (object?)new SymbolicInt(IsBatch: i == 0)).ToList();
        }

        if (input is FloatTensor t && dim is long k && k >= -t.Shape.Length && k < t.Shape.Length)
        {
            return (long)t.Shape[(int)(k < 0 ? k + t.Shape.Length : k)];
        }

        if (input is Activation a && dim is long d)
        {
            return new SymbolicInt(IsBatch: d == 0 || d == -a.Rank);
        }

        throw Unsupported(line, $"size of a {Describe(input)}");
    }

    private FloatTensor Transpose(object? input, int line) => input switch
    {
        FloatTensor { Shape.Length: 2 } t => t.Transpose(),
        FloatTensor { Shape.Length: < 2 } t => t,
        _ => throw Unsupported(line, $"transposing a {Describe(input)}; cimc transposes constant matrices only"),
    };

    private FloatTensor TransposeDims(object? input, object? dim0, object? dim1, int line)
    {
        if (input is FloatTensor { Shape.Length: 2 } t && dim0 is long a && dim1 is long b)
        {
            return ((a + 2) % 2) == ((b + 2) % 2) ? t : t.Transpose();
        }

        throw Unsupported(line, $"transposing a {Describe(input)}; cimc transposes constant matrices only");
    }

    private FloatTensor Permute(object? input, object? dims, int line)
    {
        if (input is FloatTensor { Shape.Length: 2 } t && Items(dims) is [long a, long b])
        {
            return (a, b) is (1, 0) or (-1, 0) or (1, -2) or (-1, -2) ? t.Transpose() : t;
        }

        throw Unsupported(line, $"permuting a {Describe(input)}; cimc permutes constant matrices only");
    }
}
