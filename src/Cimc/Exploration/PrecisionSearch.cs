using System.Collections.Immutable;
using System.Globalization;
using Cimc.Quantization;

namespace Cimc.Exploration;

/// <summary>What a mixed-precision search minimizes.</summary>
public enum SearchObjective
{
    Crossbars,
    Energy,
}

/// <summary>One evaluated per-layer precision.</summary>
public sealed record PrecisionCandidate(ImmutableArray<LayerPrecision> Layers, double Accuracy, double Cost);

/// <summary>
/// Greedy mixed-precision search: start every layer at the highest bits, then repeatedly take the
/// single-layer step down (weight bits, or activation bits when the objective is energy; any number of
/// rungs) that lowers
/// the cost most, among those whose accuracy stays within the allowed loss of the float model;
/// stop when no step qualifies. Each candidate is compiled and run on the simulator by the caller's
/// evaluate function, so the accuracy is that of the compiled program.
/// </summary>
public static class PrecisionSearch
{
    /// <summary>Bit widths tried, from high to low.</summary>
    public static readonly ImmutableArray<int> Ladder = [8, 7, 6, 5, 4, 3, 2];

    public static (PrecisionCandidate Best, IReadOnlyList<PrecisionCandidate> Tried) Run(
        int layerCount,
        int startBits,
        double floatAccuracy,
        double maxLossPoints,
        SearchObjective objective,
        Func<ImmutableArray<LayerPrecision>, (double Accuracy, double Cost)> evaluate)
    {
        var tried = new List<PrecisionCandidate>();
        PrecisionCandidate Evaluate(ImmutableArray<LayerPrecision> layers)
        {
            (double accuracy, double cost) = evaluate(layers);
            var c = new PrecisionCandidate(layers, accuracy, cost);
            tried.Add(c);
            return c;
        }

        bool Acceptable(PrecisionCandidate c) => (floatAccuracy - c.Accuracy) * 100 <= maxLossPoints;

        ImmutableArray<LayerPrecision> start = [.. Enumerable.Repeat(new LayerPrecision(startBits, startBits), layerCount)];
        PrecisionCandidate best = Evaluate(start);
        while (true)
        {
            PrecisionCandidate? step = null;
            foreach (ImmutableArray<LayerPrecision> next in Neighbours(best.Layers, objective))
            {
                PrecisionCandidate c = Evaluate(next);
                if (Acceptable(c) && c.Cost < best.Cost && (step is null || c.Cost < step.Cost || (c.Cost == step.Cost && c.Accuracy > step.Accuracy)))
                {
                    step = c;
                }
            }

            if (step is null)
            {
                return (best, tried);
            }

            best = step;
        }
    }

    /// <summary>
    /// Every single-layer step down the ladder, not only to the next rung: a cost often changes only
    /// every few bits (a weight slice holds several bits), and the next rung alone would stall there.
    /// </summary>
    private static IEnumerable<ImmutableArray<LayerPrecision>> Neighbours(ImmutableArray<LayerPrecision> layers, SearchObjective objective)
    {
        for (int l = 0; l < layers.Length; l++)
        {
            foreach (int w in Lower(layers[l].WeightBits!.Value))
            {
                yield return layers.SetItem(l, layers[l] with { WeightBits = w });
            }

            if (objective == SearchObjective.Energy)
            {
                foreach (int a in Lower(layers[l].ActivationBits!.Value))
                {
                    yield return layers.SetItem(l, layers[l] with { ActivationBits = a });
                }
            }
        }
    }

    private static IEnumerable<int> Lower(int bits) => Ladder.Where(b => b < bits);

    /// <summary>The per-layer table as options for the compiler, by layer index.</summary>
    public static ImmutableDictionary<string, LayerPrecision> ToOptions(ImmutableArray<LayerPrecision> layers) =>
        layers.Select((p, i) => (Key: i.ToString(CultureInfo.InvariantCulture), p)).ToImmutableDictionary(t => t.Key, t => t.p);
}
