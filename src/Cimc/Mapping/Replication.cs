using System.Collections.Immutable;
using Cimc.Diagnostics;

namespace Cimc.Mapping;

/// <summary>How many replicas the replicate passes may add: none, balanced under the budget, or as many as fit.</summary>
public enum ReplicationChoice
{
    None,
    Balance,
    Max,
}

/// <summary>
/// The crossbars replication may occupy in all (every layer's copies, counted in whole cores): a
/// count, or a fraction of the chip's crossbars. The default is the whole chip.
/// </summary>
public sealed record ReplicationBudget(int? Crossbars = null, double? Fraction = null)
{
    public static ReplicationBudget WholeChip { get; } = new(Fraction: 1.0);

    public int Of(int chipCrossbars) => Crossbars ?? (int)Math.Floor(chipCrossbars * (Fraction ?? 1.0));

    /// <summary>"512" (crossbars) or "0.5" (a fraction of the chip, at most 1).</summary>
    public static ReplicationBudget Parse(string text)
    {
        if (int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n) && n > 1)
        {
            return new ReplicationBudget(Crossbars: n);
        }

        return double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double f) && f > 0 && f <= 1
            ? new ReplicationBudget(Fraction: f)
            : throw new CimcException("bad-option", "--replication-budget", $"'{text}' is neither a crossbar count (above 1) nor a fraction of the chip in (0, 1]");
    }
}

/// <summary>
/// What the replica-count searches know of a layer: its estimated time per inference on one
/// replica (the busiest of its crossbars, ADC groups and core pipelines, from the timing model) and
/// what one replica costs (its cores' crossbars: a layer takes whole cores).
/// </summary>
public sealed record LayerLoad(double Ns, int Crossbars);

/// <summary>
/// Replica counts per layer (replica r of a layer serves samples n with n mod k = r), chosen so that
/// the pipeline's slowest stage, max over layers of time / replicas, is as short as the budget
/// allows. The emitted program's period is the least common multiple of the counts, capped at
/// <see cref="MaxPeriod"/> (the code grows with it). Three searches:
/// <list type="bullet">
/// <item><see cref="Greedy"/>: PIMCOMP's greedy balance (Sun et al., PIMCOMP, DAC 2023): give the
///   current bottleneck layer one more replica while it fits; stop when it does not.</item>
/// <item><see cref="MinMax"/>: the optimum of min max time / k under the budget and the period cap,
///   a search over the whole space as CIM-MLC's (Qu et al., CIM-MLC, ASPLOS 2024): for each period
///   P up to the cap and each candidate stage time T, each layer's least divisor of P at or above
///   ceil(time / T); the smallest slowest stage that fits, then the fewest crossbars.</item>
/// <item><see cref="Max"/>: every layer the same, largest count that fits (the same period as counts).</item>
/// </list>
/// </summary>
public static class Replication
{
    public const int MaxPeriod = 16;

    public static ImmutableArray<int> Greedy(IReadOnlyList<LayerLoad> layers, int budget)
    {
        var k = Enumerable.Repeat(1, layers.Count).ToArray();
        int used = layers.Sum(l => l.Crossbars);
        while (true)
        {
            int worst = Enumerable.Range(0, layers.Count).MaxBy(l => layers[l].Ns / k[l]);
            k[worst]++;
            if (used + layers[worst].Crossbars > budget || Period(k) > MaxPeriod)
            {
                k[worst]--;
                return [.. k];
            }

            used += layers[worst].Crossbars;
        }
    }

    public static ImmutableArray<int> MinMax(IReadOnlyList<LayerLoad> layers, int budget)
    {
        ImmutableArray<int> best = [.. layers.Select(_ => 1)];
        (double Stage, int Crossbars) bestCost = (Stage(layers, best), layers.Sum(l => l.Crossbars));
        double[] targets = [.. layers.SelectMany(l => Enumerable.Range(1, MaxPeriod).Select(k => l.Ns / k)).Distinct().Order()];

        // Any counts of period at most 16 divide some P <= 16: for each P and each candidate stage
        // time T, the least divisor of P at or above ceil(time / T) per layer is the cheapest choice.
        for (int period = 1; period <= MaxPeriod; period++)
        {
            int[] divisors = [.. Enumerable.Range(1, period).Where(d => period % d == 0)];
            foreach (double target in targets)
            {
                int[] k = [.. layers.Select(l => divisors.FirstOrDefault(d => d >= Math.Max(1, (int)Math.Ceiling((l.Ns / target) - 1e-9))))];
                int crossbars = layers.Select((l, i) => l.Crossbars * k[i]).Sum();
                if (k.Contains(0) || crossbars > budget)
                {
                    continue;
                }

                (double Stage, int Crossbars) cost = (Stage(layers, k), crossbars);
                if (cost.Stage < bestCost.Stage - 1e-9 || (Math.Abs(cost.Stage - bestCost.Stage) <= 1e-9 && cost.Crossbars < bestCost.Crossbars))
                {
                    (best, bestCost) = ([.. k], cost);
                }
            }
        }

        return best;
    }

    public static ImmutableArray<int> Max(IReadOnlyList<LayerLoad> layers, int budget)
    {
        int one = layers.Sum(l => l.Crossbars);
        int k = Math.Clamp(one > 0 ? budget / one : 1, 1, MaxPeriod);
        return [.. layers.Select(_ => k)];
    }

    /// <summary>
    /// Copies per crossbar layer of a convolutional network, by PIMCOMP's greedy balance over
    /// windows (Sun et al., PIMCOMP, DAC 2023): copy c of a layer with k copies computes the output
    /// columns x mod k = c, so a copy's time is its layer's <see cref="LayerLoad.Ns"/> (one copy, every
    /// window) times ceil(W / k) / W for output width W (<see cref="WindowStage"/>). Repeatedly the
    /// layer with the largest such time gets copies up to the next count that shortens it (more
    /// columns per copy than ceil(W / k) buys nothing), while they fit the budget; it stops when the
    /// bottleneck cannot shorten (every column its own copy) or its copies do not fit. A layer of
    /// one window (a dense layer, W = 1) never gets copies. Without sample slots the program's
    /// period stays 1, so no period cap applies.
    /// </summary>
    /// <param name="widths">each layer's output width W (1 for a dense layer)</param>
    public static ImmutableArray<int> WindowGreedy(IReadOnlyList<LayerLoad> layers, IReadOnlyList<int> widths, int budget)
    {
        var k = Enumerable.Repeat(1, layers.Count).ToArray();
        int used = layers.Sum(l => l.Crossbars);
        while (true)
        {
            int worst = Enumerable.Range(0, layers.Count).MaxBy(l => CopyNs(layers[l], widths[l], k[l]));
            int next = NextShorter(widths[worst], k[worst]);
            if (next > widths[worst] || used + ((next - k[worst]) * layers[worst].Crossbars) > budget)
            {
                return [.. k];
            }

            used += (next - k[worst]) * layers[worst].Crossbars;
            k[worst] = next;
        }
    }

    /// <summary>Every layer of more than one output column the same count of copies (at most its width), the largest that fits the budget.</summary>
    public static ImmutableArray<int> WindowMax(IReadOnlyList<LayerLoad> layers, IReadOnlyList<int> widths, int budget)
    {
        int[] Counts(int k) => [.. widths.Select(w => Math.Min(k, w))];
        int Cost(int k) => Counts(k).Select((c, l) => c * layers[l].Crossbars).Sum();
        int best = 1;
        for (int k = 2; k <= widths.DefaultIfEmpty(1).Max() && Cost(k) <= budget; k++)
        {
            best = k;
        }

        return [.. Counts(best)];
    }

    /// <summary>The estimated slowest stage of a convolutional network with these copies: max over layers of one copy's time.</summary>
    public static double WindowStage(IReadOnlyList<LayerLoad> layers, IReadOnlyList<int> widths, IReadOnlyList<int> copies) =>
        layers.Select((l, i) => CopyNs(l, widths[i], copies[i])).DefaultIfEmpty(0).Max();

    /// <summary>One copy's time: its share ceil(W / k) of each row's W columns.</summary>
    private static double CopyNs(LayerLoad layer, int width, int copies) => layer.Ns * ((width + copies - 1) / copies) / width;

    /// <summary>The least count above <paramref name="k"/> that gives a copy fewer columns (above <paramref name="width"/> when none does).</summary>
    private static int NextShorter(int width, int k)
    {
        int share = (width + k - 1) / k;
        return share <= 1 ? width + 1 : (width + share - 2) / (share - 1);
    }

    /// <summary>The estimated slowest stage: max over layers of time / replicas.</summary>
    public static double Stage(IReadOnlyList<LayerLoad> layers, IReadOnlyList<int> replicas) =>
        layers.Select((l, i) => l.Ns / replicas[i]).DefaultIfEmpty(0).Max();

    public static int Period(IReadOnlyList<int> replicas) => replicas.Aggregate(1, MappedModel.Lcm);

    /// <summary>
    /// A convolutional network's copies (the replicate passes and the estimator share this): each
    /// convolution's output width bounds its copies, <paramref name="search"/> (<see cref="WindowGreedy"/>
    /// or <see cref="WindowMax"/>) picks the counts within the budget
    /// and the crossbars of the cores the pooling and add nodes leave (<paramref name="freeCrossbars"/>);
    /// the counts are halved until <paramref name="fits"/> (the maps fit the tile buffers).
    /// </summary>
    public static MappedModel ApplyWindows(MappedModel plain, IReadOnlyList<LayerLoad> loads, int budget, int freeCrossbars,
        Func<IReadOnlyList<LayerLoad>, IReadOnlyList<int>, int, ImmutableArray<int>> search, Func<ImmutableArray<int>, bool> fits)
    {
        Quantization.QuantizedGraph graph = plain.Model.Graph!;
        int[] widths = [.. plain.Layers.Select((_, l) => graph.NodeOf(l) is { Conv: not null } n ? n.Shape.Width : 1)];
        ImmutableArray<int> copies = search(loads, widths, Math.Min(budget, freeCrossbars));
        while (copies.Any(k => k > 1) && !fits(copies))
        {
            copies = [.. copies.Select(k => (k + 1) / 2)]; // copies read maps on more tiles: fewer until their buffers hold them
        }

        return Apply(plain, copies) with { EstimatedStageNs = WindowStage(loads, widths, copies) };
    }

    /// <summary>The mapped model with these replica counts.</summary>
    public static MappedModel Apply(MappedModel mapped, IReadOnlyList<int> replicas) =>
        mapped with { Layers = [.. mapped.Layers.Select((l, i) => l with { Replicas = replicas[i] })] };
}
