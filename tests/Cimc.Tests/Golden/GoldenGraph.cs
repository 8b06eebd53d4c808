using Cimc.Data;
using Cimc.Quantization;

namespace Cimc.Tests.Golden;

/// <summary>
/// The golden model of a quantized graph (a <see cref="QuantizedModel"/> with a
/// <see cref="QuantizedGraph"/>): one sample from the network input's codes to the last node's
/// integers, computed straight from docs/quantization.md ("Convolutional networks"). Maps are HWC.
/// A crossbar layer is the golden dense layer (<see cref="GoldenModel"/>) applied to the layer's
/// input vector at each output pixel: the im2col window in (kh, kw, c) order, padding reading the
/// input's zero point. Pooling, residual adds and concat are written again from the document; the
/// multipliers of average pools and adds are recomputed from the scales with
/// <see cref="Contract.FixedPoint"/> (an add's stored ones are checked against them).
/// </summary>
public static class GoldenGraph
{
    /// <summary>
    /// Host input quantization of one sample given in the model file's NCHW order: the codes
    /// u = clamp(round(x / s) + z, 0, umax), written pixel-major (HWC).
    /// </summary>
    public static long[] QuantizeInput(QuantizedModel model, ReadOnlySpan<float> nchw)
    {
        QuantizedGraph graph = GraphOf(model);
        MapShape shape = graph.InputShape;
        if (nchw.Length != shape.Size)
        {
            throw new ArgumentException($"the model takes {shape} = {shape.Size} inputs, got {nchw.Length}", nameof(nchw));
        }

        ActivationQuant q = InputQuant(model);
        var u = new long[shape.Size];
        for (int c = 0; c < shape.Channels; c++)
        {
            for (int y = 0; y < shape.Height; y++)
            {
                for (int x = 0; x < shape.Width; x++)
                {
                    float v = nchw[(((c * shape.Height) + y) * shape.Width) + x];
                    u[(((y * shape.Width) + x) * shape.Channels) + c] = Contract.Quantize(v, q.Scale, q.ZeroPoint, q.Max);
                }
            }
        }

        return u;
    }

    /// <summary>The last node's integers for one sample: codes, or accumulators for a last crossbar layer without activation.</summary>
    public static long[] RunCodes(QuantizedModel model, CrossbarParams xbar, ReadOnlySpan<long> inputCodes) =>
        Trace(model, xbar, inputCodes)[^1];

    /// <summary>Every node's result (HWC) for one sample, through crossbars <paramref name="xbar"/>.</summary>
    public static long[][] Trace(QuantizedModel model, CrossbarParams xbar, ReadOnlySpan<long> inputCodes)
    {
        xbar.Validate();
        return Trace(model, inputCodes, l => window => GoldenModel.CrossbarAccumulators(model.Layers[l], model.Options.SignedWeights, xbar, window, positionRows: PositionRows(model, l)));
    }

    /// <summary>
    /// Rows of one kernel position (the input channels) of a convolution that --conv-mapping per-position
    /// cuts by kernel position, else 0 (docs/quantization.md section 7): the ADC saturates per row
    /// block, so the golden model must cut where the chip does.
    /// </summary>
    public static int PositionRows(QuantizedModel model, int layer) =>
        model.Options.ConvMapping == ConvMapping.PerPosition && GraphOf(model).Nodes.OfType<LayerNode>().Single(n => n.Layer == layer).Conv is { } conv
            ? conv.Input.Channels : 0;

    /// <summary>Every node's result with ideal accumulators (section 4: exact sums, no crossbars, no ADC).</summary>
    public static long[][] TraceIdeal(QuantizedModel model, ReadOnlySpan<long> inputCodes) =>
        Trace(model, inputCodes, l => window => GoldenModel.IdealAccumulators(model.Layers[l], window));

    /// <summary>The last node's integers with ideal accumulators.</summary>
    public static long[] RunIdeal(QuantizedModel model, ReadOnlySpan<long> inputCodes) => TraceIdeal(model, inputCodes)[^1];

    private static long[][] Trace(QuantizedModel model, ReadOnlySpan<long> inputCodes, Func<int, Func<long[], long[]>> accumulate)
    {
        QuantizedGraph graph = GraphOf(model);
        Check(model);
        ActivationQuant inputQuant = InputQuant(model);
        if (inputCodes.Length != graph.InputShape.Size)
        {
            throw new ArgumentException($"the network takes {graph.InputShape.Size} codes, got {inputCodes.Length}", nameof(inputCodes));
        }

        CheckRange(inputCodes, inputQuant.Max, "the network input");
        long[] input = inputCodes.ToArray();
        var results = new long[graph.Nodes.Length][];
        for (int n = 0; n < graph.Nodes.Length; n++)
        {
            QuantizedNode node = graph.Nodes[n];
            (long[] Codes, MapShape Shape, ActivationQuant Quant) In(int k)
            {
                int i = node.Inputs[k];
                return i == QuantizedGraph.NetworkInput ? (input, graph.InputShape, inputQuant) : (results[i], graph.Nodes[i].Shape, graph.Nodes[i].Output);
            }

            results[n] = node switch
            {
                LayerNode l => Layer(model.Layers[l.Layer], l, In(0), accumulate(l.Layer)),
                MaxPoolNode p => MaxPool(p, In(0)),
                AvgPoolNode p => AvgPool(p, In(0)),
                AddNode a => AddMaps(a, In(0), In(1)),
                ConcatNode c => Concat(c, [.. Enumerable.Range(0, c.Inputs.Length).Select(In)]),
                _ => throw new InvalidOperationException($"the golden model has no case for {node.GetType().Name}"),
            };
            if (!(node is LayerNode { } last && model.Layers[last.Layer].OutputsAccumulator))
            {
                CheckRange(results[n], node.Output.Max, $"node '{node.Name}'");
            }
        }

        return results;
    }

    /// <summary>
    /// A crossbar layer: a dense layer reads the whole map (HWC) as its input vector; a convolution
    /// reads, at each output pixel (oy, ox), the window's codes in im2col order
    /// r = ((kh * KW) + kw) * C + c at iy = oy * sH - padTop + kh * dH (likewise ix), with the
    /// input's zero point for a cell in the padding. Output pixel-major: (oy * OW + ox) * Cout + o.
    /// </summary>
    private static long[] Layer(QuantizedLayer layer, LayerNode node, (long[] Codes, MapShape Shape, ActivationQuant Quant) input, Func<long[], long[]> accumulate)
    {
        if (node.Conv is not { } conv)
        {
            return GoldenModel.OutputStage(layer, accumulate(input.Codes)).Output;
        }

        MapShape inShape = input.Shape;
        Cimc.Ir.Window2d win = conv.Window;
        int oh = node.Shape.Height, ow = node.Shape.Width, cout = layer.OutFeatures;
        var output = new long[oh * ow * cout];
        var window = new long[win.KernelH * win.KernelW * inShape.Channels];
        for (int oy = 0; oy < oh; oy++)
        {
            for (int ox = 0; ox < ow; ox++)
            {
                for (int kh = 0; kh < win.KernelH; kh++)
                {
                    int iy = (oy * win.StrideH) - win.PadTop + (kh * win.DilationH);
                    for (int kw = 0; kw < win.KernelW; kw++)
                    {
                        int ix = (ox * win.StrideW) - win.PadLeft + (kw * win.DilationW);
                        bool inside = iy >= 0 && iy < inShape.Height && ix >= 0 && ix < inShape.Width;
                        for (int c = 0; c < inShape.Channels; c++)
                        {
                            int r = (((kh * win.KernelW) + kw) * inShape.Channels) + c;
                            window[r] = inside ? input.Codes[(((iy * inShape.Width) + ix) * inShape.Channels) + c] : layer.Input.ZeroPoint;
                        }
                    }
                }

                long[] y = GoldenModel.OutputStage(layer, accumulate(window)).Output;
                Array.Copy(y, 0, output, ((oy * ow) + ox) * cout, cout);
            }
        }

        return output;
    }

    /// <summary>Per channel, the largest code of the window's cells inside the input (padding never wins).</summary>
    private static long[] MaxPool(MaxPoolNode node, (long[] Codes, MapShape Shape, ActivationQuant Quant) input)
    {
        var output = new long[node.Shape.Size];
        ForEachWindow(node.Window, input.Shape, node.Shape, (at, cells, _) =>
        {
            if (cells.Count == 0)
            {
                throw Contradiction(node, $"has a window at output {at} with no input cell");
            }

            for (int c = 0; c < input.Shape.Channels; c++)
            {
                long best = long.MinValue;
                foreach (int cell in cells)
                {
                    best = Math.Max(best, input.Codes[(cell * input.Shape.Channels) + c]);
                }

                output[(at * node.Shape.Channels) + c] = best;
            }
        });
        return output;
    }

    /// <summary>
    /// Per channel, S = sum over the window's input cells of (u - z_x); n = those cells, or with
    /// CountIncludePad those cells and the padding cells (within the declared padding);
    /// (m, r) = FixedPoint(s_x / (n * s_y)); y = clamp(rq(S; m, r) + z_y, 0, umax_y).
    /// </summary>
    private static long[] AvgPool(AvgPoolNode node, (long[] Codes, MapShape Shape, ActivationQuant Quant) input)
    {
        ActivationQuant x = input.Quant, y = node.Output;
        var output = new long[node.Shape.Size];
        ForEachWindow(node.Window, input.Shape, node.Shape, (at, cells, padding) =>
        {
            int n = node.CountIncludePad ? cells.Count + padding : cells.Count;
            if (n == 0)
            {
                throw Contradiction(node, $"has a window at output {at} that counts no cell");
            }

            (long m, int r) = Contract.FixedPoint(x.Scale / (n * y.Scale));
            for (int c = 0; c < input.Shape.Channels; c++)
            {
                long sum = 0;
                foreach (int cell in cells)
                {
                    sum += input.Codes[(cell * input.Shape.Channels) + c] - x.ZeroPoint;
                }

                output[(at * node.Shape.Channels) + c] = (long)Int128.Clamp(Contract.Requantize(sum, m, r) + y.ZeroPoint, 0, y.Max);
            }
        });
        return output;
    }

    /// <summary>
    /// a' = u_a - z_a, b' = u_b - z_b; y = clamp(rq(a'; mA, rA) + rq(b'; mB, rB) + z_y, lo, umax_y)
    /// with (mA, rA) = FixedPoint(s_a / s_y), (mB, rB) = FixedPoint(s_b / s_y), lo = z_y for a ReLU, else 0.
    /// </summary>
    private static long[] AddMaps(AddNode node, (long[] Codes, MapShape Shape, ActivationQuant Quant) a, (long[] Codes, MapShape Shape, ActivationQuant Quant) b)
    {
        ActivationQuant y = node.Output;
        (long ma, int ra) = Contract.FixedPoint(a.Quant.Scale / y.Scale);
        (long mb, int rb) = Contract.FixedPoint(b.Quant.Scale / y.Scale);
        if (node.ScaleA != new FixedPoint(ma, ra) || node.ScaleB != new FixedPoint(mb, rb))
        {
            throw Contradiction(node, $"stores multipliers {node.ScaleA} and {node.ScaleB}, but its scales give ({ma}, {ra}) and ({mb}, {rb})");
        }

        long lo = node.Relu ? y.ZeroPoint : 0;
        var output = new long[node.Shape.Size];
        for (int i = 0; i < output.Length; i++)
        {
            Int128 v = Contract.Requantize(a.Codes[i] - a.Quant.ZeroPoint, ma, ra) + Contract.Requantize(b.Codes[i] - b.Quant.ZeroPoint, mb, rb) + y.ZeroPoint;
            output[i] = (long)Int128.Clamp(v, lo, y.Max);
        }

        return output;
    }

    /// <summary>Per pixel, the inputs' channels one after another (every input already has the concat's quantization).</summary>
    private static long[] Concat(ConcatNode node, (long[] Codes, MapShape Shape, ActivationQuant Quant)[] inputs)
    {
        var output = new long[node.Shape.Size];
        int at = 0;
        for (int p = 0; p < node.Shape.Pixels; p++)
        {
            foreach ((long[] codes, MapShape shape, _) in inputs)
            {
                Array.Copy(codes, p * shape.Channels, output, at, shape.Channels);
                at += shape.Channels;
            }
        }

        return output;
    }

    /// <summary>
    /// Each output pixel's window: the input pixels (y * W + x) inside the map, and how many of the
    /// window's cells lie in the declared padding (ceil mode can reach past it; those count nowhere).
    /// </summary>
    private static void ForEachWindow(Cimc.Ir.Window2d win, MapShape input, MapShape output, Action<int, List<int>, int> visit)
    {
        var cells = new List<int>();
        for (int oy = 0; oy < output.Height; oy++)
        {
            for (int ox = 0; ox < output.Width; ox++)
            {
                cells.Clear();
                int padding = 0;
                for (int kh = 0; kh < win.KernelH; kh++)
                {
                    int iy = (oy * win.StrideH) - win.PadTop + (kh * win.DilationH);
                    for (int kw = 0; kw < win.KernelW; kw++)
                    {
                        int ix = (ox * win.StrideW) - win.PadLeft + (kw * win.DilationW);
                        if (iy >= 0 && iy < input.Height && ix >= 0 && ix < input.Width)
                        {
                            cells.Add((iy * input.Width) + ix);
                        }
                        else if (iy < input.Height + win.PadBottom && ix < input.Width + win.PadRight)
                        {
                            padding++;
                        }
                    }
                }

                visit((oy * output.Width) + ox, cells, padding);
            }
        }
    }

    /// <summary>The host's floats from the last node's integers, in the model's own order (CHW for a map).</summary>
    public static float[] Dequantize(QuantizedModel model, ReadOnlySpan<long> values)
    {
        QuantizedGraph graph = GraphOf(model);
        QuantizedNode last = graph.Nodes[^1];
        if (last is LayerNode { } node && model.Layers[node.Layer].Activation == ActivationKind.None && model.Layers[node.Layer].IsLast)
        {
            return GoldenModel.Dequantize(model.Layers[node.Layer], values);
        }

        MapShape s = last.Shape;
        var result = new float[s.Size];
        for (int c = 0; c < s.Channels; c++)
        {
            for (int p = 0; p < s.Pixels; p++)
            {
                result[(c * s.Pixels) + p] = (float)(last.Output.Scale * (values[(p * s.Channels) + c] - last.Output.ZeroPoint));
            }
        }

        return result;
    }

    /// <summary>
    /// Dequantized outputs for a batch of NCHW samples (rows of x), then a host softmax if the model
    /// ends in one. The crossbars are <see cref="PackedCrossbars"/>, prepared once per layer: the
    /// same arithmetic as <see cref="Trace(QuantizedModel, CrossbarParams, ReadOnlySpan{long})"/>, fast enough for many images.
    /// </summary>
    public static float[] Run(QuantizedModel model, CrossbarParams xbar, NdArray x)
    {
        PackedCrossbars[] packed = [.. model.Layers.Select((l, i) => new PackedCrossbars(l, model.Options.SignedWeights, xbar, PositionRows(model, i)))];
        return Run(model, x, codes => TracePacked(model, packed, codes)[^1]);
    }

    /// <summary>Every node's result through crossbars prepared by <see cref="PackedCrossbars"/> (one per layer of the model).</summary>
    public static long[][] TracePacked(QuantizedModel model, PackedCrossbars[] packed, ReadOnlySpan<long> inputCodes) =>
        Trace(model, inputCodes, l => window => packed[l].Accumulators(window));

    /// <summary>As <see cref="Run(QuantizedModel, CrossbarParams, NdArray)"/> with ideal accumulators.</summary>
    public static float[] RunIdeal(QuantizedModel model, NdArray x) => Run(model, x, codes => RunIdeal(model, codes));

    private static float[] Run(QuantizedModel model, NdArray x, Func<long[], long[]> run)
    {
        int outSize = GraphOf(model).OutputShape.Size;
        var result = new float[x.Rows * outSize];
        Parallel.For(0, x.Rows, r =>
        {
            float[] row = Dequantize(model, run(QuantizeInput(model, x.Row(r))));
            if (model.SoftmaxAtEnd)
            {
                row = GoldenModel.Softmax(row);
            }

            row.CopyTo(result, r * outSize);
        });
        return result;
    }

    /// <summary>The network input's quantization: the graph's, else the first crossbar layer's input.</summary>
    public static ActivationQuant InputQuant(QuantizedModel model) => GraphOf(model).InputQuant ?? model.Layers[0].Input;

    private static QuantizedGraph GraphOf(QuantizedModel model) =>
        model.Graph ?? throw new ArgumentException($"model '{model.Name}' is a dense chain (Graph is null); use GoldenModel", nameof(model));

    /// <summary>
    /// The structure the document requires: nodes in topological order, every layer computed by
    /// exactly one node and in order, shapes and quantizations that agree between producer and
    /// consumer, and only the last node may output accumulators.
    /// </summary>
    public static void Check(QuantizedModel model)
    {
        QuantizedGraph graph = GraphOf(model);
        ActivationQuant inputQuant = InputQuant(model);
        int nextLayer = 0;
        for (int n = 0; n < graph.Nodes.Length; n++)
        {
            QuantizedNode node = graph.Nodes[n];
            int arity = node switch { AddNode => 2, ConcatNode => -1, _ => 1 };
            if ((arity > 0 && node.Inputs.Length != arity) || node.Inputs.Length == 0)
            {
                throw Contradiction(node, $"has {node.Inputs.Length} inputs");
            }

            if (node.Inputs.Any(i => i < QuantizedGraph.NetworkInput || i >= n))
            {
                throw Contradiction(node, $"reads [{string.Join(", ", node.Inputs)}], not only earlier nodes or the network input");
            }

            MapShape ShapeOf(int i) => i == QuantizedGraph.NetworkInput ? graph.InputShape : graph.Nodes[i].Shape;
            ActivationQuant QuantOf(int i) => i == QuantizedGraph.NetworkInput ? inputQuant : graph.Nodes[i].Output;
            if (node.Inputs.Any(i => i >= 0 && graph.Nodes[i] is LayerNode { } producer && model.Layers[producer.Layer].OutputsAccumulator))
            {
                throw Contradiction(node, "reads the accumulators of a last layer");
            }

            MapShape input = ShapeOf(node.Inputs[0]);
            switch (node)
            {
                case LayerNode l:
                    if (l.Layer != nextLayer++)
                    {
                        throw Contradiction(node, $"computes layer {l.Layer} where layer {nextLayer - 1} comes next");
                    }

                    CheckLayer(model, l, input, QuantOf(node.Inputs[0]), n == graph.Nodes.Length - 1);
                    break;
                case MaxPoolNode p:
                    Expect(node, p.Output == QuantOf(node.Inputs[0]), "does not keep its input's quantization");
                    Expect(node, p.Shape == new MapShape(input.Channels, p.Window.OutputHeight(input.Height), p.Window.OutputWidth(input.Width)), $"has shape {p.Shape} for its window over {input}");
                    break;
                case AvgPoolNode p:
                    Expect(node, p.Shape == new MapShape(input.Channels, p.Window.OutputHeight(input.Height), p.Window.OutputWidth(input.Width)), $"has shape {p.Shape} for its window over {input}");
                    break;
                case AddNode:
                    Expect(node, input == node.Shape && ShapeOf(node.Inputs[1]) == node.Shape, $"adds {input} and {ShapeOf(node.Inputs[1])} into {node.Shape}");
                    break;
                case ConcatNode:
                    Expect(node, node.Inputs.All(i => QuantOf(i) == node.Output), "has an input whose quantization is not the concat's");
                    Expect(node, node.Inputs.All(i => ShapeOf(i).Height == node.Shape.Height && ShapeOf(i).Width == node.Shape.Width)
                        && node.Inputs.Sum(i => ShapeOf(i).Channels) == node.Shape.Channels, $"joins maps that do not make {node.Shape}");
                    break;
            }
        }

        Expect(graph.Nodes[^1], nextLayer == model.Layers.Length, $"the graph computes {nextLayer} of the model's {model.Layers.Length} layers");
    }

    private static void CheckLayer(QuantizedModel model, LayerNode node, MapShape input, ActivationQuant inputQuant, bool lastNode)
    {
        QuantizedLayer layer = model.Layers[node.Layer];
        Expect(node, layer.IsLast == (node.Layer == model.Layers.Length - 1), "has IsLast wrong");
        Expect(node, layer.Weights.Length == layer.InFeatures * layer.OutFeatures && layer.Bias.Length == layer.OutFeatures && layer.WeightScales.Length == layer.OutFeatures,
            "has weights, bias or scales of the wrong length");
        Expect(node, layer.WeightBits == model.Options.BitsFor(node.Layer, layer.Name).WeightBits, $"has {layer.WeightBits}-bit weights but the options say otherwise");
        Expect(node, layer.Input == inputQuant, "does not take its input's quantization");
        Expect(node, !layer.OutputsAccumulator || lastNode, "outputs accumulators but is not the last node");
        Expect(node, layer.OutputsAccumulator || layer.Output == node.Output, "has an output quantization other than its layer's");
        if (node.Conv is { } conv)
        {
            Expect(node, conv.Input == input, $"convolves {conv.Input} but reads {input}");
            Expect(node, layer.InFeatures == conv.PatchSize, $"has {layer.InFeatures} inputs for a {conv.PatchSize}-row im2col matrix");
            Expect(node, node.Shape == new MapShape(layer.OutFeatures, conv.OutHeight, conv.OutWidth), $"has shape {node.Shape}");
        }
        else
        {
            Expect(node, layer.InFeatures == input.Size && node.Shape == MapShape.Vector(layer.OutFeatures), $"is a dense {layer.InFeatures}->{layer.OutFeatures} over {input} with shape {node.Shape}");
        }
    }

    private static void CheckRange(ReadOnlySpan<long> codes, long max, string what)
    {
        foreach (long v in codes)
        {
            if (v < 0 || v > max)
            {
                throw new InvalidOperationException($"{what} has code {v} outside [0, {max}]");
            }
        }
    }

    private static void Expect(QuantizedNode node, bool holds, string what)
    {
        if (!holds)
        {
            throw Contradiction(node, what);
        }
    }

    private static InvalidOperationException Contradiction(QuantizedNode node, string what) =>
        new($"node '{node.Name}' {what}: the quantized graph contradicts docs/quantization.md");
}
