using System.Collections.Immutable;
using Cimc.Ir;
using Cimc.Quantization;
using CsCheck;

namespace Cimc.Tests.Golden;

/// <summary>
/// A random quantized convolutional network: the structure and every integer follow from
/// <see cref="Seed"/>; the rest is how it is quantized and which crossbars run it.
/// </summary>
public sealed record GraphCase(
    int Seed,
    int WeightBits,
    int ActivationBits,
    Granularity Granularity,
    SignedWeightEncoding Encoding,
    int Rows,
    int Cols,
    int CellBits,
    int DacBits)
{
    public override string ToString() =>
        $"seed {Seed}, w{WeightBits} a{ActivationBits} {Granularity} {Encoding}, R {Rows} C {Cols} c {CellBits} d {DacBits}";

    /// <summary>The network (built anew on each call; deterministic).</summary>
    public QuantizedModel Model => RandomGraphs.Build(this);

    /// <summary>Crossbars whose ADC never saturates: they must give the ideal accumulators.</summary>
    public CrossbarParams NonSaturating => new(Rows, Cols, CellBits, DacBits, CrossbarParams.NonSaturatingAdcBits(Rows, CellBits, DacBits));

    /// <summary>Random input codes for sample <paramref name="sample"/> of <paramref name="model"/>.</summary>
    public long[] Input(QuantizedModel model, int sample)
    {
        var rng = new Random(HashCode.Combine(Seed, sample));
        ActivationQuant q = GoldenGraph.InputQuant(model);
        return [.. Enumerable.Range(0, model.Graph!.InputShape.Size).Select(_ => rng.NextInt64(q.Max + 1))];
    }
}

/// <summary>
/// Random valid quantized graphs for the golden model and the code generator: convolutions
/// (kernel 1-5, stride 1-2, padding 0-2 per side, dilation sometimes, 1-64 channels, mostly few),
/// max, average and global average pools, residual adds with and without ReLU, concats whose
/// producers share one quantization, and a final dense layer over the flattened map. Maps stay
/// small (at most 10 x 10) and every layer under ~20 k multiply-adds per sample so tests stay fast.
/// The integers are drawn directly (no float model), with scales chosen so that codes spread
/// over their range rather than sit at a clamp.
/// </summary>
public static class RandomGraphs
{
    public static Gen<GraphCase> Cases(int minBits = 2, int maxBits = 8) =>
        from seed in Gen.Int[0, 1_000_000]
        from wb in Gen.Int[minBits, maxBits]
        from ab in Gen.Int[minBits, maxBits]
        from perChannel in Gen.Bool
        from encoding in Gen.Int[0, 2]
        from rows in Gen.Int[1, 40]
        from cols in Gen.Int[1, 16]
        from c in Gen.Int[1, 4]
        from d in Gen.Int[1, 4]
        select new GraphCase(seed, wb, ab, perChannel ? Granularity.PerChannel : Granularity.PerTensor,
            (SignedWeightEncoding)encoding, rows, cols, c, d);

    public static QuantizedModel Build(GraphCase c)
    {
        var rng = new Random(c.Seed);
        var options = new QuantizationOptions(c.WeightBits, c.ActivationBits, c.Granularity, c.Encoding);
        var b = new GraphMaker(rng, options);
        Value x = b.Input(new MapShape(rng.Next(1, 5), rng.Next(3, 11), rng.Next(3, 11)));
        int steps = rng.Next(1, 5);
        for (int s = 0; s < steps; s++)
        {
            x = rng.Next(9) switch
            {
                0 or 1 or 2 => b.Conv(x, b.RandomWindow(x.Shape, convolution: true), b.Channels(x.Shape), rng.Next(3) == 0 ? b.RandomActivation() : ActivationKind.Relu),
                3 => b.MaxPool(x, b.RandomWindow(x.Shape, convolution: false)),
                4 => b.AvgPool(x, b.RandomWindow(x.Shape, convolution: false), rng.Next(2) == 0),
                5 or 6 => Residual(b, x, rng),
                7 => Concat(b, x, rng),
                _ => x.Shape.Pixels > 1 && rng.Next(2) == 0 ? b.AvgPool(x, new Window2d(x.Shape.Height, x.Shape.Width), false) : x,
            };
        }

        if (rng.Next(3) == 0)
        {
            x = b.Dense(x, rng.Next(1, 13), ActivationKind.Relu, last: false);
        }

        b.Dense(x, rng.Next(1, 11), rng.Next(4) == 0 ? ActivationKind.Relu : ActivationKind.None, last: true);
        if (rng.Next(4) == 0)
        {
            // Mixed precision: one layer with other weight bits, by name.
            string name = b.Layers[rng.Next(b.Layers.Count)].Name;
            int bits = rng.Next(2, 9);
            options = options with { PerLayer = options.PerLayer.Add(name, new LayerPrecision(bits, null)) };
            b.Requantize(options);
        }

        return b.Finish($"random-graph-{c.Seed}", rng.Next(5) == 0);
    }

    /// <summary>x + f(x): f one or two shape-keeping convolutions; or a strided block with a 1x1 projection shortcut.</summary>
    private static Value Residual(GraphMaker b, Value x, Random rng)
    {
        bool relu = rng.Next(3) > 0;
        if (rng.Next(3) == 0 && x.Shape.Height >= 2 && x.Shape.Width >= 2)
        {
            var down = new Window2d(3, 3, 2, 2, 1, 1, 1, 1);
            int outPixels = down.OutputHeight(x.Shape.Height) * down.OutputWidth(x.Shape.Width);
            int cout = Math.Clamp(20_000 / (9 * x.Shape.Channels * outPixels), 1, b.Channels(x.Shape));
            Value main = b.Conv(x, down, cout, ActivationKind.Relu, keepChannels: true);
            Value shortcut = b.Conv(x, new Window2d(1, 1, 2, 2), cout, ActivationKind.None, keepChannels: true);
            return b.Add(shortcut, main, relu);
        }

        // The branch keeps the channels, so it must be cheap enough as it is.
        long perTap = (long)x.Shape.Channels * x.Shape.Channels * x.Shape.Pixels;
        if (perTap > 20_000)
        {
            return x;
        }

        Value f = b.Conv(x, b.SameWindow(perTap), x.Shape.Channels, ActivationKind.Relu, keepChannels: true);
        if (rng.Next(2) == 0)
        {
            f = b.Conv(f, b.SameWindow(perTap), x.Shape.Channels, ActivationKind.None, keepChannels: true);
        }

        return rng.Next(2) == 0 ? b.Add(x, f, relu) : b.Add(f, x, relu);
    }

    /// <summary>Two or three branches joined on channels, all holding the concat's quantization.</summary>
    private static Value Concat(GraphMaker b, Value x, Random rng)
    {
        bool keepInput = rng.Next(2) == 0;
        ActivationQuant shared = keepInput ? x.Quant : b.NewQuant(x.Spread, unsigned: rng.Next(2) == 0);
        int branches = rng.Next(2, 4);
        var parts = new List<Value>();
        for (int i = 0; i < branches; i++)
        {
            parts.Add((keepInput ? rng.Next(3) : 2) switch
            {
                0 => x,
                1 => b.MaxPool(x, new Window2d(3, 3, 1, 1, 1, 1, 1, 1)),
                _ => b.Conv(x, b.SameWindow(), b.Channels(x.Shape), rng.Next(2) == 0 ? ActivationKind.Relu : ActivationKind.None, shared),
            });
        }

        return b.Concat(parts, shared);
    }
}

/// <summary>A value of the graph being built: its node index, shape, quantization and a rough real spread.</summary>
internal sealed record Value(int Index, MapShape Shape, ActivationQuant Quant, double Spread);

/// <summary>Appends nodes and layers with consistent shapes, quantizations and multipliers.</summary>
internal sealed class GraphMaker(Random rng, QuantizationOptions options)
{
    private readonly List<QuantizedNode> _nodes = [];
    private MapShape _inputShape = new(1, 1, 1);
    private ActivationQuant? _inputQuant;
    private QuantizationOptions _options = options;

    public List<QuantizedLayer> Layers { get; } = [];

    private int Bits => _options.ActivationBits;

    public Value Input(MapShape shape)
    {
        _inputShape = shape;
        double scale = 0.01 + rng.NextDouble();
        _inputQuant = NewQuant(scale, unsigned: rng.Next(2) == 0);
        return new Value(QuantizedGraph.NetworkInput, shape, _inputQuant, scale);
    }

    /// <summary>A quantization at the activation bits whose range covers about +-2.5 spreads: unsigned, symmetric, or with a random zero point.</summary>
    public ActivationQuant NewQuant(double spread, bool unsigned)
    {
        long max = (1L << Bits) - 1;
        double range = 2.5 * spread * (0.5 + rng.NextDouble());
        if (unsigned)
        {
            return new ActivationQuant(range / max, 0, max);
        }

        if (rng.Next(2) == 0)
        {
            long q = Contract.Q(Bits);
            return new ActivationQuant(range / q, q, 2 * q);
        }

        long zero = rng.NextInt64(max + 1);
        return new ActivationQuant(2 * range / max, zero, max);
    }

    /// <summary>Output channels: mostly 1-8, sometimes up to 64, fewer when the map is large.</summary>
    public int Channels(MapShape input)
    {
        int c = rng.Next(8) == 0 ? rng.Next(9, 65) : rng.Next(1, 9);
        return input.Pixels > 16 ? Math.Min(c, 12) : c;
    }

    public ActivationKind RandomActivation() =>
        (ActivationKind)rng.Next(0, 5);

    /// <summary>A window that fits the map: kernel 1-5, stride 1-2, padding 0-2 per side (below the kernel for a pool), dilation 2 sometimes (convolutions).</summary>
    public Window2d RandomWindow(MapShape input, bool convolution)
    {
        for (int attempt = 0; ; attempt++)
        {
            int kh = rng.Next(1, convolution ? 6 : 4), kw = rng.Next(1, convolution ? 6 : 4);
            int dh = convolution && rng.Next(5) == 0 ? 2 : 1, dw = convolution && rng.Next(5) == 0 ? 2 : 1;
            int Pad(int k) => convolution ? rng.Next(0, 3) : rng.Next(0, (k / 2) + 1);
            var w = new Window2d(kh, kw, rng.Next(1, 3), rng.Next(1, 3), Pad(kh), Pad(kw), Pad(kh), Pad(kw), dh, dw,
                CeilMode: !convolution && rng.Next(4) == 0);
            if (w.OutputHeight(input.Height) is >= 1 and <= 10 && w.OutputWidth(input.Width) is >= 1 and <= 10)
            {
                return w;
            }

            if (attempt > 20)
            {
                return new Window2d(1, 1);
            }
        }
    }

    /// <summary>A window that keeps the map's size: odd kernel, stride 1, padding half the dilated span.</summary>
    public Window2d SameWindow(long costPerTap = 1)
    {
        int k = (2 * rng.Next(0, 3)) + 1, d = rng.Next(4) == 0 ? 2 : 1;
        while (k > 1 && costPerTap * k * k > 20_000)
        {
            k -= 2;
        }

        int p = d * (k - 1) / 2;
        return new Window2d(k, k, 1, 1, p, p, p, p, d, d);
    }

    public Value Conv(Value x, Window2d window, int cout, ActivationKind activation, ActivationQuant? output = null, bool keepChannels = false)
    {
        var geometry = new ConvGeometry(x.Shape, window);
        var shape = new MapShape(cout, geometry.OutHeight, geometry.OutWidth);

        // Keep each layer small: at most ~20 k multiply-adds per sample (a shape-keeping branch keeps its channels).
        while (!keepChannels && cout > 1 && (long)geometry.PatchSize * cout * shape.Pixels > 20_000)
        {
            cout = Math.Max(1, cout / 2);
            shape = shape with { Channels = cout };
        }

        return AddLayer(x, geometry.PatchSize, cout, shape, activation, output, geometry, last: false);
    }

    public Value Dense(Value x, int outFeatures, ActivationKind activation, bool last) =>
        AddLayer(x, x.Shape.Size, outFeatures, MapShape.Vector(outFeatures), activation, null, null, last);

    private Value AddLayer(Value x, int inF, int outF, MapShape shape, ActivationKind activation, ActivationQuant? output, ConvGeometry? conv, bool last)
    {
        string name = $"{(conv is null ? "fc" : "conv")}{Layers.Count}";
        int wb = _options.BitsFor(Layers.Count, name).WeightBits;
        long qw = Contract.Q(wb);

        // Integer weights uniform in [-Qw, Qw]; sometimes a zero row (its scale falls back to 1).
        var weights = new int[outF * inF];
        for (int i = 0; i < weights.Length; i++)
        {
            weights[i] = (int)rng.NextInt64(-qw, qw + 1);
        }

        if (rng.Next(6) == 0)
        {
            Array.Clear(weights, 0, inF);
        }

        // Real weights ~ gain / sqrt(inF), so the output's spread is about the input's.
        double gain = (0.5 + rng.NextDouble()) / Math.Sqrt(inF);
        double tensorScale = gain / qw * Math.Sqrt(3);
        double[] scales = [.. Enumerable.Range(0, outF).Select(_ => _options.Granularity == Granularity.PerTensor ? tensorScale : tensorScale * (0.5 + rng.NextDouble()))];
        double spread = x.Spread * (0.5 + rng.NextDouble());
        long[] bias = [.. scales.Select(sw => (long)Contract.Round(0.3 * spread * ((2 * rng.NextDouble()) - 1) / (x.Quant.Scale * sw)))];

        bool unsigned = activation is ActivationKind.Relu or ActivationKind.Sigmoid && rng.Next(4) > 0;
        var layer = new QuantizedLayer(name, inF, outF, [.. weights], wb, [.. scales], [.. bias], x.Quant, activation,
            activation == ActivationKind.LeakyRelu ? (float)(0.01 + (0.3 * rng.NextDouble())) : 0f, [], null, null, last);
        if (!(last && activation == ActivationKind.None))
        {
            ActivationQuant y = output ?? activation switch
            {
                ActivationKind.Sigmoid => new ActivationQuant(1.0 / ((1L << Bits) - 1), 0, (1L << Bits) - 1),
                ActivationKind.Tanh => new ActivationQuant(1.0 / Contract.Q(Bits), Contract.Q(Bits), 2 * Contract.Q(Bits)),
                _ => NewQuant(spread, unsigned),
            };
            ActivationQuant target = y;
            if (Contract.UsesActivationUnit(activation))
            {
                target = NewQuant(spread, unsigned: false);
                layer = layer with { PreActivation = target };
            }

            layer = layer with { Requant = Multipliers(x.Quant, scales, target), Output = y };
        }

        Layers.Add(layer);

        // A last layer without activation outputs accumulators; its node's Output is then its input quantization, a placeholder.
        ActivationQuant nodeOutput = layer.Output ?? x.Quant;
        return Append(new LayerNode(name, [x.Index], shape, nodeOutput, Layers.Count - 1, conv), spread);
    }

    public Value MaxPool(Value x, Window2d window) =>
        Append(new MaxPoolNode($"maxpool{_nodes.Count}", [x.Index], Windowed(x.Shape, window), x.Quant, window), x.Spread);

    public Value AvgPool(Value x, Window2d window, bool countIncludePad)
    {
        double spread = x.Spread * (0.3 + (0.7 * rng.NextDouble()));
        return Append(new AvgPoolNode($"avgpool{_nodes.Count}", [x.Index], Windowed(x.Shape, window), NewQuant(spread, x.Quant.ZeroPoint == 0 && rng.Next(3) > 0), window, countIncludePad), spread);
    }

    public Value Add(Value a, Value b, bool relu)
    {
        double spread = a.Spread + b.Spread;
        ActivationQuant y = NewQuant(spread, unsigned: relu && rng.Next(2) == 0);
        return Append(new AddNode($"add{_nodes.Count}", [a.Index, b.Index], a.Shape, y, Fixed(a.Quant.Scale / y.Scale), Fixed(b.Quant.Scale / y.Scale), relu), spread);
    }

    public Value Concat(List<Value> parts, ActivationQuant shared)
    {
        var shape = parts[0].Shape with { Channels = parts.Sum(p => p.Shape.Channels) };
        return Append(new ConcatNode($"concat{_nodes.Count}", [.. parts.Select(p => p.Index)], shape, shared), parts.Max(p => p.Spread));
    }

    /// <summary>Gives the layers the weight bits of new options (mixed precision): each layer's weights are clamped to its bits.</summary>
    public void Requantize(QuantizationOptions options)
    {
        _options = options;
        for (int l = 0; l < Layers.Count; l++)
        {
            int wb = options.BitsFor(l, Layers[l].Name).WeightBits;
            long qw = Contract.Q(wb);
            Layers[l] = Layers[l] with { WeightBits = wb, Weights = [.. Layers[l].Weights.Select(w => (int)Math.Clamp(w, -qw, qw))] };
        }
    }

    public QuantizedModel Finish(string name, bool softmax) =>
        new(name, _options, [.. Layers], softmax) { Graph = new QuantizedGraph(_inputShape, [.. _nodes]) { InputQuant = _inputQuant } };

    private Value Append(QuantizedNode node, double spread)
    {
        _nodes.Add(node);
        return new Value(_nodes.Count - 1, node.Shape, node.Output, spread);
    }

    private static MapShape Windowed(MapShape input, Window2d w) => new(input.Channels, w.OutputHeight(input.Height), w.OutputWidth(input.Width));

    private static ImmutableArray<FixedPoint> Multipliers(ActivationQuant input, double[] weightScales, ActivationQuant target) =>
        [.. weightScales.Select(sw => Fixed(input.Scale * sw / target.Scale))];

    private static FixedPoint Fixed(double mu)
    {
        (long m, int r) = Contract.FixedPoint(mu);
        return new FixedPoint(m, r);
    }
}
