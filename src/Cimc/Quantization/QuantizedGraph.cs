using System.Collections.Immutable;
using Cimc.Ir;

namespace Cimc.Quantization;

/// <summary>
/// The shape of one sample's activation: Channels x Height x Width. A dense layer's vector is
/// C x 1 x 1. On the chip and in the golden model a map is held **pixel-major (HWC)**: the code of
/// channel c at (y, x) is element (y * Width + x) * Channels + c, so one pixel's channels are
/// contiguous and a window row of kw pixels is kw * Channels contiguous codes.
/// </summary>
public sealed record MapShape(int Channels, int Height, int Width)
{
    public int Pixels => Height * Width;

    /// <summary>Codes per sample.</summary>
    public int Size => Channels * Height * Width;

    /// <summary>Index of channel c at (y, x) in the HWC layout.</summary>
    public int IndexOf(int c, int y, int x) => (((y * Width) + x) * Channels) + c;

    public static MapShape Vector(int features) => new(features, 1, 1);

    public override string ToString() => $"{Channels}x{Height}x{Width}";
}

/// <summary>
/// How a convolution reads its input: the window (kernel, stride, padding, dilation) over an input
/// map. The convolution is the dense <see cref="QuantizedLayer"/> of its im2col matrix: row r of
/// that matrix (the layer's input index) is kernel position (kh, kw) and input channel c with
/// r = ((kh * KernelW) + kw) * InChannels + c, so InFeatures = KernelH * KernelW * InChannels; the
/// layer's output index is the output channel. For each output pixel (oy, ox) the layer's input
/// vector is the window's codes (iy = oy * StrideH - PadTop + kh * DilationH, likewise ix); a
/// position in the padding reads the input's zero point z_x (real zero). A grouped convolution
/// keeps the full matrix, with zero weights between groups.
/// </summary>
public sealed record ConvGeometry(MapShape Input, Window2d Window, int Group = 1)
{
    public int OutHeight => Window.OutputHeight(Input.Height);

    public int OutWidth => Window.OutputWidth(Input.Width);

    /// <summary>Rows of the im2col matrix: the layer's InFeatures.</summary>
    public int PatchSize => Window.KernelH * Window.KernelW * Input.Channels;

    /// <summary>im2col row of kernel position (kh, kw) and input channel c.</summary>
    public int RowOf(int kh, int kw, int c) => (((kh * Window.KernelW) + kw) * Input.Channels) + c;
}

/// <summary>
/// One node of a quantized network that is not a straight chain of dense layers (docs/quantization.md,
/// "Convolutional networks"). Nodes are in topological order; <see cref="Inputs"/> are indices of
/// earlier nodes, or <see cref="QuantizedGraph.NetworkInput"/> for the network input. Every node's
/// result is a map of unsigned codes with quantization <see cref="Output"/> (the last node's is the
/// network output; a last crossbar layer without activation gives accumulators instead, as in a chain).
/// </summary>
public abstract record QuantizedNode(string Name, ImmutableArray<int> Inputs, MapShape Shape, ActivationQuant Output);

/// <summary>
/// A crossbar layer: <see cref="QuantizedModel.Layers"/>[Layer], a dense layer when
/// <see cref="Conv"/> is null (its input the whole input map, flattened HWC), else a convolution
/// applied at every output pixel. Output = the layer's <see cref="QuantizedLayer.Output"/>.
/// </summary>
public sealed record LayerNode(string Name, ImmutableArray<int> Inputs, MapShape Shape, ActivationQuant Output, int Layer, ConvGeometry? Conv)
    : QuantizedNode(Name, Inputs, Shape, Output);

/// <summary>Max over each window, per channel, on the codes (exact: codes are monotone); padding never wins. Output = input quantization.</summary>
public sealed record MaxPoolNode(string Name, ImmutableArray<int> Inputs, MapShape Shape, ActivationQuant Output, Window2d Window)
    : QuantizedNode(Name, Inputs, Shape, Output);

/// <summary>
/// Mean over each window per channel (a global average pool is the window of the whole map), in the
/// integer domain: the sum of (u - z_x) over the window's counted cells, requantized to Output by
/// a multiplier per divisor. The exact formula is in docs/quantization.md.
/// </summary>
public sealed record AvgPoolNode(string Name, ImmutableArray<int> Inputs, MapShape Shape, ActivationQuant Output, Window2d Window, bool CountIncludePad)
    : QuantizedNode(Name, Inputs, Shape, Output);

/// <summary>
/// Elementwise sum of two maps of one shape (a residual connection) requantized to a common scale,
/// then an optional ReLU (Output's range starts at its zero point). The multipliers and the exact
/// formula are in docs/quantization.md.
/// </summary>
public sealed record AddNode(string Name, ImmutableArray<int> Inputs, MapShape Shape, ActivationQuant Output, FixedPoint ScaleA, FixedPoint ScaleB, bool Relu)
    : QuantizedNode(Name, Inputs, Shape, Output);

/// <summary>Joins maps along channels (HWC: per pixel, the inputs' channels in order); every input has quantization Output.</summary>
public sealed record ConcatNode(string Name, ImmutableArray<int> Inputs, MapShape Shape, ActivationQuant Output)
    : QuantizedNode(Name, Inputs, Shape, Output);

/// <summary>
/// The structure of a network with convolutions, pooling or residual connections: its crossbar
/// layers live in <see cref="QuantizedModel.Layers"/> (mapping, placement and replication see only
/// those), and the nodes say how maps flow between them. A Flatten is no node: a dense layer reads
/// its input map in HWC order and the quantizer permutes its weight columns from the file's CHW
/// flattening to match.
/// </summary>
public sealed record QuantizedGraph(MapShape InputShape, ImmutableArray<QuantizedNode> Nodes)
{
    /// <summary>The index that names the network input in <see cref="QuantizedNode.Inputs"/>.</summary>
    public const int NetworkInput = -1;

    public MapShape OutputShape => Nodes[^1].Shape;

    /// <summary>
    /// The network input's quantization (what the host quantizes the image with). Null means the
    /// first crossbar layer's input, which is the same whenever that layer reads the network input.
    /// </summary>
    public ActivationQuant? InputQuant { get; init; }

    /// <summary>The node that computes crossbar layer <paramref name="layer"/>.</summary>
    public LayerNode NodeOf(int layer) => Nodes.OfType<LayerNode>().Single(n => n.Layer == layer);
}
