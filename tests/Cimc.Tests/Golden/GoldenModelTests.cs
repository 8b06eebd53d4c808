using System.Collections.Immutable;
using System.Numerics;
using Cimc.Data;
using Cimc.Ir;
using Cimc.Quantization;
using Cimc.Reference;
using CsCheck;

namespace Cimc.Tests.Golden;

public sealed class GoldenModelTests
{
    private const int Iterations = 150;

    // ---- (1) no saturation: crossbars = ideal, both encodings agree ----

    [Fact]
    public void Without_adc_saturation_every_layer_accumulates_exactly_the_ideal_sum_for_both_encodings()
    {
        RandomModels.Cases(1, 8).Sample(c =>
        {
            QuantizedModel diff = c.Quantize(SignedWeightEncoding.Differential), off = c.Quantize(SignedWeightEncoding.Offset);
            Assert.Equal(diff.Layers.Select(l => l.Weights.ToArray()), off.Layers.Select(l => l.Weights.ToArray()));
            NdArray x = InputsAroundTheRange(c);
            for (int r = 0; r < x.Rows; r++)
            {
                long[] u = GoldenModel.QuantizeInput(diff, x.Row(r));
                LayerTrace[] td = GoldenModel.Trace(diff, c.NonSaturating, u), to = GoldenModel.Trace(off, c.NonSaturating, u);
                for (int l = 0; l < td.Length; l++)
                {
                    Assert.Equal(GoldenModel.IdealAccumulators(diff.Layers[l], td[l].Input), td[l].Accumulators);
                    Assert.Equal(td[l].Accumulators, to[l].Accumulators);
                    Assert.Equal(td[l].Output, to[l].Output);
                }
            }
        }, iter: Iterations);
    }

    [Fact]
    public void Column_count_does_not_change_the_arithmetic()
    {
        RandomModels.Cases(1, 8).Sample(c =>
        {
            QuantizedModel model = c.Quantize(SignedWeightEncoding.Offset);
            CrossbarParams narrow = c.NonSaturating with { Cols = 1, AdcBits = 3 }, wide = narrow with { Cols = 256 };
            long[] u = GoldenModel.QuantizeInput(model, c.Calibration.Row(0));
            Assert.Equal(GoldenModel.RunCodes(model, narrow, u), GoldenModel.RunCodes(model, wide, u));
        }, iter: 30);
    }

    // ---- (2) high precision: close to the float reference ----

    [Fact]
    public void With_12_to_16_bits_the_outputs_are_within_the_propagated_quantization_error_of_the_float_model()
    {
        RandomModels.Cases(12, 16).Sample(c =>
        {
            Graph graph = c.Graph;
            NdArray x = c.Calibration; // calibrated on these very samples: no value leaves its range
            QuantizedModel model = c.Quantize(SignedWeightEncoding.Differential);
            float[] golden = GoldenModel.Run(model, c.NonSaturating, x);
            float[] reference = FloatExecutor.Run(graph, x).Data;
            LayerChain chain = LayerChain.FromGraph(graph);
            int outF = chain.OutFeatures;
            for (int r = 0; r < x.Rows; r++)
            {
                double[] bound = ErrorBound(chain, model, x.Row(r), out double[] preSoftmax);
                for (int o = 0; o < outF; o++)
                {
                    double g = golden[(r * outF) + o], f = reference[(r * outF) + o];
                    double tol = bound[o];
                    if (chain.SoftmaxAtEnd)
                    {
                        // log p_i moves by at most 2e when every logit moves by at most e.
                        double e = bound.Max();
                        tol = (Math.Max(g, f) * (Math.Exp(2 * e) - 1)) + (4 * Unit);
                    }

                    Assert.True(Math.Abs(g - f) <= tol, $"row {r} output {o}: golden {g}, float {f}, bound {tol} (logit {preSoftmax[o]})");
                }
            }
        }, iter: Iterations);
    }

    private const double Unit = 1.0 / (1 << 24); // float32 unit roundoff

    /// <summary>
    /// A bound on |golden - exact| + |float32 reference - exact| per output, propagated layer by layer
    /// from the scales: input rounding s_x/2, weight rounding s_w/2, bias rounding s_x s_w/2, the
    /// requantization (1/2 code + the relative error of M / 2^r), the LUT's Lipschitz constant and
    /// output rounding s_y/2; clamps never add error because calibrated values lie inside the ranges.
    /// </summary>
    private static double[] ErrorBound(LayerChain chain, QuantizedModel model, ReadOnlySpan<float> input, out double[] logits)
    {
        double[] x = [.. input.ToArray().Select(v => (double)v)];
        double ex = (model.Input.Scale / 2) + (Unit * x.Select(Math.Abs).DefaultIfEmpty(0).Max());
        for (int l = 0; l < chain.Layers.Length; l++)
        {
            ChainLayer cl = chain.Layers[l];
            QuantizedLayer ql = model.Layers[l];
            int inF = cl.Dense.InFeatures, outF = cl.Dense.OutFeatures;
            var y = new double[outF];
            var e = new double[outF];
            for (int o = 0; o < outF; o++)
            {
                double sw = ql.WeightScales[o], sx = ql.Input.Scale;
                double pre = cl.Dense.Bias is { } b ? b[o] : 0, magnitude = Math.Abs(pre), delta = sx * sw / 2;
                for (int i = 0; i < inF; i++)
                {
                    double w = cl.Dense.Weight[(o * inF) + i];
                    pre += w * x[i];
                    magnitude += Math.Abs(w * x[i]);
                    delta += (Math.Abs(w) * ex) + (sw / 2 * (Math.Abs(x[i]) + ex));
                }

                delta += (inF + 2) * 2 * Unit * magnitude; // float32 dot product in the reference
                if (ql.IsLast && cl.Activation == ActivationKind.None)
                {
                    y[o] = pre;
                    e[o] = delta + (Unit * (Math.Abs(pre) + delta));
                    continue;
                }

                ActivationQuant target = ql.PreActivation ?? ql.Output!;
                double mu = sx * sw / target.Scale;
                double rel = Math.Abs((ql.Requant[o].Multiplier * Math.Pow(2, -ql.Requant[o].Shift)) - mu) / mu;
                double ePre = delta + (target.Scale / 2) + ((Math.Abs(pre) + delta) * rel) + (4 * Unit * target.Scale * target.Max);
                double post = Contract.Activate(cl.Activation, cl.Alpha, pre);
                double lipschitz = cl.Activation switch
                {
                    ActivationKind.Sigmoid => 0.25,
                    ActivationKind.LeakyRelu => Math.Max(1, Math.Abs(cl.Alpha)),
                    _ => 1,
                };
                double eOut = Contract.UsesActivationUnit(cl.Activation) ? (lipschitz * ePre) + (ql.Output!.Scale / 2) : ePre;
                y[o] = post;
                e[o] = eOut + (2 * Unit * (Math.Abs(post) + eOut)); // float32 activation and cast
            }

            x = y;
            ex = e.DefaultIfEmpty(0).Max();
            if (l == chain.Layers.Length - 1)
            {
                logits = y;
                return e;
            }
        }

        throw new InvalidOperationException("unreachable");
    }

    // ---- (3) saturation ----

    [Fact]
    public void A_two_bit_adc_saturates_each_conversion_of_a_tall_row_block_at_three()
    {
        // 64 inputs of code 1 against 64 weights of +1: the ideal sum is 64.
        QuantizedModel model = HandModel(
            Layer("fc", 64, 1, [.. Enumerable.Repeat(1, 64)], [5], 2, new ActivationQuant(1, 0, 1), ActivationKind.None, isLast: true));
        long[] u = [.. Enumerable.Repeat(1L, 64)];
        Assert.Equal([69L], GoldenModel.IdealAccumulators(model.Layers[0], u));
        Assert.Equal([3L + 5], GoldenModel.RunCodes(model, new CrossbarParams(64, 8, 1, 1, 2), u));
        Assert.Equal([(4 * 3L) + 5], GoldenModel.RunCodes(model, new CrossbarParams(16, 8, 1, 1, 2), u)); // 4 row blocks
        Assert.Equal([64L + 5], GoldenModel.RunCodes(model, new CrossbarParams(64, 8, 1, 1, 7), u));

        // Offset encoding: w_u = 1 + Qw = 2 is binary 10, so the sum lands in slice 1 (weight 2): 2 * 3 - Qw * 64.
        QuantizedModel offset = model with { Options = model.Options with { SignedWeights = SignedWeightEncoding.Offset } };
        Assert.Equal([(2 * 3L) - 64 + 5], GoldenModel.RunCodes(offset, new CrossbarParams(64, 8, 1, 1, 2), u));
    }

    [Fact]
    public void Every_conversion_is_at_most_its_ideal_partial_sum_so_each_polarity_only_loses()
    {
        Gen<(ModelCase, int)> gen = RandomModels.Cases(1, 8).Select(Gen.Int[1, 3], (c, a) => (c, a));
        gen.Sample((c, adcBits) =>
        {
            foreach (SignedWeightEncoding encoding in new[] { SignedWeightEncoding.Differential, SignedWeightEncoding.Offset })
            {
                QuantizedModel model = c.Quantize(encoding);
                CrossbarParams small = c.NonSaturating with { Rows = c.Rows * 4, AdcBits = adcBits };
                CrossbarParams ideal = small with { AdcBits = CrossbarParams.NonSaturatingAdcBits(small.Rows, small.CellBits, small.DacBits) };
                long[] u = GoldenModel.QuantizeInput(model, c.Calibration.Row(0));
                LayerTrace[] trace = GoldenModel.Trace(model, small, u);
                for (int l = 0; l < trace.Length; l++)
                {
                    QuantizedLayer layer = model.Layers[l];
                    CrossbarSum[] sat = GoldenModel.CrossbarSums(layer, encoding, small, trace[l].Input);
                    CrossbarSum[] more = GoldenModel.CrossbarSums(layer, encoding, small with { AdcBits = adcBits + 1 }, trace[l].Input);
                    CrossbarSum[] exact = GoldenModel.CrossbarSums(layer, encoding, ideal, trace[l].Input);
                    long[] idealAcc = GoldenModel.IdealAccumulators(layer, trace[l].Input);
                    for (int o = 0; o < layer.OutFeatures; o++)
                    {
                        Assert.InRange(sat[o].Positive, 0, more[o].Positive);
                        Assert.InRange(more[o].Positive, 0, exact[o].Positive);
                        Assert.InRange(sat[o].Negative, 0, more[o].Negative);
                        Assert.InRange(more[o].Negative, 0, exact[o].Negative);
                        Assert.Equal(exact[o].Correction, sat[o].Correction);
                        bool nonNegativeRow = Enumerable.Range(0, layer.InFeatures).All(i => layer.Weights[(o * layer.InFeatures) + i] >= 0);
                        if (encoding == SignedWeightEncoding.Offset || nonNegativeRow)
                        {
                            // Only the positive polarity exists (offset) or carries weight: saturation can only lower acc.
                            Assert.True(trace[l].Accumulators[o] <= idealAcc[o], $"layer {l} output {o}: {trace[l].Accumulators[o]} > ideal {idealAcc[o]}");
                        }
                    }
                }
            }
        }, iter: 60);
    }

    [Fact]
    public void With_a_tiny_adc_and_tall_crossbars_the_golden_outputs_differ_from_the_ideal_ones()
    {
        // A positive-weight layer on unsigned inputs: 40 rows of (code 3) x (weight 7) = 840 >> 2^2 - 1.
        int inF = 40;
        QuantizedModel model = HandModel(
            Layer("fc", inF, 2, [.. Enumerable.Repeat(7, inF), .. Enumerable.Repeat(-7, inF)], [0, 0], 4, new ActivationQuant(0.1, 0, 3), ActivationKind.None, isLast: true));
        long[] u = [.. Enumerable.Repeat(3L, inF)];
        long[] ideal = GoldenModel.IdealAccumulators(model.Layers[0], u);
        Assert.Equal([840L, -840L], ideal);
        var xbar = new CrossbarParams(64, 64, 1, 1, 2);
        long[] sat = GoldenModel.RunCodes(model, xbar, u);
        // Each of 3 weight slices x 2 input slices converts 40 -> 3: 3 * (1 + 2 + 4) * (1 + 2) = 63.
        Assert.Equal([63L, -63L], sat);
        float[] outputs = GoldenModel.Run(model, xbar, new NdArray([1, inF], [.. Enumerable.Repeat(0.3f, inF)]));
        Assert.Equal([(float)(0.1 * 0.5 * 63), (float)(0.1 * 0.5 * -63)], outputs);
    }

    // ---- (4) hand examples ----

    [Theory]
    [InlineData(5, 1, 1, 3)] // 2.5 rounds up
    [InlineData(-5, 1, 1, -2)] // -2.5 rounds up too (floor of + half), not away from zero
    [InlineData(-6, 1, 2, -1)] // -1.5 -> -1
    [InlineData(-7, 1, 2, -2)] // -1.75 -> -2
    [InlineData(-7, 3, 0, -21)] // shift 0: a plain product
    [InlineData(0, 123, 5, 0)]
    [InlineData(-7, 1 << 30, 31, -3)] // -3.5 -> -3
    [InlineData(3L << 60, 1L << 40, 100, 3)] // 3 * 2^100 / 2^100 with half added: 3.5 floors to 3
    [InlineData(-(1L << 62), long.MaxValue, 126, 0)] // -2^125 + 2^62 + 2^125 >= 0
    [InlineData(-(1L << 62) - 1, long.MaxValue, 126, -1)] // just below zero before the floor
    [InlineData(long.MinValue, long.MaxValue, 126, -1)] // -1/2 + 2^-63 floors to -1
    public void Requantization_floors_acc_times_m_plus_half_over_two_to_the_shift(long acc, long multiplier, int shift, long expected)
    {
        Assert.Equal((Int128)expected, Contract.Requantize(acc, multiplier, shift));
        var exact = (BigInteger)acc * multiplier;
        if (shift > 0)
        {
            exact = BigInteger.Divide(exact + (BigInteger.One << (shift - 1)) - ((exact + (BigInteger.One << (shift - 1))).Sign < 0 ? (BigInteger.One << shift) - 1 : 0), BigInteger.One << shift);
        }

        Assert.Equal(exact, (BigInteger)Contract.Requantize(acc, multiplier, shift));
    }

    [Fact]
    public void Requantization_with_shift_zero_keeps_the_full_128_bit_product()
    {
        Assert.Equal((Int128)long.MaxValue * long.MaxValue, Contract.Requantize(long.MaxValue, long.MaxValue, 0));
        Assert.Equal(-(Int128)long.MaxValue * long.MaxValue, Contract.Requantize(-long.MaxValue, long.MaxValue, 0));
    }

    [Theory]
    [InlineData(1.0, 1L << 30, 30)]
    [InlineData(0.75, 1610612736L, 31)]
    [InlineData(1.5, 1610612736L, 30)]
    [InlineData(3e9, 3_000_000_000L, 0)] // e = 31: r would be -1
    [InlineData(2147483648.0, 2147483648L, 0)]
    [InlineData(7.888609052210118e-31, 1L << 26, 126)] // 2^-100: r would be 130
    [InlineData(0.0, 0L, 0)]
    public void Fixed_point_multipliers_follow_the_contract(double mu, long multiplier, int shift)
    {
        Assert.Equal((multiplier, shift), Contract.FixedPoint(mu));
        Assert.Equal(new FixedPoint(multiplier, shift), FixedPoint.FromReal(mu));
    }

    [Fact]
    public void Host_input_quantization_rounds_half_away_from_zero_and_clamps()
    {
        QuantizedModel model = HandModel(Layer("fc", 6, 1, [1, 1, 1, 1, 1, 1], [0], 3, new ActivationQuant(0.5, 3, 6), ActivationKind.None, isLast: true));
        Assert.Equal([4L, 2L, 6L, 0L, 3L, 6L], GoldenModel.QuantizeInput(model, [0.25f, -0.25f, 100f, float.NegativeInfinity, float.NaN, 1.3f]));
    }

    [Fact]
    public void A_hand_computed_two_layer_network_with_relu_and_a_sigmoid()
    {
        // Layer 1: signed 3-bit input (z = 3, umax = 6), ReLU, per-output multipliers 1/2 (2^30 / 2^31) and 3 (3, r = 0).
        QuantizedLayer l1 = Layer("fc1", 2, 2, [1, -1, 2, 0], [4, -3], 3, new ActivationQuant(0.5, 3, 6), ActivationKind.Relu, isLast: false) with
        {
            Requant = [new FixedPoint(1L << 30, 31), new FixedPoint(3, 0)],
            Output = new ActivationQuant(0.25, 0, 7),
        };

        // Layer 2: sigmoid of t in 0..6 (z_t = 3, s_t = 1) into 6-bit codes of scale 1/64.
        QuantizedLayer l2 = Layer("fc2", 2, 1, [-1, 1], [0], 3, l1.Output, ActivationKind.Sigmoid, isLast: true) with
        {
            Requant = [new FixedPoint(1, 0)],
            PreActivation = new ActivationQuant(1.0, 3, 6),
            Output = new ActivationQuant(1.0 / 64, 0, 63),
        };
        QuantizedModel model = HandModel(l1, l2);

        // u = [5, 1] is [2, -2] around z = 3. acc = [1*2 + -1*-2 + 4, 2*2 + 0 - 3] = [8, 1].
        // y1 = [floor((8 * 2^30 + 2^30) / 2^31), 1 * 3] = [4, 3]. acc2 = -4 + 3 = -1, t = -1 + 3 = 2,
        // y = round(sigmoid(1 * (2 - 3)) * 64) = round(17.21) = 17.
        foreach (CrossbarParams xbar in new[] { new CrossbarParams(1, 1, 1, 1, 1), new CrossbarParams(2, 2, 2, 2, 4), new CrossbarParams(8, 8, 4, 3, 12) })
        {
            foreach (SignedWeightEncoding encoding in new[] { SignedWeightEncoding.Differential, SignedWeightEncoding.Offset })
            {
                QuantizedModel m = model with { Options = model.Options with { SignedWeights = encoding } };
                LayerTrace[] trace = GoldenModel.Trace(m, xbar, [5, 1]);
                Assert.Equal([8L, 1L], trace[0].Accumulators);
                Assert.Equal([4L, 3L], trace[0].Output);
                Assert.Equal([-1L], trace[1].Accumulators);
                Assert.Equal([2L], trace[1].PreActivation!);
                Assert.Equal([17L], trace[1].Output);
            }
        }

        Assert.Equal([17f / 64], GoldenModel.Dequantize(l2, [17L]));
    }

    [Fact]
    public void Relu_clamps_at_the_output_zero_point_and_a_plain_hidden_layer_at_code_zero()
    {
        ActivationQuant signed = new(0.1, 3, 6);
        QuantizedLayer relu = Layer("r", 1, 3, [1, 1, 1], [0, 0, 0], 3, new ActivationQuant(1, 0, 7), ActivationKind.Relu, isLast: false) with
        {
            Requant = [new FixedPoint(1, 0), new FixedPoint(1, 0), new FixedPoint(1, 0)],
            Output = signed,
        };
        QuantizedLayer plain = relu with { Activation = ActivationKind.None };

        // Accumulators [-5, 1, 9] times M = 1, plus z_y = 3: [-2, 4, 12], clamped to [3, 6] (ReLU) or [0, 6].
        Assert.Equal([3L, 4L, 6L], GoldenModel.OutputStage(relu, [-5, 1, 9]).Output);
        Assert.Equal([0L, 4L, 6L], GoldenModel.OutputStage(plain, [-5, 1, 9]).Output);
    }

    [Fact]
    public void A_last_layer_without_activation_outputs_its_accumulators_dequantized_by_sx_times_sw()
    {
        QuantizedLayer layer = Layer("fc", 3, 1, [3, -2, 1], [5], 3, new ActivationQuant(0.1, 0, 15), ActivationKind.None, isLast: true) with { WeightScales = [0.2] };
        QuantizedModel model = HandModel(layer);
        long[] acc = GoldenModel.RunCodes(model, new CrossbarParams(2, 1, 1, 2, 8), [15, 7, 0]);
        Assert.Equal([45L - 14 + 0 + 5], acc);
        Assert.Equal([(float)(0.1 * 0.2 * 36.0)], GoldenModel.Dequantize(layer, acc));
    }

    [Fact]
    public void The_quantizer_sets_activation_quantizations_and_multipliers_as_the_contract_says()
    {
        Gen<ModelCase> lutCases = RandomModels.Cases(1, 10).Select(c => c with
        {
            Activations = [.. c.Activations.Select((k, i) => i % 2 == 0 ? ActivationKind.Sigmoid : ActivationKind.Tanh)],
        });
        lutCases.Sample(c =>
        {
            QuantizedModel model = c.Quantize(SignedWeightEncoding.Differential);
            foreach (QuantizedLayer layer in model.Layers)
            {
                ActivationQuant pre = layer.PreActivation!;
                long[] codes = [.. Enumerable.Range(0, (int)pre.Max + 1).Select(t => Contract.ActivationCode(layer, t))];
                Assert.True(codes.Zip(codes.Skip(1)).All(p => p.First <= p.Second), "sigmoid and tanh codes never decrease");
                if (layer.Activation == ActivationKind.Sigmoid)
                {
                    Assert.Equal(0, layer.Output!.ZeroPoint); // sigmoid outputs are unsigned
                }

                for (int o = 0; o < layer.OutFeatures; o++)
                {
                    (long m, int r) = Contract.FixedPoint(layer.Input.Scale * layer.WeightScales[o] / pre.Scale);
                    Assert.Equal(new FixedPoint(m, r), layer.Requant[o]);
                }
            }
        }, iter: 60);
    }

    [Fact]
    public void One_bit_weights_are_ternary_and_one_bit_activations_still_match_the_ideal_sums()
    {
        Gen<ModelCase> oneBit = RandomModels.Cases(1, 1).Select(c => c with { CellBits = 1, DacBits = 1 });
        oneBit.Sample(c =>
        {
            QuantizedModel diff = c.Quantize(SignedWeightEncoding.Differential), off = c.Quantize(SignedWeightEncoding.Offset);
            foreach (QuantizedLayer layer in diff.Layers)
            {
                Assert.All(layer.Weights, w => Assert.InRange(w, -1, 1));
                Assert.True(layer.Input.Max is 1 or 2, $"1-bit codes are 0..1 (unsigned) or 0..2 (signed, z = 1), got {layer.Input}");
                Assert.Equal(layer.Input.Max == 2 ? 1 : 0, layer.Input.ZeroPoint);
            }

            long[] u = GoldenModel.QuantizeInput(diff, c.Calibration.Row(1));
            LayerTrace[] td = GoldenModel.Trace(diff, c.NonSaturating, u), to = GoldenModel.Trace(off, c.NonSaturating, u);
            for (int l = 0; l < td.Length; l++)
            {
                Assert.Equal(GoldenModel.IdealAccumulators(diff.Layers[l], td[l].Input), td[l].Accumulators);
                Assert.Equal(td[l].Accumulators, to[l].Accumulators);
            }
        }, iter: 60);

        // By hand: offset-encoded ternary weights are 0, 1, 2 (two cells of one bit); signed 1-bit codes 0..2 are two input slices.
        QuantizedModel model = HandModel(Layer("fc", 3, 1, [-1, 0, 1], [0], 1, new ActivationQuant(1, 1, 2), ActivationKind.None, isLast: true));
        QuantizedModel offset = model with { Options = model.Options with { SignedWeights = SignedWeightEncoding.Offset } };
        long[] codes = [2, 0, 2]; // [1, -1, 1] around z = 1: acc = -1 + 0 + 1 = 0
        var unit = new CrossbarParams(1, 1, 1, 1, 1);
        Assert.Equal([0L], GoldenModel.RunCodes(model, unit, codes));
        Assert.Equal([0L], GoldenModel.RunCodes(offset, unit, codes));
        // With all 3 rows in one block and a 1-bit ADC: offset slice 1 holds w_u = 2 only (row 2, digit 1): min(1, 1) * 2^(1 + 1) = 4;
        // slice 0 holds w_u = 1 (row 1, code 0): nothing. acc = 4 + beff - Qw * sum u = 4 + (0 - 1 * 0) - 4 = 0.
        Assert.Equal([0L], GoldenModel.RunCodes(offset, unit with { Rows = 3 }, codes));
        // Differential with 3 rows and 1-bit ADC: + (row 2, digit 1) = 2, - (row 0, digit 1) = 2, beff = 0 - 1 * 0: acc = 0.
        Assert.Equal([0L], GoldenModel.RunCodes(model, unit with { Rows = 3 }, codes));
    }

    [Fact]
    public void Per_tensor_and_per_channel_scales_and_integers_follow_the_contract()
    {
        RandomModels.Cases(1, 10).Sample(c =>
        {
            LayerChain chain = LayerChain.FromGraph(c.Graph);
            foreach (Granularity g in new[] { Granularity.PerTensor, Granularity.PerChannel })
            {
                QuantizedModel model = (c with { Granularity = g }).Quantize(SignedWeightEncoding.Differential);
                NdArray cal = c.Calibration;
                (double s, long z, long max) = Contract.ActivationFor(cal.Data.Min(), cal.Data.Max(), c.ActivationBits);
                Assert.Equal(new ActivationQuant(s, z, max), model.Input);
                for (int l = 0; l < chain.Layers.Length; l++)
                {
                    Dense dense = chain.Layers[l].Dense;
                    QuantizedLayer layer = model.Layers[l];
                    long qw = Contract.Q(c.WeightBits);
                    int inF = dense.InFeatures;
                    double tensorMax = Enumerable.Range(0, dense.Weight.Length).Max(k => Math.Abs((double)dense.Weight[k]));
                    for (int o = 0; o < dense.OutFeatures; o++)
                    {
                        double rowMax = Enumerable.Range(0, inF).Max(i => Math.Abs((double)dense.Weight[(o * inF) + i]));
                        double m = g == Granularity.PerTensor ? tensorMax : rowMax;
                        double sw = m == 0 ? 1 : m / qw;
                        Assert.Equal(sw, layer.WeightScales[o]);
                        for (int i = 0; i < inF; i++)
                        {
                            long expected = Math.Clamp((long)Contract.Round(dense.Weight[(o * inF) + i] / sw), -qw, qw);
                            Assert.Equal(expected, layer.Weights[(o * inF) + i]);
                        }

                        if (g == Granularity.PerChannel && rowMax > 0)
                        {
                            Assert.Equal(qw, Enumerable.Range(0, inF).Max(i => Math.Abs((long)layer.Weights[(o * inF) + i])));
                        }

                        long bias = dense.Bias is { } b ? (long)Math.Clamp(Contract.Round(b[o] / (layer.Input.Scale * sw)), -Math.ScaleB(1, 62), Math.ScaleB(1, 62)) : 0;
                        Assert.Equal(bias, layer.Bias[o]);
                    }

                    if (g == Granularity.PerTensor)
                    {
                        Assert.Single(layer.WeightScales.Distinct());
                    }
                }
            }
        }, iter: 60);
    }

    [Fact]
    public void Run_dequantizes_each_row_and_applies_the_host_softmax()
    {
        RandomModels.Cases(2, 8).Select(c => c with { Softmax = true }).Sample(c =>
        {
            QuantizedModel model = c.Quantize(SignedWeightEncoding.Offset);
            NdArray x = c.Calibration;
            float[] y = GoldenModel.Run(model, c.NonSaturating, x);
            int outF = model.Layers[^1].OutFeatures;
            for (int r = 0; r < x.Rows; r++)
            {
                float[] row = y.AsSpan(r * outF, outF).ToArray();
                Assert.Equal(1.0, row.Sum(v => (double)v), 1e-5);
                float[] logits = GoldenModel.Dequantize(model.Layers[^1], GoldenModel.RunCodes(model, c.NonSaturating, GoldenModel.QuantizeInput(model, x.Row(r))));
                Assert.Equal(GoldenModel.Softmax(logits), row);
            }
        }, iter: 30);
    }

    // ---- helpers ----

    /// <summary>Calibration rows plus rows scaled beyond the calibrated range (exercising the input clamp).</summary>
    private static NdArray InputsAroundTheRange(ModelCase c)
    {
        NdArray cal = c.Calibration;
        float[] data = [.. cal.Data, .. cal.Data.Select(v => v * 3f), .. cal.Data.Select(v => -v)];
        return new NdArray([cal.Rows * 3, cal.RowLength], data);
    }

    private static QuantizedLayer Layer(string name, int inF, int outF, int[] weights, long[] bias, int weightBits, ActivationQuant input, ActivationKind activation, bool isLast) =>
        new(name, inF, outF, [.. weights], weightBits, [.. Enumerable.Repeat(0.5, outF)], [.. bias], input, activation, 0f, [], null, null, isLast);

    private static QuantizedModel HandModel(params QuantizedLayer[] layers) =>
        new("hand", new QuantizationOptions(layers[0].WeightBits, 8, Granularity.PerChannel, SignedWeightEncoding.Differential), [.. layers], false);
}
