using System.Collections.Immutable;
using Cimc.Mapping;
using Cimc.Quantization;

namespace Cimc.Tests.Mapping;

public sealed class AdcResolutionTests
{
    /// <summary>
    /// A one-layer model whose columns hold every weight matrix column in [-Qw, Qw]^in, so that the
    /// largest column sum over all columns is the largest over all weights of that precision.
    /// </summary>
    private static QuantizedModel EveryColumn(int inF, int weightBits, long inputMax, SignedWeightEncoding encoding, int rowsPerRead)
    {
        long qw = IntMath.SymmetricMax(weightBits);
        int values = (int)((2 * qw) + 1);
        int outF = (int)Math.Pow(values, inF);
        var weights = new int[outF * inF];
        for (int o = 0; o < outF; o++)
        {
            int rest = o;
            for (int i = 0; i < inF; i++)
            {
                weights[(o * inF) + i] = (int)((rest % values) - qw);
                rest /= values;
            }
        }

        var layer = new QuantizedLayer("fc", inF, outF, [.. weights], weightBits, [.. Enumerable.Repeat(1.0, outF)], [.. new long[outF]],
            new ActivationQuant(1, 0, inputMax), ActivationKind.None, 0, [.. Enumerable.Repeat(new FixedPoint(1, 0), outF)], null, null, IsLast: true)
        { RowsPerRead = rowsPerRead };
        return new QuantizedModel("every-column", new QuantizationOptions(weightBits, 8, Granularity.PerChannel, encoding), [layer], false);
    }

    /// <summary>The largest sum one read (one row group, one input slice, one column) produces over every input vector: by enumeration.</summary>
    private static long BruteForceLargestSum(MappedLayer layer, CrossbarGeometry g, long inputMax)
    {
        int inF = layer.Layer.InFeatures, group = layer.Layer.RowsPerRead > 0 ? layer.Layer.RowsPerRead : g.Rows;
        int slices = IntMath.CeilDiv(Math.Max(1, IntMath.BitLength(inputMax)), g.DacBits);
        long mask = (1L << g.DacBits) - 1, largest = 0;
        var u = new long[inF];
        long vectors = (long)Math.Pow(inputMax + 1, inF);
        for (long v = 0; v < vectors; v++)
        {
            long rest = v;
            for (int i = 0; i < inF; i++)
            {
                u[i] = rest % (inputMax + 1);
                rest /= inputMax + 1;
            }

            foreach (CrossbarBlock b in layer.Blocks)
            {
                for (int k = 0; k < slices; k++)
                {
                    for (int c = 0; c < b.ColCount; c++)
                    {
                        for (int start = 0; start < b.RowCount; start += group)
                        {
                            long sum = 0;
                            for (int r = start; r < Math.Min(b.RowCount, start + group); r++)
                            {
                                sum += ((u[b.RowStart + r] >> (g.DacBits * k)) & mask) * b.Levels[(r * g.Cols) + c];
                            }

                            largest = Math.Max(largest, sum);
                        }
                    }
                }
            }
        }

        return largest;
    }

    public static TheoryData<int, int, int, int, int, long, SignedWeightEncoding, int> SmallCases()
    {
        var data = new TheoryData<int, int, int, int, int, long, SignedWeightEncoding, int>();
        // in, crossbar rows, cell bits, DAC bits, weight bits, largest input code, encoding, rows per read
        var rng = new Random(8);
        SignedWeightEncoding[] encodings = [SignedWeightEncoding.Differential, SignedWeightEncoding.Offset, SignedWeightEncoding.TwosComplement];
        for (int n = 0; n < 36; n++)
        {
            int inF = 1 + rng.Next(3);
            int weightBits = inF == 3 ? 2 + rng.Next(2) : 2 + rng.Next(3);
            int rows = 1 + rng.Next(4);
            data.Add(inF, rows, 1 + rng.Next(3), 1 + rng.Next(3), weightBits, rng.Next(1, inF == 3 ? 8 : 16), encodings[n % 3], rng.Next(3) == 0 ? 1 + rng.Next(rows) : 0);
        }

        return data;
    }

    /// <summary>
    /// The closed form (rows at once x largest digit x largest level) against enumeration of every
    /// weight column and every input vector through the real mapper's slicing: the sums are equal,
    /// and the lossless bits are exactly the bits of that sum (one fewer would not hold it).
    /// </summary>
    [Theory]
    [MemberData(nameof(SmallCases))]
    public void Lossless_bits_are_exactly_the_bits_of_the_largest_column_sum_found_by_enumeration(
        int inF, int rows, int cellBits, int dacBits, int weightBits, long inputMax, SignedWeightEncoding encoding, int rowsPerRead)
    {
        QuantizedModel model = EveryColumn(inF, weightBits, inputMax, encoding, rowsPerRead);
        var g = new CrossbarGeometry(rows, model.Layers[0].OutFeatures, cellBits, dacBits, 8);
        MappedModel mapped = CrossbarMapper.Map(model, g);

        AdcRequirement need = AdcResolution.Of(mapped)[0];
        long brute = BruteForceLargestSum(mapped.Layers[0], g, inputMax);
        Assert.Equal(brute, need.MaxSum);
        Assert.True(brute <= (1L << need.LosslessBits) - 1, $"{brute} does not fit in {need.LosslessBits} bits");
        Assert.True(need.LosslessBits == 1 || brute > (1L << (need.LosslessBits - 1)) - 1, $"{brute} fits in {need.LosslessBits - 1} bits");
    }

    [Fact]
    public void Isaac_reads_of_128_rows_of_2_bit_cells_with_1_bit_dacs_need_9_bits_and_fewer_rows_need_fewer()
    {
        QuantizedModel model = EveryColumn(1, 8, 255, SignedWeightEncoding.Offset, 0);
        var layer = model.Layers[0] with { InFeatures = 300, OutFeatures = 1, Weights = [.. Enumerable.Repeat(5, 300)], WeightScales = [1.0], Bias = [0], Requant = [new FixedPoint(1, 0)] };
        AdcRequirement Need(int rowsPerRead, int rows = 128) =>
            AdcResolution.Of(CrossbarMapper.Map(model with { Layers = [layer with { RowsPerRead = rowsPerRead }] }, new CrossbarGeometry(rows, 128, 2, 1, 8)))[0];

        Assert.Equal((128, 384L, 9), (Need(0).RowsAtOnce, Need(0).MaxSum, Need(0).LosslessBits));   // 128 x 1 x 3
        Assert.Equal(8, Need(64).LosslessBits);                                                       // 64 x 1 x 3 = 192
        Assert.Equal(10, Need(0, rows: 256).LosslessBits);                                            // 256 x 1 x 3 = 768
        Assert.False(Need(0).Lossless);
        Assert.True(Need(64).Lossless);
        Assert.Contains("lossless needs a 9-bit ADC, the chip has 8 (sums above 255 saturate)", Need(0).Warning());
        Assert.Null(Need(64).Warning());
    }

    [Fact]
    public void The_full_adc_range_covers_the_largest_sum_the_layer_can_produce_and_no_more()
    {
        // 10 inputs of 2-bit cells, 1-bit DACs: the largest sum is 10 x 1 x 3 = 30, 5 bits; a 4-bit ADC
        // needs a step of 2, not the step of 2^(bitlen(128 x 3) - 4) = 32 that the whole crossbar would ask.
        QuantizedModel model = EveryColumn(1, 8, 255, SignedWeightEncoding.Offset, 0);
        var layer = model.Layers[0] with { InFeatures = 10, OutFeatures = 1, Weights = [.. Enumerable.Repeat(5, 10)], WeightScales = [1.0], Bias = [0], Requant = [new FixedPoint(1, 0)] };
        MappedModel mapped = CrossbarMapper.Map(model with { Layers = [layer] }, new CrossbarGeometry(128, 128, 2, 1, 4));
        MappedModel full = AdcRangeSelection.Apply(mapped, model.Options with { AdcRange = AdcRange.Full }, null);
        Assert.Equal(1, full.Layers[0].Layer.AdcShift);
        AdcRequirement need = AdcResolution.Of(full)[0];
        Assert.Equal((30L, 5), (need.MaxSum, need.LosslessBits));
        Assert.Contains("ADC step 2 rounds away the low bit", need.Warning());
        Assert.DoesNotContain("saturate", need.Warning()); // 30 + 1 < 2^5: nothing clips
    }

    [Fact]
    public void Model_lossless_bits_are_the_largest_over_its_layers()
    {
        QuantizedModel one = EveryColumn(1, 8, 255, SignedWeightEncoding.Differential, 0);
        QuantizedLayer wide = one.Layers[0] with { Name = "wide", InFeatures = 100, OutFeatures = 1, Weights = [.. Enumerable.Repeat(1, 100)], WeightScales = [1.0], Bias = [0], Requant = [new FixedPoint(1, 0)] };
        QuantizedLayer narrow = wide with { Name = "narrow", InFeatures = 3, Weights = [1, 1, 1] };
        MappedModel mapped = CrossbarMapper.Map(one with { Layers = [narrow, wide] }, new CrossbarGeometry(128, 128, 2, 1, 8));
        ImmutableArray<AdcRequirement> needs = AdcResolution.Of(mapped);
        Assert.Equal([4, 9], needs.Select(n => n.LosslessBits));   // 3 x 1 x 3 = 9; 100 x 1 x 3 = 300
        Assert.Equal(9, AdcResolution.LosslessBits(mapped));
        Assert.StartsWith("layer 'wide' reads 100 rows", AdcResolution.Warning(mapped));
    }
}
