namespace Cimc.Ir;

/// <summary>
/// A 2-D sliding window over an NCHW tensor, as ONNX Conv and the pooling ops describe it: kernel,
/// stride, zero padding on each side and dilation. <see cref="CeilMode"/> rounds the output size
/// up (pooling only), dropping a last window that would start in the end padding, as PyTorch and
/// ONNX Runtime do.
/// </summary>
public sealed record Window2d(int KernelH, int KernelW, int StrideH = 1, int StrideW = 1,
    int PadTop = 0, int PadLeft = 0, int PadBottom = 0, int PadRight = 0, int DilationH = 1, int DilationW = 1, bool CeilMode = false)
{
    /// <summary>Output height for an input of height <paramref name="h"/>, or <see cref="TensorType.Dynamic"/>; below 1 when no window fits.</summary>
    public int OutputHeight(int h) => Output(h, KernelH, StrideH, PadTop, PadBottom, DilationH);

    public int OutputWidth(int w) => Output(w, KernelW, StrideW, PadLeft, PadRight, DilationW);

    private int Output(int size, int kernel, int stride, int padBegin, int padEnd, int dilation)
    {
        if (size < 0)
        {
            return TensorType.Dynamic;
        }

        long span = ((long)dilation * (kernel - 1)) + 1;
        long room = size + (long)padBegin + padEnd - span;
        if (room < 0)
        {
            return 0;
        }

        long steps = CeilMode ? (room + stride - 1) / stride : room / stride;
        if (CeilMode && steps * stride >= size + (long)padBegin)
        {
            steps--;
        }

        return (int)Math.Min(int.MaxValue, steps + 1);
    }

    /// <summary>The attributes in the text form: "k=3x3, s=1x1, p=1,1,1,1, d=1x1".</summary>
    public override string ToString() =>
        $"k={KernelH}x{KernelW}, s={StrideH}x{StrideW}, p={PadTop},{PadLeft},{PadBottom},{PadRight}, d={DilationH}x{DilationW}{(CeilMode ? ", ceil" : "")}";
}

/// <summary>
/// 2-D convolution of an NCHW tensor: y[n, o] = sum over the window of W[o, c] * x[n, g*Cg + c] + b[o],
/// with Cg = InChannels / Group input channels per group. Weight is [out, in / group, kh, kw] as
/// in ONNX and PyTorch; bias, if any, is [out]. A batch norm after the convolution is folded into
/// the weight and bias at import. <see cref="Quantized"/> keeps a QDQ file's integer weights, one
/// row per output channel in the weight's [in / group, kh, kw] order (as a Dense keeps them).
/// </summary>
public sealed record Conv2d(FloatTensor Weight, FloatTensor? Bias, Window2d Window, int Group = 1, IntegerWeights? Quantized = null) : Op
{
    public override string Mnemonic => "conv2d";

    public int OutChannels => Weight.Shape[0];

    public int InChannels => Weight.Shape[1] * Group;

    /// <summary>Weights per output channel: (in / group) x kh x kw, one row of the im2col matrix.</summary>
    public int PatchSize => Weight.Shape[1] * Weight.Shape[2] * Weight.Shape[3];
}

/// <summary>Maximum over each window of an NCHW tensor; padding never wins.</summary>
public sealed record MaxPool2d(Window2d Window) : Op
{
    public override string Mnemonic => "max_pool2d";
}

/// <summary>
/// Mean over each window of an NCHW tensor. With <see cref="CountIncludePad"/> the padding counts
/// as zeros in the divisor (ONNX count_include_pad=1, PyTorch's default), else only input cells do.
/// </summary>
public sealed record AvgPool2d(Window2d Window, bool CountIncludePad) : Op
{
    public override string Mnemonic => "avg_pool2d";
}

/// <summary>Mean over all positions of each channel: [N, C, H, W] to [N, C, 1, 1] (ONNX GlobalAveragePool, AdaptiveAvgPool2d(1)).</summary>
public sealed record GlobalAvgPool : Op
{
    public override string Mnemonic => "global_avg_pool";
}

/// <summary>Elementwise sum of two tensors of one shape: a residual connection's `x + f(x)`.</summary>
public sealed record Add : Op
{
    public override string Mnemonic => "add";

    public override int? InputCount => 2;
}

/// <summary>Joins tensors along one axis (channels, for NCHW models); the other dimensions must agree.</summary>
public sealed record Concat(int Axis) : Op
{
    public override string Mnemonic => "concat";

    public override int? InputCount => null;
}
