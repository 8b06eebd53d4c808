using System.Collections.Immutable;
using Cimc.Diagnostics;
using Cimc.Quantization;

namespace Cimc.Mapping;

/// <summary>One crossbar row block of a layer: its input rows [Start, Start + Count).</summary>
public readonly record struct RowBlock(int Start, int Count)
{
    public int End => Start + Count;
}

/// <summary>
/// Where a layer's input rows are cut into crossbar row blocks (docs/quantization.md section 7). The
/// rows are cut into segments of <c>positionRows</c> rows, and each segment into blocks of R rows
/// (the last block of a segment shorter), so no block spans two segments:
/// <code>
/// im2col (segment = the whole input):     rows 0..149 of a 5x5x6 conv, R = 128 -> [0,128) [128,150)
/// per-position (segment = Cin = 6 rows):  -> [0,6) [6,12) ... [144,150)   (25 blocks, one per (kh, kw))
/// </code>
/// The mapper lays blocks out in this order, and everything downstream (code generator, estimator,
/// ADC requirement) reads the cut from here or from the blocks, never as rb * R.
/// </summary>
public static class RowCut
{
    /// <summary>Row blocks of <paramref name="inFeatures"/> rows cut into segments of <paramref name="positionRows"/> (0: one segment) and blocks of <paramref name="rows"/>.</summary>
    public static ImmutableArray<RowBlock> Of(int inFeatures, int rows, int positionRows)
    {
        int segment = positionRows > 0 && positionRows < inFeatures ? positionRows : inFeatures;
        if (inFeatures % segment != 0)
        {
            throw new InvalidOperationException($"map: {inFeatures} rows are not whole segments of {segment}");
        }

        var cut = ImmutableArray.CreateBuilder<RowBlock>((inFeatures / segment) * IntMath.CeilDiv(segment, rows));
        for (int first = 0; first < inFeatures; first += segment)
        {
            for (int start = first; start < first + segment; start += rows)
            {
                cut.Add(new RowBlock(start, Math.Min(rows, first + segment - start)));
            }
        }

        return cut.MoveToImmutable();
    }

    /// <summary>The row blocks of layer <paramref name="layer"/> of <paramref name="model"/> on crossbars of <paramref name="rows"/> rows.</summary>
    public static ImmutableArray<RowBlock> Of(QuantizedModel model, int layer, int rows) =>
        Of(model.Layers[layer].InFeatures, rows, PositionRows(model, layer));

    /// <summary>
    /// Rows of one kernel position (the convolution's input channels) when the model maps convolutions
    /// per position, else 0 (the im2col cut: the layer's rows are one segment). Dense layers are always 0.
    /// </summary>
    public static int PositionRows(QuantizedModel model, int layer) =>
        model.Options.ConvMapping == ConvMapping.PerPosition && model.Graph?.NodeOf(layer).Conv is { } conv ? conv.Input.Channels : 0;

    /// <summary>
    /// The map pass's check of --conv-mapping: per-position needs a convolution to act on; a model
    /// without one (a dense chain, or a graph of dense layers) is refused in one line rather than
    /// compiled as if the option meant something. (<see cref="Of(QuantizedModel, int, int)"/> itself
    /// cuts such a model as im2col: the cut of a dense layer does not depend on the option.)
    /// </summary>
    public static void Check(QuantizedModel model) =>
        Check(model.Name, model.Options, model.Graph is not null && model.Graph.Nodes.OfType<LayerNode>().Any(n => n.Conv is not null));

    /// <summary>
    /// The same check on the imported graph, before any work: the compiler runs it first, so the refusal
    /// comes before quantization (and before a long compile's progress line) rather than at the map pass.
    /// </summary>
    public static void Check(Ir.Graph graph, QuantizationOptions options) =>
        Check(graph.Name, options, graph.Nodes.Any(n => n.Op is Ir.Conv2d));

    private static void Check(string modelName, QuantizationOptions options, bool hasConvolution)
    {
        if (options.ConvMapping == ConvMapping.PerPosition && !hasConvolution)
        {
            throw new CimcException("bad-option", "--conv-mapping",
                $"per-position cuts convolutions by kernel position, but model '{modelName}' has no convolution; leave the option out (im2col is the same for dense layers)");
        }
    }
}
