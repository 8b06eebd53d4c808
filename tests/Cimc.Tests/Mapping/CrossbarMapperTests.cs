using Cimc.Data;
using Cimc.Diagnostics;
using Cimc.Ir;
using Cimc.Mapping;
using Cimc.Placement;
using Cimc.Quantization;

namespace Cimc.Tests.Mapping;

public sealed class CrossbarMapperTests
{
    internal static (Graph Graph, NdArray Calibration) RandomMlp(int seed, params int[] widths)
    {
        var rng = new Random(seed);
        var b = new GraphBuilder($"mlp{seed}", TensorType.Float(TensorType.Dynamic, widths[0]));
        for (int l = 1; l < widths.Length; l++)
        {
            int inF = widths[l - 1], outF = widths[l];
            float[] w = [.. Enumerable.Range(0, inF * outF).Select(_ => (float)((rng.NextDouble() - 0.5) * 2 / Math.Sqrt(inF)))];
            float[] bias = [.. Enumerable.Range(0, outF).Select(_ => (float)((rng.NextDouble() - 0.5) * 0.2))];
            b.Add($"fc{l}", new Dense(FloatTensor.Matrix(outF, inF, w), FloatTensor.Vector(bias)));
            if (l < widths.Length - 1)
            {
                b.Add($"act{l}", new Relu());
            }
        }

        float[] x = [.. Enumerable.Range(0, 32 * widths[0]).Select(_ => (float)rng.NextDouble())];
        return (b.Build(), new NdArray([32, widths[0]], x));
    }

    [Theory]
    [InlineData(784, 256, 128, 128, 2, 8, SignedWeightEncoding.Differential)]
    [InlineData(784, 256, 128, 128, 2, 16, SignedWeightEncoding.Offset)]
    [InlineData(100, 10, 16, 32, 1, 4, SignedWeightEncoding.Differential)]
    [InlineData(1500, 3, 512, 64, 3, 7, SignedWeightEncoding.Offset)]
    [InlineData(5, 1, 16, 16, 4, 1, SignedWeightEncoding.Differential)]
    [InlineData(300, 70, 64, 32, 2, 8, SignedWeightEncoding.TwosComplement)]
    [InlineData(17, 9, 16, 16, 3, 1, SignedWeightEncoding.TwosComplement)]
    public void Crossbar_count_equals_the_documented_formula(int inF, int outF, int rows, int cols, int cellBits, int weightBits, SignedWeightEncoding encoding)
    {
        (Graph graph, NdArray calibration) = RandomMlp(inF + outF, inF, outF);
        QuantizedModel q = Quantizer.Quantize(LayerChain.FromGraph(graph), calibration, new QuantizationOptions(weightBits, 8, Granularity.PerChannel, encoding));
        MappedModel mapped = CrossbarMapper.Map(q, new CrossbarGeometry(rows, cols, cellBits, 1, 8));

        long qw = Math.Max(1, (1L << (weightBits - 1)) - 1);
        static int BitLen(long v) => 64 - System.Numerics.BitOperations.LeadingZeroCount((ulong)v);
        int planes = encoding switch
        {
            SignedWeightEncoding.Differential => 2 * ((BitLen(qw) + cellBits - 1) / cellBits),
            SignedWeightEncoding.Offset => (BitLen(2 * qw) + cellBits - 1) / cellBits,
            _ => ((BitLen(qw) + cellBits - 1) / cellBits) + 1,
        };
        int expected = ((inF + rows - 1) / rows) * ((outF + cols - 1) / cols) * planes;
        Assert.Equal(expected, mapped.Layers[0].Crossbars);
    }

    [Theory]
    [InlineData(SignedWeightEncoding.Differential, 2)]
    [InlineData(SignedWeightEncoding.Offset, 3)]
    [InlineData(SignedWeightEncoding.TwosComplement, 2)]
    [InlineData(SignedWeightEncoding.TwosComplement, 3)]
    public void Slices_recombine_to_the_quantized_weights(SignedWeightEncoding encoding, int cellBits)
    {
        (Graph graph, NdArray calibration) = RandomMlp(3, 40, 20);
        QuantizedModel q = Quantizer.Quantize(LayerChain.FromGraph(graph), calibration, new QuantizationOptions(9, 8, Granularity.PerTensor, encoding));
        var g = new CrossbarGeometry(16, 8, cellBits, 1, 8);
        MappedLayer layer = CrossbarMapper.Map(q, g).Layers[0];
        var rebuilt = new long[40 * 20];
        foreach (CrossbarBlock b in layer.Blocks)
        {
            for (int r = 0; r < b.RowCount; r++)
            {
                for (int c = 0; c < b.ColCount; c++)
                {
                    int level = b.Levels[(r * g.Cols) + c];
                    Assert.InRange(level, 0, (1 << cellBits) - 1);
                    rebuilt[((b.ColStart + c) * 40) + b.RowStart + r] += b.Polarity * ((long)level << b.Shift);
                }
            }
        }

        long offset = encoding == SignedWeightEncoding.Offset ? q.Layers[0].WeightMax : 0;
        Assert.Equal(q.Layers[0].Weights.Select(w => w + offset), rebuilt);
    }

    [Fact]
    public void A_network_that_does_not_fit_names_what_it_needs_and_what_the_chip_has()
    {
        (Graph graph, NdArray calibration) = RandomMlp(1, 300, 300, 10);
        QuantizedModel q = Quantizer.Quantize(LayerChain.FromGraph(graph), calibration, new QuantizationOptions(8, 8));
        MappedModel mapped = CrossbarMapper.Map(q, new CrossbarGeometry(64, 64, 2, 1, 8));
        var e = Assert.Throws<CimcException>(() => Placer.Place(mapped, new ChipShape(1, 2, 4)));
        Assert.Contains($"needs {mapped.Crossbars} crossbars", e.Message);
        Assert.Contains("the chip has 8 crossbars", e.Message);
    }
}
