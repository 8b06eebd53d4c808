using System.Collections.Immutable;
using Cimc.Mapping;
using Cimc.Quantization;

namespace Cimc.Codegen;

/// <summary>
/// How many of a convolutional network's layer blocks one core may hold so that the core's local
/// memory layout (<see cref="CoreMemoryLayout"/>) fits, decided before placement so that every
/// place pass cuts the layer into that many cores. A core of k consecutive blocks holds their input
/// rows, their columns' accumulators and the bias and requantization constants of each column block
/// it roots; a layer with many narrow column blocks on one core (a 1x1 convolution of 128 rows and
/// 256 columns on ISAAC's 8-crossbar, 1,152-word cores) needs more than the memory, so its blocks
/// spread over more cores. What a core may need but placement decides later is counted at its
/// largest: the root of every column block it touches, the widest partial sums, a staging area, and
/// the padding word of a padded convolution. A layer that fits with a full core keeps it, so programs
/// that compiled before are unchanged; one that fits not even with one block a core is left as it was,
/// for the code generator's does-not-fit diagnostic.
/// </summary>
internal static class CoreCrossbars
{
    public static MappedModel Choose(MappedModel mapped, int crossbarsPerCore, int localWords, int staging)
    {
        QuantizedGraph? graph = mapped.Model.Graph;
        if (graph is null)
        {
            return mapped;
        }

        var layers = ImmutableArray.CreateBuilder<MappedLayer>(mapped.Layers.Length);
        for (int l = 0; l < mapped.Layers.Length; l++)
        {
            MappedLayer layer = mapped.Layers[l];
            ConvGeometry? conv = graph.NodeOf(l).Conv;
            bool padded = conv is not null && (conv.Window.PadTop > 0 || conv.Window.PadLeft > 0 || conv.Window.PadBottom > 0 || conv.Window.PadRight > 0);
            int budget = localWords - (padded ? 1 : 0);
            int k = crossbarsPerCore;
            while (k > 1 && MostWords(layer, k, mapped.Encoding == SignedWeightEncoding.Offset, staging) > budget)
            {
                k--;
            }

            bool fits = MostWords(layer, k, mapped.Encoding == SignedWeightEncoding.Offset, staging) <= budget;
            layers.Add(k == crossbarsPerCore || !fits ? layer : layer with { CoreCrossbars = k });
        }

        return mapped with { Layers = layers.MoveToImmutable() };
    }

    /// <summary>The most words any core of <paramref name="layer"/> needs with <paramref name="k"/> consecutive blocks a core.</summary>
    internal static long MostWords(MappedLayer layer, int k, bool inputSum, int staging)
    {
        long most = 0;
        for (int first = 0; first < layer.Blocks.Length; first += k)
        {
            List<CrossbarBlock> mine = [.. layer.Blocks.Skip(first).Take(k)];
            var span = new CoreSpan(0, 0, mine.Min(b => b.RowStart), mine.Max(b => b.RowStart + b.RowCount),
                mine.Min(b => b.ColStart), mine.Max(b => b.ColStart + b.ColCount));
            List<ColumnBlock> roots = [.. mine.GroupBy(b => b.ColBlock).Select(g => new ColumnBlock(g.Key, g.First().ColStart, g.First().ColCount, [0]))];
            var needs = new CoreMemoryLayout.Needs(span, mine, mine.Max(b => b.ColCount), inputSum, staging, roots, layer.Layer.PreActivation is not null);
            most = Math.Max(most, CoreMemoryLayout.FewestWords(needs));
        }

        return most;
    }
}
