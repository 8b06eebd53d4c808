using Cimc.Import.Torch.Pickle;
using Cimc.Ir;

namespace Cimc.Import.Torch.TorchScript;

/// <summary>
/// The builtins TorchScript code calls: torch ops (tensor ops in Interpreter.TensorOps.cs), the
/// scalar helpers scripted nn.functional bodies use, and the `prim` ops of the serializer.
/// One explicit table, so an unknown call is a diagnostic naming it.
/// </summary>
internal sealed partial class Interpreter
{
    private static readonly object Missing = new();

    private object? Builtin(string name, List<object?> args, Dictionary<string, object?> kw, int line)
    {
        object? Arg(int i, string key, object? fallback = null)
        {
            if (i < args.Count)
            {
                return args[i];
            }

            if (kw.TryGetValue(key, out object? v))
            {
                return v;
            }

            return fallback == Missing ? throw Unsupported(line, $"'{name}' is missing argument '{key}'") : fallback;
        }

        switch (name)
        {
            // Tensor ops on the activation.
            case "torch.linear":
                return Linear(Arg(0, "input", Missing), Arg(1, "weight", Missing), Arg(2, "bias"), line);
            case "torch.addmm":
                return Addmm(Arg(0, "self", Missing), Arg(1, "mat1", Missing), Arg(2, "mat2", Missing), Arg(3, "beta", 1L), Arg(4, "alpha", 1L), line);
            case "torch.matmul" or "torch.mm":
                return MatMul(Arg(0, "input", Missing), Arg(1, "other", Missing), line);
            case "torch.conv2d":
                return Convolution(Arg(0, "input", Missing), Arg(1, "weight", Missing), Arg(2, "bias"), Arg(3, "stride", 1L), Arg(4, "padding", 0L), Arg(5, "dilation", 1L), Arg(6, "groups", 1L), line);
            case "torch._convolution":
                if (Truth(Arg(6, "transposed", Missing), line))
                {
                    throw Unsupported(line, "a transposed convolution is not supported");
                }

                return Convolution(Arg(0, "input", Missing), Arg(1, "weight", Missing), Arg(2, "bias"), Arg(3, "stride", Missing), Arg(4, "padding", Missing), Arg(5, "dilation", Missing), Arg(8, "groups", Missing), line);
            case "torch.batch_norm":
                return BatchNorm(Arg(0, "input", Missing), Arg(1, "weight"), Arg(2, "bias"), Arg(3, "running_mean", Missing), Arg(4, "running_var", Missing), Arg(5, "training", Missing), Arg(7, "eps", Missing), line);
            case "torch.max_pool2d":
                return Pool(Arg(0, "input", Missing), max: true, Arg(1, "kernel_size", Missing), Arg(2, "stride", new List<object?>()), Arg(3, "padding", 0L), Arg(4, "dilation", 1L), Arg(5, "ceil_mode", false), null, null, line);
            case "torch.avg_pool2d":
                return Pool(Arg(0, "input", Missing), max: false, Arg(1, "kernel_size", Missing), Arg(2, "stride", new List<object?>()), Arg(3, "padding", 0L), 1L, Arg(4, "ceil_mode", false), Arg(5, "count_include_pad", true), Arg(6, "divisor_override"), line);
            case "torch.adaptive_avg_pool2d":
                return AdaptiveAvgPool(Arg(0, "input", Missing), Arg(1, "output_size", Missing), line);
            case "torch.cat":
                return Cat(Arg(0, "tensors", Missing), Arg(1, "dim", 0L), line);
            case "torch.hardtanh" or "torch.hardtanh_":
                return Hardtanh(Arg(0, "input", Missing), Arg(1, "min_val", -1.0), Arg(2, "max_val", 1.0), line);
            case "torch.len":
                return Items(Arg(0, "a", Missing)) is { } list ? (long)list.Count : throw Unsupported(line, "len of something that is not a list");
            case "torch.add" or "torch.add_":
                return Add(Arg(0, "input", Missing), Arg(1, "other", Missing), Number(Arg(2, "alpha", 1L), line), line);
            case "torch.relu" or "torch.relu_":
                return Apply(Arg(0, "input", Missing), new Relu(), "relu", line);
            case "torch.sigmoid" or "torch.sigmoid_":
                return Apply(Arg(0, "input", Missing), new Sigmoid(), "sigmoid", line);
            case "torch.tanh" or "torch.tanh_":
                return Apply(Arg(0, "input", Missing), new Tanh(), "tanh", line);
            case "torch.leaky_relu" or "torch.leaky_relu_":
                return Apply(Arg(0, "input", Missing), new LeakyRelu((float)Number(Arg(1, "negative_slope", 0.01), line)), "leaky_relu", line);
            case "torch.softmax":
                return Softmax(Arg(0, "input", Missing), Arg(1, "dim", Missing), Arg(2, "dtype"), line);
            case "torch.flatten":
                return Flatten(Arg(0, "input", Missing), Arg(1, "start_dim", 0L), Arg(2, "end_dim", -1L), line);
            case "torch.reshape" or "torch.view":
                return Reshape(Arg(0, "input", Missing), Arg(1, "shape", Missing), line);
            case "torch.dropout" or "torch.dropout_" or "torch.feature_dropout" or "torch.alpha_dropout"
                or "torch.contiguous" or "torch.detach" or "torch.clone":
                // Dropout is the identity at inference, whatever `training` says in the file.
                return Arg(0, "input", Missing);
            case "torch.t":
                return Transpose(Arg(0, "input", Missing), line);
            case "torch.transpose":
                return TransposeDims(Arg(0, "input", Missing), Arg(1, "dim0", Missing), Arg(2, "dim1", Missing), line);
            case "torch.permute":
                return Permute(Arg(0, "input", Missing), Arg(1, "dims", Missing), line);
            case "torch.size":
                return Size(Arg(0, "input", Missing), Arg(1, "dim"), line);
            case "torch.dim":
                return Arg(0, "input", Missing) switch
                {
                    Activation a => (long)a.Rank,
                    FloatTensor t => (long)t.Shape.Length,
                    var other => throw Unsupported(line, $"torch.dim of a {Describe(other)}"),
                };

            // Scalars and control helpers of scripted nn.functional code.
            case "torch.__is__":
                return Same(Arg(0, "a", Missing), Arg(1, "b", Missing));
            case "torch.__isnot__":
                return !Same(Arg(0, "a", Missing), Arg(1, "b", Missing));
            case "torch.__not__":
                return !Truth(Arg(0, "a", Missing), line);
            case "torch.eq" or "torch.ne" or "torch.lt" or "torch.gt" or "torch.le" or "torch.ge":
                return Compare(name[6..] switch { "eq" => "==", "ne" => "!=", "lt" => "<", "gt" => ">", "le" => "<=", _ => ">=" },
                    Arg(0, "a", Missing), Arg(1, "b", Missing), line);
            case "torch.warn":
                return null;
            case "torch.format":
                return Arg(0, "self", Missing) as string ?? "";
            case "int":
                return Arg(0, "x", Missing) switch
                {
                    long l => l,
                    double d => (long)d,
                    bool b => b ? 1L : 0L,
                    SymbolicInt s => s,
                    var other => throw Unsupported(line, $"int() of a {Describe(other)}"),
                };
            case "float":
                return Number(Arg(0, "x", Missing), line);
            case "bool":
                return Truth(Arg(0, "x", Missing), line);
            case "annotate" or "unchecked_cast":
                return Arg(1, "value", Missing);
            case "uninitialized":
                return new Uninitialized();
            case "getattr":
                return Arg(0, "obj", Missing) is PyObject obj && Arg(1, "name", Missing) is string attr
                    ? Member(obj, attr, line)
                    : throw Unsupported(line, "getattr needs a module and a string");
            case "ops.prim.NumToTensor" or "ops.prim.unchecked_unwrap_optional":
                return Arg(0, "a", Missing);
            case "ops.prim.RaiseException":
                throw Unsupported(line, $"the model raises an exception: {PickleText.Short(Arg(0, "msg", "?"))}");
            default:
                throw Unsupported(line, $"unsupported call '{name}'");
        }
    }

    private double Number(object? v, int line) => v switch
    {
        double d => d,
        long l => l,
        bool b => b ? 1 : 0,
        _ => throw Unsupported(line, $"expected a number, found a {Describe(v)}"),
    };
}
