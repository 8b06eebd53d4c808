using Cimc.Quantization;

namespace Cimc.Tests.Golden;

/// <summary>
/// Weight reloading as docs/isa.md ("Segmented programs") and docs/quantization.md section 7 define
/// it, written again for the golden model: how many crossbars and cores each layer takes, where the
/// network is cut, and what a segmented run computes (each segment's layers on the codes the segment
/// before wrote). Shares no code with Cimc.Reload or the simulators.
/// </summary>
public static class GoldenSegments
{
    /// <summary>Section 7: ceil(in / R) * ceil(out / C) * S * P.</summary>
    public static long Crossbars(QuantizedLayer layer, SignedWeightEncoding encoding, int rows, int cols, int cellBits)
    {
        long qw = Contract.Q(layer.WeightBits);
        (long s, long p) = encoding switch
        {
            SignedWeightEncoding.Differential => (Contract.CeilDiv(Contract.BitLen(qw), cellBits), 2L),
            SignedWeightEncoding.Offset => (Contract.CeilDiv(Contract.BitLen(2 * qw), cellBits), 1L),
            _ => (Contract.CeilDiv(Contract.BitLen(qw), cellBits) + 1L, 1L),
        };
        return Contract.CeilDiv(layer.InFeatures, rows) * (long)Contract.CeilDiv(layer.OutFeatures, cols) * s * p;
    }

    /// <summary>A layer takes whole cores: ceil(crossbars / crossbars per core), at least one.</summary>
    public static long Cores(QuantizedLayer layer, SignedWeightEncoding encoding, int rows, int cols, int cellBits, int crossbarsPerCore) =>
        Math.Max(1, (Crossbars(layer, encoding, rows, cols, cellBits) + crossbarsPerCore - 1) / crossbarsPerCore);

    /// <summary>
    /// The first layer of each segment: the layers in order, a new segment opened whenever the next
    /// layer's cores would overflow the node's (the fewest segments of whole layers).
    /// </summary>
    public static List<int> Cut(IReadOnlyList<long> layerCores, long nodeCores)
    {
        var firsts = new List<int> { 0 };
        long used = 0;
        for (int i = 0; i < layerCores.Count; i++)
        {
            if (layerCores[i] > nodeCores)
            {
                throw new ArgumentException($"layer {i} alone needs {layerCores[i]} cores of {nodeCores}");
            }

            if (used + layerCores[i] > nodeCores)
            {
                firsts.Add(i);
                used = 0;
            }

            used += layerCores[i];
        }

        return firsts;
    }

    /// <summary>
    /// One sample through the segments one after another: each segment's layers (section 6's
    /// crossbar sums, section 5's output stage) on the codes the segment before wrote, handed over
    /// unchanged; the network's own checks (GoldenModel.Trace) are not repeated here.
    /// </summary>
    public static long[] RunCodes(QuantizedModel model, CrossbarParams xbar, IReadOnlyList<int> firsts, ReadOnlySpan<long> inputCodes)
    {
        if (firsts.Count == 0 || firsts[0] != 0 || firsts.Zip(firsts.Skip(1)).Any(f => f.Second <= f.First) || firsts[^1] >= model.Layers.Length)
        {
            throw new ArgumentException("segments start at layer 0 and each at a later layer of the network", nameof(firsts));
        }

        long[] handed = inputCodes.ToArray();
        for (int k = 0; k < firsts.Count; k++)
        {
            int end = k + 1 < firsts.Count ? firsts[k + 1] : model.Layers.Length;
            long[] u = handed;
            for (int l = firsts[k]; l < end; l++)
            {
                QuantizedLayer layer = model.Layers[l];
                long[] acc = GoldenModel.CrossbarAccumulators(layer, model.Options.SignedWeights, xbar, u);
                u = GoldenModel.OutputStage(layer, acc).Output;
            }

            handed = u;
        }

        return handed;
    }
}
