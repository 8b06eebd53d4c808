using Cimc.Diagnostics;

namespace Cimc.Codegen;

/// <summary>
/// Where a layer's vectors live in a core's local memory (word addresses). Every core of the layer
/// uses the same layout, indexed by the layer's own input rows and output columns; only the
/// reducer (root) of a column block fills that block's constants (bias, requantization parameters,
/// the lookup table).
/// <code>
/// [ input (in) | acc (out) | received partials (widest column block) | input sum (1) | signal (1)
///   | beff (out) | requant params (3 per column block + 2 out) | table (2 + lut) | result (out) ]
/// </code>
/// Column block k's requantization block <c>[zp, lo, hi, m, r, ...]</c> starts at <see cref="ParamsOf"/>.
/// </summary>
internal sealed record CoreMemoryLayout(int Input, int Acc, int Partials, int InputSum, int Signal, int Bias, int Params, int Table, int Result, int Words)
{
    public static CoreMemoryLayout For(int inFeatures, int outFeatures, int colBlocks, int widestColBlock, int lutSize, int localWords, string layerName)
    {
        int input = 0;
        int acc = input + inFeatures;
        int partials = acc + outFeatures;
        int inputSum = partials + widestColBlock;
        int signal = inputSum + 1;
        int bias = signal + 1;
        int parameters = bias + outFeatures;
        int table = parameters + (3 * colBlocks) + (2 * outFeatures);
        int result = table + 2 + lutSize;
        long words = (long)result + outFeatures;
        if (words > localWords)
        {
            throw new CimcException("does-not-fit", $"layer '{layerName}'",
                $"needs {words} words of core local memory (inputs, accumulators, constants, a {lutSize}-entry lookup table) but a core has {localWords}");
        }

        return new CoreMemoryLayout(input, acc, partials, inputSum, signal, bias, parameters, table, result, (int)words);
    }

    /// <summary>Address of the requantization block of column block <paramref name="colBlock"/>, whose first column is <paramref name="colStart"/>.</summary>
    public int ParamsOf(int colBlock, int colStart) => Params + (3 * colBlock) + (2 * colStart);
}
