using Cimc.Ir;

namespace Cimc.Import.Torch.TorchScript;

/// <summary>
/// The convolutional torch ops: conv2d (and the traced form _convolution), batch_norm folded into
/// the convolution or linear layer that produced its input, max/avg pooling, adaptive average
/// pooling to 1x1, cat and hardtanh (ReLU6). Sizes are constant lists, as nn modules write them.
/// </summary>
internal sealed partial class Interpreter
{
    private Activation Convolution(object? input, object? weight, object? bias, object? stride, object? padding, object? dilation, object? groups, int line)
    {
        if (weight is not FloatTensor { Shape.Length: 4 } w)
        {
            throw Unsupported(line, $"convolution with a weight that is a {Describe(weight)}; cimc imports 2-D convolutions with a constant [out, in/group, kh, kw] weight");
        }

        if (padding is string mode)
        {
            throw Unsupported(line, $"convolution with padding='{mode}'; cimc needs the padding as numbers");
        }

        (int sh, int sw) = Pair(stride, "stride", line);
        (int ph, int pw) = Pair(padding, "padding", line);
        (int dh, int dw) = Pair(dilation, "dilation", line);
        var window = new Window2d(w.Shape[2], w.Shape[3], sh, sw, ph, pw, ph, pw, dh, dw);
        return Emit(input, new Conv2d(w, BiasVector(bias, w.Shape[0], line), CheckWindow(window, line), (int)Number(groups, line)), "conv2d", line);
    }

    /// <summary>
    /// y = (x - mean) / sqrt(var + eps) * weight + bias, folded into the weights of the convolution
    /// or linear layer that computed x (a new node; the unfolded one is dropped if nothing else reads it).
    /// </summary>
    private Activation BatchNorm(object? input, object? weight, object? bias, object? mean, object? variance, object? training, object? eps, int line)
    {
        if (Truth(training, line))
        {
            throw Unsupported(line, "batch_norm in training mode; save the model after model.eval()");
        }

        if (input is not Activation a || _graph.Producer(a) is not { Op: Conv2d or Dense } producer)
        {
            throw Unsupported(line, "batch_norm of a tensor that no convolution or linear layer computed; cimc folds a batch norm into the layer before it");
        }

        int channels = BatchNormFold.Channels(producer.Op)!.Value;
        float[] m = PerChannel(mean, "running_mean", channels, line), v = PerChannel(variance, "running_var", channels, line);
        float[]? gamma = weight is null ? null : PerChannel(weight, "weight", channels, line);
        float[]? beta = bias is null ? null : PerChannel(bias, "bias", channels, line);
        return Refold(producer, BatchNormFold.Fold(producer.Op, m, v, gamma, beta, Number(eps, line)), a.Rank);
    }

    private float[] PerChannel(object? v, string role, int channels, int line) => v is FloatTensor { Shape.Length: 1 } t && t.Length == channels
        ? t.Span.ToArray()
        : throw Unsupported(line, $"batch_norm {role} is a {Describe(v)}, not {channels} values (one per channel)");

    /// <summary>max_pool2d / avg_pool2d: an empty stride means the kernel size.</summary>
    private Activation Pool(object? input, bool max, object? kernel, object? stride, object? padding, object? dilation, object? ceil, object? countPad, object? divisor, int line)
    {
        if (divisor is not null)
        {
            throw Unsupported(line, "avg_pool2d with divisor_override is not supported");
        }

        (int kh, int kw) = Pair(kernel, "kernel_size", line);
        (int sh, int sw) = Items(stride) is { Count: 0 } || stride is null ? (kh, kw) : Pair(stride, "stride", line);
        (int ph, int pw) = Pair(padding, "padding", line);
        (int dh, int dw) = Pair(dilation, "dilation", line);
        var window = CheckWindow(new Window2d(kh, kw, sh, sw, ph, pw, ph, pw, dh, dw, Truth(ceil, line)), line);
        return max
            ? Emit(input, new MaxPool2d(window), "max_pool2d", line)
            : Emit(input, new AvgPool2d(window, Truth(countPad, line)), "avg_pool2d", line);
    }

    private Activation AdaptiveAvgPool(object? input, object? size, int line)
    {
        bool one = size is 1L || (Items(size) is { Count: 2 } s && s[0] is 1L && s[1] is 1L);
        return one
            ? Emit(input, new GlobalAvgPool(), "adaptive_avg_pool2d", line)
            : throw Unsupported(line, $"adaptive_avg_pool2d to {Describe(size)}; cimc imports AdaptiveAvgPool2d(1), the global average");
    }

    private Activation Cat(object? tensors, object? dim, int line)
    {
        if (Items(tensors) is not { Count: > 0 } items || items.Any(t => t is not Activation) || dim is not long d)
        {
            throw Unsupported(line, "cat needs a list of computed tensors and a constant dim");
        }

        Activation[] parts = [.. items.Cast<Activation>()];
        return _graph.Add(NodeName("cat"), new Concat((int)d), parts, parts[0].Rank);
    }

    /// <summary>hardtanh(x, min, max): ReLU6 is hardtanh(x, 0, 6).</summary>
    private Activation Hardtanh(object? input, object? min, object? max, int line) =>
        Emit(input, new Clip((float)Number(min, line), (float)Number(max, line)), "hardtanh", line);

    /// <summary>A size written as one int or a pair, as nn modules pass kernel, stride, padding and dilation.</summary>
    private (int, int) Pair(object? v, string role, int line)
    {
        static bool Small(object? x, out int n)
        {
            n = x is long l && l is >= 0 and <= 1 << 20 ? (int)l : -1;
            return n >= 0;
        }

        if (Small(v, out int one))
        {
            return (one, one);
        }

        if (Items(v) is { } items && items.Count is 1 or 2 && Small(items[0], out int a) && Small(items[^1], out int b))
        {
            return (a, b);
        }

        throw Unsupported(line, $"{role} is a {Describe(v)}; cimc needs one or two constant sizes");
    }

    private Window2d CheckWindow(Window2d window, int line) =>
        ConvShapes.Check(window) is { } problem ? throw Unsupported(line, problem) : window;
}
