using Cimc.Diagnostics;

namespace Cimc.Codegen;

/// <summary>
/// Where a layer's vectors live in a core's local memory (word addresses). Every core of the layer
/// uses the same layout; only the lead core fills the constant regions.
/// <code>
/// [ input (in) | acc (out) | received partials (out) | input sum (1) | beff (out) | requant params (3 + 2 out) | table (2 + lut) | result (out) ]
/// </code>
/// </summary>
internal sealed record CoreMemoryLayout(int Input, int Acc, int Partials, int InputSum, int Bias, int Params, int Table, int Result, int Words)
{
    public static CoreMemoryLayout For(int inFeatures, int outFeatures, int lutSize, int localWords, string layerName)
    {
        int input = 0;
        int acc = input + inFeatures;
        int partials = acc + outFeatures;
        int inputSum = partials + outFeatures;
        int bias = inputSum + 1;
        int parameters = bias + outFeatures;
        int table = parameters + 3 + (2 * outFeatures);
        int result = table + 2 + lutSize;
        long words = (long)result + outFeatures;
        if (words > localWords)
        {
            throw new CimcException("does-not-fit", $"layer '{layerName}'",
                $"needs {words} words of core local memory (inputs, accumulators, constants, a {lutSize}-entry lookup table) but a core has {localWords}");
        }

        return new CoreMemoryLayout(input, acc, partials, inputSum, bias, parameters, table, result, (int)words);
    }
}
