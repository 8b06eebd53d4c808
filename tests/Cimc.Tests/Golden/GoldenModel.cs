using Cimc.Data;
using Cimc.Quantization;

namespace Cimc.Tests.Golden;

/// <summary>One crossbar configuration: R rows, C columns, c bits per cell, d DAC bits, a ADC bits.</summary>
public sealed record CrossbarParams(int Rows, int Cols, int CellBits, int DacBits, int AdcBits)
{
    /// <summary>The smallest ADC that never saturates: 2^a - 1 >= R (2^d - 1)(2^c - 1).</summary>
    public static int NonSaturatingAdcBits(int rows, int cellBits, int dacBits) =>
        Contract.BitLen(rows * ((1L << dacBits) - 1) * ((1L << cellBits) - 1));

    public void Validate()
    {
        if (Rows < 1 || Cols < 1 || CellBits is < 1 or > 16 || DacBits is < 1 or > 16 || AdcBits is < 1 or > 62)
        {
            throw new ArgumentOutOfRangeException(nameof(CrossbarParams), this.ToString(), "rows, columns >= 1; cell and DAC bits in 1..16; ADC bits in 1..62");
        }
    }
}

/// <summary>What one layer computed for one sample.</summary>
/// <param name="Input">The layer's input codes.</param>
/// <param name="Accumulators">acc[o] after the crossbars and the digital corrections (section 6).</param>
/// <param name="PreActivation">The codes t of a layer whose activation runs on the special-function unit, else null.</param>
/// <param name="Output">The output codes, or the accumulators for a last layer without activation.</param>
public sealed record LayerTrace(long[] Input, long[] Accumulators, long[]? PreActivation, long[] Output);

/// <summary>
/// Per output, the crossbar part of the accumulator before the bias: acc = Positive - Negative - Correction + beff.
/// Negative is 0 and Correction = Qw * sum_i u[i] for the offset encoding; Correction is 0 for the differential pair.
/// </summary>
public readonly record struct CrossbarSum(long Positive, long Negative, long Correction);

/// <summary>
/// The golden model: the quantized network computed straight from docs/quantization.md, sharing no
/// code with the library's mapping, code generation or simulator. It reads the integers and scales
/// of a <see cref="QuantizedModel"/> and recomputes everything derived from them (beff, the output
/// dequantization, the input quantization). For a non-ideal device (docs/nonidealities.md) it also
/// takes the placement, which core and crossbar hold each block (<see cref="GoldenChip"/>), because
/// the device's draws are keyed by those physical sites; everything else it derives from the documents.
/// </summary>
public static class GoldenModel
{
    /// <summary>Host input quantization (section 2): u = clamp(round(x / s) + z, 0, umax).</summary>
    public static long[] QuantizeInput(QuantizedModel model, ReadOnlySpan<float> x)
    {
        ActivationQuant q = model.Layers[0].Input;
        if (x.Length != model.Layers[0].InFeatures)
        {
            throw new ArgumentException($"the model takes {model.Layers[0].InFeatures} inputs, got {x.Length}", nameof(x));
        }

        var u = new long[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            u[i] = Contract.Quantize(x[i], q.Scale, q.ZeroPoint, q.Max);
        }

        return u;
    }

    /// <summary>
    /// One sample from input codes to the last layer's output integers: accumulators for a last layer
    /// without activation, else codes (sections 5 and 6).
    /// </summary>
    public static long[] RunCodes(QuantizedModel model, CrossbarParams xbar, ReadOnlySpan<long> inputCodes) =>
        Trace(model, xbar, inputCodes)[^1].Output;

    /// <summary>Every layer's input, accumulators and output for one sample.</summary>
    public static LayerTrace[] Trace(QuantizedModel model, CrossbarParams xbar, ReadOnlySpan<long> inputCodes) =>
        Trace(model, xbar, inputCodes, null, 0);

    /// <summary>
    /// One sample from input codes to the last layer's output integers through a non-ideal device
    /// (docs/nonidealities.md); <paramref name="sample"/> is the sample's index in its batch.
    /// </summary>
    public static long[] RunCodes(QuantizedModel model, CrossbarParams xbar, ReadOnlySpan<long> inputCodes, GoldenChip? chip, long sample) =>
        Trace(model, xbar, inputCodes, chip, sample)[^1].Output;

    /// <summary>Every layer's input, accumulators and output for one sample, through <paramref name="chip"/> when it is given.</summary>
    public static LayerTrace[] Trace(QuantizedModel model, CrossbarParams xbar, ReadOnlySpan<long> inputCodes, GoldenChip? chip, long sample)
    {
        xbar.Validate();
        var traces = new LayerTrace[model.Layers.Length];
        long[] u = inputCodes.ToArray();
        for (int l = 0; l < model.Layers.Length; l++)
        {
            QuantizedLayer layer = model.Layers[l];
            CheckLayer(model, l);
            long[] acc = CrossbarAccumulators(layer, model.Options.SignedWeights, xbar, u, chip, l, sample);
            (long[]? t, long[] y) = OutputStage(layer, acc);
            traces[l] = new LayerTrace(u, acc, t, y);
            u = y;
        }

        return traces;
    }

    /// <summary>
    /// Section 7's row blocks, [first, end) in order: the rows in segments of <paramref name="positionRows"/>
    /// (the whole layer when 0), each segment in blocks of R rows, the last one of a segment shorter.
    /// </summary>
    public static List<(int First, int End)> RowBlocks(int inFeatures, int rows, int positionRows)
    {
        int segment = positionRows > 0 ? positionRows : inFeatures;
        var blocks = new List<(int First, int End)>();
        for (int s = 0; s < inFeatures; s += segment)
        {
            int segmentEnd = Math.Min(inFeatures, s + segment);
            for (int first = s; first < segmentEnd; first += rows)
            {
                blocks.Add((first, Math.Min(segmentEnd, first + rows)));
            }
        }

        return blocks;
    }

    /// <summary>Ideal accumulators of one layer (section 4): sum_i w_q[o,i] (u[i] - z_x) + b_q[o], no crossbars.</summary>
    public static long[] IdealAccumulators(QuantizedLayer layer, ReadOnlySpan<long> inputCodes)
    {
        CheckCodes(layer, inputCodes);
        var acc = new long[layer.OutFeatures];
        for (int o = 0; o < layer.OutFeatures; o++)
        {
            Int128 sum = layer.Bias[o];
            for (int i = 0; i < layer.InFeatures; i++)
            {
                sum += (Int128)layer.Weights[(o * layer.InFeatures) + i] * (inputCodes[i] - layer.Input.ZeroPoint);
            }

            acc[o] = checked((long)sum);
        }

        return acc;
    }

    /// <summary>beff[o] = b_q[o] - z_x * sum_i w_q[o,i] (section 4).</summary>
    public static long[] EffectiveBias(QuantizedLayer layer)
    {
        var beff = new long[layer.OutFeatures];
        for (int o = 0; o < layer.OutFeatures; o++)
        {
            Int128 rowSum = 0;
            for (int i = 0; i < layer.InFeatures; i++)
            {
                rowSum += layer.Weights[(o * layer.InFeatures) + i];
            }

            beff[o] = checked((long)(layer.Bias[o] - (layer.Input.ZeroPoint * rowSum)));
        }

        return beff;
    }

    /// <summary>Accumulators as the crossbars compute them (section 6), with ADC saturation.</summary>
    /// <param name="positionRows">
    /// rows of one kernel position of a convolution cut per position (section 7: no row block spans two
    /// positions), else 0: the layer's rows cut into blocks of R from row 0
    /// </param>
    public static long[] CrossbarAccumulators(QuantizedLayer layer, SignedWeightEncoding encoding, CrossbarParams xbar, ReadOnlySpan<long> inputCodes,
        GoldenChip? chip = null, int layerIndex = 0, long sample = 0, int positionRows = 0)
    {
        CrossbarSum[] sums = CrossbarSums(layer, encoding, xbar, inputCodes, chip, layerIndex, sample, positionRows);
        long[] beff = EffectiveBias(layer);
        var acc = new long[layer.OutFeatures];
        for (int o = 0; o < acc.Length; o++)
        {
            acc[o] = checked(sums[o].Positive - sums[o].Negative + beff[o] - sums[o].Correction);
        }

        return acc;
    }

    /// <summary>
    /// The crossbar part of section 6, per output: for every row block rb, polarity p, weight slice j
    /// and input slice k, one conversion min(sum_i digit_k(u[i]) * slice_j(w_p[o,i]), 2^a - 1)
    /// weighted by 2^(c j + d k), added to the polarity's total. With a <paramref name="chip"/>, each
    /// conversion goes through the device instead (docs/nonidealities.md): the block's realized
    /// conductances on the crossbar the placement gives, float32 sums, read noise for this sample.
    /// </summary>
    public static CrossbarSum[] CrossbarSums(QuantizedLayer layer, SignedWeightEncoding encoding, CrossbarParams xbar, ReadOnlySpan<long> inputCodes,
        GoldenChip? chip = null, int layerIndex = 0, long sample = 0, int positionRows = 0)
    {
        xbar.Validate();
        CheckCodes(layer, inputCodes);
        int inF = layer.InFeatures, outF = layer.OutFeatures;
        long qw = Contract.Q(layer.WeightBits);
        bool differential = encoding == SignedWeightEncoding.Differential;
        bool offset = encoding == SignedWeightEncoding.Offset;

        // Input bits and slices; the ADC's step 2^s and rows per read (section 6).
        int inputBits = Math.Max(1, Contract.BitLen(layer.Input.Max));
        int inputSlices = Contract.CeilDiv(inputBits, xbar.DacBits);
        List<(int First, int End)> rowBlocks = RowBlocks(inF, xbar.Rows, positionRows);
        int rowsPerRead = layer.RowsPerRead > 0 && layer.RowsPerRead < xbar.Rows ? layer.RowsPerRead : xbar.Rows;
        int step = layer.AdcShift;
        long cellMask = (1L << xbar.CellBits) - 1, digitMask = (1L << xbar.DacBits) - 1;
        long adcMax = (1L << xbar.AdcBits) - 1;

        // The stored (non-negative) weights of each array: its sign, its slices, the shift of its first
        // slice and the index that names its first slice (section 7).
        var polarities = new List<(int Sign, long[] Stored, int Slices, int BaseShift, int FirstSlice)>();
        if (differential)
        {
            long[] plus = new long[outF * inF], minus = new long[outF * inF];
            for (int k = 0; k < plus.Length; k++)
            {
                long w = CheckedWeight(layer, k, qw);
                plus[k] = Math.Max(w, 0);
                minus[k] = Math.Max(-w, 0);
            }

            int slices = Contract.CeilDiv(Contract.BitLen(qw), xbar.CellBits);
            polarities.Add((+1, plus, slices, 0, 0));
            polarities.Add((-1, minus, slices, 0, 0));
        }
        else if (offset)
        {
            long[] shifted = new long[outF * inF];
            for (int k = 0; k < shifted.Length; k++)
            {
                shifted[k] = CheckedWeight(layer, k, qw) + qw;
            }

            polarities.Add((+1, shifted, Contract.CeilDiv(Contract.BitLen(2 * qw), xbar.CellBits), 0, 0));
        }
        else
        {
            // Two's complement in B = bitlen(Qw) + 1 bits: w = low - 2^(B-1) * sign.
            int lowBits = Contract.BitLen(qw);
            long[] low = new long[outF * inF], sign = new long[outF * inF];
            for (int k = 0; k < low.Length; k++)
            {
                long w = CheckedWeight(layer, k, qw);
                long pattern = w < 0 ? w + (1L << (lowBits + 1)) : w;
                low[k] = pattern & ((1L << lowBits) - 1);
                sign[k] = pattern >> lowBits;
            }

            int lowSlices = Contract.CeilDiv(lowBits, xbar.CellBits);
            polarities.Add((+1, low, lowSlices, 0, 0));
            polarities.Add((-1, sign, 1, lowBits, lowSlices));
        }

        var result = new CrossbarSum[outF];
        for (int o = 0; o < outF; o++)
        {
            Int128 positive = 0, negative = 0;
            for (int rb = 0; rb < rowBlocks.Count; rb++)
            {
                (int first, int end) = rowBlocks[rb];
                foreach ((int sign, long[] stored, int weightSlices, int baseShift, int firstSlice) in polarities)
                {
                    for (int j = 0; j < weightSlices; j++)
                    {
                        // On a non-ideal device: the block's site and realized cells, and o's column in it.
                        int cb = o / xbar.Cols, column = o - (cb * xbar.Cols), blockCols = Math.Min(xbar.Cols, outF - (cb * xbar.Cols));
                        BlockName name = new(layerIndex, rb, cb, sign, firstSlice + j);
                        BlockSite site = chip?.SiteOf(name, sample) ?? default;
                        int sliceShift = xbar.CellBits * j;
                        float[]? g = chip?.Conductances(site, end - first, blockCols, xbar.CellBits,
                            (r, c) => (stored[(((cb * xbar.Cols) + c) * inF) + first + r] >> sliceShift) & cellMask);
                        for (int k = 0; k < inputSlices; k++)
                        {
                            for (int group = first; group < end; group += rowsPerRead)
                            {
                                int groupEnd = Math.Min(end, group + rowsPerRead);
                                long steps;
                                if (chip is null)
                                {
                                    long sum = 0;
                                    for (int i = group; i < groupEnd; i++)
                                    {
                                        long slice = (stored[(o * inF) + i] >> (xbar.CellBits * j)) & cellMask;
                                        long digit = (inputCodes[i] >> (xbar.DacBits * k)) & digitMask;
                                        sum = checked(sum + (slice * digit));
                                    }

                                    // The ADC counts steps of 2^s, rounding half up, and saturates at 2^a - 1 steps.
                                    steps = Math.Min(step == 0 ? sum : (sum + (1L << (step - 1))) >> step, adcMax);
                                }
                                else
                                {
                                    var digits = new long[groupEnd - group];
                                    for (int i = group; i < groupEnd; i++)
                                    {
                                        digits[i - group] = (inputCodes[i] >> (xbar.DacBits * k)) & digitMask;
                                    }

                                    steps = chip.Convert(site, sample, k, (group - first) / rowsPerRead, column, g!, blockCols, group - first,
                                        digits, step, xbar.AdcBits);
                                }

                                Int128 converted = (Int128)steps << (step + baseShift + (xbar.CellBits * j) + (xbar.DacBits * k));
                                if (sign > 0)
                                {
                                    positive += converted;
                                }
                                else
                                {
                                    negative += converted;
                                }
                            }
                        }
                    }
                }
            }

            Int128 correction = 0;
            if (offset)
            {
                for (int i = 0; i < inF; i++)
                {
                    correction += inputCodes[i];
                }

                correction *= qw;
            }

            result[o] = new CrossbarSum(checked((long)positive), checked((long)negative), checked((long)correction));
        }

        return result;
    }

    /// <summary>
    /// Section 5: the output codes of a layer from its accumulators, and for a sigmoid, tanh or leaky relu layer the
    /// pre-activation codes t. A last layer without activation outputs its accumulators.
    /// </summary>
    public static (long[]? PreActivation, long[] Output) OutputStage(QuantizedLayer layer, long[] acc)
    {
        if (layer.IsLast && layer.Activation == ActivationKind.None)
        {
            return (null, acc);
        }

        ActivationQuant y = layer.Output ?? throw Contradiction(layer, "has no output quantization");
        if (layer.Requant.Length != layer.OutFeatures)
        {
            throw Contradiction(layer, $"has {layer.Requant.Length} requantization multipliers for {layer.OutFeatures} outputs");
        }

        var output = new long[layer.OutFeatures];
        if (!Contract.UsesActivationUnit(layer.Activation))
        {
            long lo = layer.Activation == ActivationKind.Relu ? y.ZeroPoint : 0;
            for (int o = 0; o < output.Length; o++)
            {
                Int128 v = Contract.Requantize(acc[o], layer.Requant[o].Multiplier, layer.Requant[o].Shift) + y.ZeroPoint;
                output[o] = (long)Int128.Clamp(v, lo, y.Max);
            }

            return (null, output);
        }

        ActivationQuant pre = layer.PreActivation ?? throw Contradiction(layer, $"has a {layer.Activation} activation but no pre-activation quantization");

        var t = new long[layer.OutFeatures];
        for (int o = 0; o < output.Length; o++)
        {
            Int128 v = Contract.Requantize(acc[o], layer.Requant[o].Multiplier, layer.Requant[o].Shift) + pre.ZeroPoint;
            t[o] = (long)Int128.Clamp(v, 0, pre.Max);
            output[o] = Contract.ActivationCode(layer, t[o]);
        }

        return (t, output);
    }

    /// <summary>
    /// Section 5 item 3: the host's floats from the last layer's integers. Accumulators give
    /// (float)((double)(s_x * s_w[o]) * acc[o]); codes give (float)(s_y * (y[o] - z_y)).
    /// </summary>
    public static float[] Dequantize(QuantizedLayer last, ReadOnlySpan<long> values)
    {
        var result = new float[last.OutFeatures];
        for (int o = 0; o < result.Length; o++)
        {
            if (last.Activation == ActivationKind.None)
            {
                double scale = last.Input.Scale * last.WeightScales[o];
                result[o] = (float)(scale * values[o]);
            }
            else
            {
                ActivationQuant y = last.Output ?? throw Contradiction(last, "has no output quantization");
                result[o] = (float)(y.Scale * (values[o] - y.ZeroPoint));
            }
        }

        return result;
    }

    /// <summary>Dequantized float outputs for a batch (rows of x), then a host softmax if the model ends in one.</summary>
    public static float[] Run(QuantizedModel model, CrossbarParams xbar, NdArray x)
    {
        QuantizedLayer last = model.Layers[^1];
        int inF = model.Layers[0].InFeatures, outF = last.OutFeatures;
        if (x.Rows > 0 && x.RowLength != inF)
        {
            throw new ArgumentException($"the model takes {inF} values per sample, the batch has {x.RowLength}", nameof(x));
        }

        var result = new float[x.Rows * outF];
        for (int r = 0; r < x.Rows; r++)
        {
            long[] codes = RunCodes(model, xbar, QuantizeInput(model, x.Row(r)));
            float[] row = Dequantize(last, codes);
            if (model.SoftmaxAtEnd)
            {
                row = Softmax(row);
            }

            row.CopyTo(result, r * outF);
        }

        return result;
    }

    /// <summary>The host's softmax over one row, in double, max-subtracted.</summary>
    public static float[] Softmax(float[] row)
    {
        double max = row.Length == 0 ? 0 : row.Max();
        double[] e = [.. row.Select(v => Math.Exp(v - max))];
        double total = e.Sum();
        return [.. e.Select(v => (float)(v / total))];
    }

    private static void CheckLayer(QuantizedModel model, int l)
    {
        QuantizedLayer layer = model.Layers[l];
        if (layer.IsLast != (l == model.Layers.Length - 1))
        {
            throw Contradiction(layer, "has IsLast wrong");
        }

        if (layer.Weights.Length != layer.InFeatures * layer.OutFeatures || layer.Bias.Length != layer.OutFeatures || layer.WeightScales.Length != layer.OutFeatures)
        {
            throw Contradiction(layer, "has weights, bias or scales of the wrong length");
        }

        // Mixed precision: a layer's bits come from the per-layer table, else the global option.
        int expectedBits = model.Options.BitsFor(l, layer.Name).WeightBits;
        if (layer.WeightBits != expectedBits)
        {
            throw Contradiction(layer, $"has {layer.WeightBits}-bit weights but the options say {expectedBits}");
        }

        if (l > 0 && model.Layers[l - 1].Output != layer.Input)
        {
            throw Contradiction(layer, "does not take the previous layer's output quantization as input");
        }

        if (layer.IsLast && layer.Activation == ActivationKind.None && layer.Output is not null)
        {
            throw Contradiction(layer, "is a last layer without activation but has an output quantization");
        }
    }

    private static void CheckCodes(QuantizedLayer layer, ReadOnlySpan<long> u)
    {
        if (u.Length != layer.InFeatures)
        {
            throw new ArgumentException($"layer '{layer.Name}' takes {layer.InFeatures} codes, got {u.Length}");
        }

        foreach (long v in u)
        {
            if (v < 0 || v > layer.Input.Max)
            {
                throw new ArgumentOutOfRangeException(nameof(u), v, $"layer '{layer.Name}' takes codes in [0, {layer.Input.Max}]");
            }
        }
    }

    private static long CheckedWeight(QuantizedLayer layer, int index, long qw)
    {
        long w = layer.Weights[index];
        if (w < -qw || w > qw)
        {
            throw Contradiction(layer, $"has weight {w} outside [-{qw}, {qw}]");
        }

        return w;
    }

    private static InvalidOperationException Contradiction(QuantizedLayer layer, string what) =>
        new($"layer '{layer.Name}' {what}: the quantized model contradicts docs/quantization.md");
}
