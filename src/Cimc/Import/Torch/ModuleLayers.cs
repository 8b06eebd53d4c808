using Cimc.Diagnostics;
using Cimc.Import.Torch.Pickle;
using Cimc.Ir;

namespace Cimc.Import.Torch;

/// <summary>
/// The NCHW layers of a whole-module file: Conv2d, BatchNorm2d (folded into the convolution before
/// it), MaxPool2d, AvgPool2d and AdaptiveAvgPool2d(1), read from their attributes as torch.save
/// wrote them (sizes are an int or a tuple of two).
/// </summary>
internal static class ModuleLayers
{
    public static Conv2d Conv(TorchFile file, PyObject module, string name, string where)
    {
        if (module.Attribute("_parameters") is not PyDict p || !p.TryGet("weight", out object? w) || w is not TorchTensor { Rank: 4 } weight)
        {
            throw new CimcException("bad-module", where, "Conv2d has no 4-D weight parameter");
        }

        if (module.Attribute("padding_mode") is string mode && mode != "zeros")
        {
            throw new CimcException("unsupported-layer", where, $"padding_mode '{mode}' is not supported; cimc pads with zeros");
        }

        if (module.Attribute("padding") is string padding)
        {
            throw new CimcException("unsupported-layer", where, $"padding='{padding}' is not supported; give the padding as numbers");
        }

        FloatTensor? bias = p.TryGet("bias", out object? b) && b is TorchTensor bt ? file.ReadTensor(bt, $"{name}.bias") : null;
        FloatTensor kernel = file.ReadTensor(weight, $"{name}.weight");
        (int sh, int sw) = Pair(module, "stride", 1, where);
        (int ph, int pw) = Pair(module, "padding", 0, where);
        (int dh, int dw) = Pair(module, "dilation", 1, where);
        var window = new Window2d(kernel.Shape[2], kernel.Shape[3], sh, sw, ph, pw, ph, pw, dh, dw);
        int groups = module.Attribute("groups") is long g ? (int)Math.Clamp(g, 0, int.MaxValue) : 1;
        return new Conv2d(kernel, bias, Checked(window, where), groups);
    }

    /// <summary>The layer before a BatchNorm2d with the batch norm folded in.</summary>
    public static Op FoldBatchNorm(TorchFile file, PyObject module, LayerChain chain, string name, string where)
    {
        if (chain.Count == 0 || BatchNormFold.Channels(chain.Layers[^1].Op) is not { } channels)
        {
            throw new CimcException("unsupported-layer", where, "a BatchNorm2d is supported only right after a Conv2d or Linear (it is folded into its weights)");
        }

        float[]? Tensor(string dict, string key, bool required)
        {
            if (module.Attribute(dict) is PyDict d && d.TryGet(key, out object? v) && v is TorchTensor t)
            {
                FloatTensor f = file.ReadTensor(t, $"{name}.{key}");
                return f.Length == channels ? f.Span.ToArray()
                    : throw new CimcException("bad-module", where, $"{key} has {f.Length} values for {channels} channels");
            }

            return required ? throw new CimcException("unsupported-layer", where, $"BatchNorm2d has no {key} (track_running_stats=False?); cimc folds running statistics") : null;
        }

        float[] mean = Tensor("_buffers", "running_mean", true)!, variance = Tensor("_buffers", "running_var", true)!;
        double eps = module.Attribute("eps") is double e ? e : 1e-5;
        return BatchNormFold.Fold(chain.Layers[^1].Op, mean, variance, Tensor("_parameters", "weight", false), Tensor("_parameters", "bias", false), eps);
    }

    public static Op Pool(PyObject module, string where)
    {
        if (module.ClassName.EndsWith("AdaptiveAvgPool2d", StringComparison.Ordinal))
        {
            object? size = module.Attribute("output_size");
            bool one = size is 1L || (size is PyTuple { Count: 2 } t && t[0] is 1L && t[1] is 1L);
            return one ? new GlobalAvgPool()
                : throw new CimcException("unsupported-layer", where, $"AdaptiveAvgPool2d({PickleText.Short(size)}) is not supported; only AdaptiveAvgPool2d(1), the global average");
        }

        if (module.Attribute("return_indices") is true || module.Attribute("divisor_override") is long)
        {
            throw new CimcException("unsupported-layer", where, "return_indices and divisor_override are not supported");
        }

        (int kh, int kw) = Pair(module, "kernel_size", -1, where);
        (int sh, int sw) = module.Attribute("stride") is null ? (kh, kw) : Pair(module, "stride", 1, where);
        (int ph, int pw) = Pair(module, "padding", 0, where);
        bool max = module.ClassName.EndsWith("MaxPool2d", StringComparison.Ordinal);
        (int dh, int dw) = max ? Pair(module, "dilation", 1, where) : (1, 1);
        var window = Checked(new Window2d(kh, kw, sh, sw, ph, pw, ph, pw, dh, dw, module.Attribute("ceil_mode") is true), where);
        return max ? new MaxPool2d(window) : new AvgPool2d(window, module.Attribute("count_include_pad") is not false);
    }

    private static (int, int) Pair(PyObject module, string key, int fallback, string where)
    {
        static int Size(object? v) => v is long l && l is >= 0 and <= 1 << 20 ? (int)l : -1;
        object? value = module.Attribute(key);
        (int a, int b) = value switch
        {
            null => (fallback, fallback),
            long => (Size(value), Size(value)),
            PyTuple { Count: 2 } t => (Size(t[0]), Size(t[1])),
            _ => (-1, -1),
        };
        return a >= 0 && b >= 0 ? (a, b)
            : throw new CimcException("bad-module", where, $"{key} is {PickleText.Short(value)}, not one or two sizes");
    }

    private static Window2d Checked(Window2d window, string where) =>
        ConvShapes.Check(window) is { } problem ? throw new CimcException("bad-module", where, problem) : window;
}
