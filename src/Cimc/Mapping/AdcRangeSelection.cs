using System.Collections.Immutable;
using Cimc.Data;
using Cimc.Quantization;

namespace Cimc.Mapping;

/// <summary>
/// Chooses each layer's ADC step (2^AdcShift units) and rows per read (docs/quantization.md
/// section 6), after mapping, because both depend on the crossbar's cell levels:
/// - unit: step 1, sums beyond 2^a - 1 saturate;
/// - full: the smallest step that covers the largest sum a read can produce (<see cref="AdcResolution"/>);
/// - calibrated: the smallest step that covers the largest sum seen on calibration inputs
///   (larger sums saturate, small ones lose fewer bits than with the full range).
/// </summary>
public static class AdcRangeSelection
{
    /// <summary>Calibration samples used to find the largest partial sums (each costs a full bit-serial pass).</summary>
    public const int CalibrationSamples = 32;

    public static MappedModel Apply(MappedModel mapped, QuantizationOptions options, IReadOnlyList<long[][]>? layerInputCodes)
    {
        CrossbarGeometry g = mapped.Geometry;
        int rowsPerRead = options.RowsPerRead > 0 && options.RowsPerRead < g.Rows ? options.RowsPerRead : 0;
        int groupRows = rowsPerRead == 0 ? g.Rows : rowsPerRead;
        var layers = ImmutableArray.CreateBuilder<MappedLayer>(mapped.Layers.Length);
        for (int l = 0; l < mapped.Layers.Length; l++)
        {
            MappedLayer layer = mapped.Layers[l];
            QuantizedLayer q = layer.Layer with { RowsPerRead = rowsPerRead };
            long largest = options.AdcRange switch
            {
                AdcRange.Unit => 0,
                AdcRange.Full => AdcResolution.LargestSum(q, layer.MaxBlockRows, g, mapped.Encoding),
                _ => LargestObservedSum(layer, g, groupRows, layerInputCodes?[l] ?? throw new InvalidOperationException("calibrated ADC range needs calibration codes")),
            };
            int shift = Math.Max(0, IntMath.BitLength(largest) - g.AdcBits);
            layers.Add(layer with { Layer = q with { AdcShift = shift } });
        }

        ImmutableArray<MappedLayer> built = layers.MoveToImmutable();
        QuantizedModel model = mapped.Model with { Layers = [.. built.Select(l => l.Layer)] };
        return mapped with { Model = model, Layers = built };
    }

    /// <summary>The input codes of every layer for the first calibration samples, as the quantized network sees them.</summary>
    public static IReadOnlyList<long[][]> LayerInputCodes(LayerChain chain, QuantizedModel model, NdArray calibration)
    {
        NdArray subset = calibration.Take(CalibrationSamples);
        ImmutableArray<LayerSamples> samples = Calibration.Collect(chain, subset);
        var codes = new List<long[][]>(model.Layers.Length);
        for (int l = 0; l < model.Layers.Length; l++)
        {
            QuantizedLayer layer = model.Layers[l];
            float[] x = samples[l].Input;
            int n = x.Length / layer.InFeatures;
            codes.Add([.. Enumerable.Range(0, n).Select(s => x.AsSpan(s * layer.InFeatures, layer.InFeatures).ToArray().Select(v => layer.Input.Quantize(v)).ToArray())]);
        }

        return codes;
    }

    /// <summary>Largest sum one read (one row group, one input slice, one column) produces on the given inputs.</summary>
    private static long LargestObservedSum(MappedLayer layer, CrossbarGeometry g, int groupRows, long[][] inputs)
    {
        int slices = IntMath.CeilDiv(layer.InputBits, g.DacBits);
        long digitMask = (1L << g.DacBits) - 1;
        long largest = 0;
        var digits = new int[g.Rows];
        foreach (CrossbarBlock block in layer.Blocks)
        {
            // A block's levels are computed once here, not once per sample.
            byte[] levels = block.Levels.ToArray();
            foreach (long[] u in inputs)
            {
                for (int k = 0; k < slices; k++)
                {
                    for (int r = 0; r < block.RowCount; r++)
                    {
                        digits[r] = (int)((u[block.RowStart + r] >> (g.DacBits * k)) & digitMask);
                    }

                    for (int c = 0; c < block.ColCount; c++)
                    {
                        for (int start = 0; start < block.RowCount; start += groupRows)
                        {
                            long sum = 0;
                            int end = Math.Min(block.RowCount, start + groupRows);
                            for (int r = start; r < end; r++)
                            {
                                sum += digits[r] * levels[(r * g.Cols) + c];
                            }

                            largest = Math.Max(largest, sum);
                        }
                    }
                }
            }
        }

        return largest;
    }
}
