using Cimc.Placement;
using CsCheck;

namespace Cimc.Tests.Placements;

/// <summary>The partition over chips is the best contiguous one, found against every alternative.</summary>
public sealed class ChipPartitionTests
{
    /// <summary>Words x chips crossed: what a line of chips carries between chips.</summary>
    private static long Cost(SlotTraffic traffic, IReadOnlyList<int> chipOf) =>
        traffic.Edges.Sum(e => e.Words * Math.Abs(chipOf[e.From] - chipOf[e.To]));

    /// <summary>Every assignment that fills chips from chip 0 in slot order, each chip within its capacity.</summary>
    private static IEnumerable<int[]> Contiguous(int slots, int chips, int capacity)
    {
        IEnumerable<int[]> Extend(int[] prefix, int count)
        {
            if (prefix.Length == slots)
            {
                yield return prefix;
                yield break;
            }

            int last = prefix.Length == 0 ? 0 : prefix[^1];
            if (prefix.Length == 0 || count < capacity)
            {
                foreach (int[] a in Extend([.. prefix, last], count + 1))
                {
                    yield return a;
                }
            }

            if (prefix.Length > 0 && last + 1 < chips)
            {
                foreach (int[] a in Extend([.. prefix, last + 1], 1))
                {
                    yield return a;
                }
            }
        }

        return Extend([], 0);
    }

    [Fact]
    public void The_partition_is_contiguous_within_capacity_and_no_contiguous_partition_crosses_fewer_words()
    {
        Gen.Int[0, int.MaxValue].Sample(seed =>
        {
            var rng = new Random(seed);
            int slots = rng.Next(1, 11), chips = rng.Next(2, 5);
            int capacity = rng.Next((slots + chips - 1) / chips, slots + 1);
            var edges = Enumerable.Range(0, rng.Next(0, 16))
                .Select(_ => (From: rng.Next(slots), To: rng.Next(slots), Words: (long)rng.Next(1, 100)))
                .Where(e => e.From != e.To)
                .GroupBy(e => (e.From, e.To)).Select(g => new TrafficEdge(g.Key.From, g.Key.To, g.Sum(e => e.Words)))
                .ToList();
            var traffic = new SlotTraffic(slots, [.. edges]);
            var shape = new ChipShape(chips, capacity, 1) { Chips = chips };

            int[] chipOf = ChipPartition.Of(traffic, shape);
            Assert.Equal(0, chipOf[0]);
            for (int s = 1; s < slots; s++)
            {
                Assert.InRange(chipOf[s] - chipOf[s - 1], 0, 1);
            }

            Assert.All(chipOf.GroupBy(c => c), g => Assert.True(g.Count() <= capacity, $"seed {seed}: chip {g.Key} holds {g.Count()} > {capacity}"));
            long best = Contiguous(slots, chips, capacity).Min(a => Cost(traffic, a));
            Assert.Equal(best, Cost(traffic, chipOf));
            Assert.Equal(chipOf.Length, ChipPartition.LinearCores(chipOf, shape).Distinct().Count());
        }, iter: 300);
    }

    [Fact]
    public void A_layer_boundary_with_few_words_is_cut_rather_than_a_layer_with_many()
    {
        // Slots 0-2 talk heavily, as do 3-5; one word goes from 2 to 3. Two chips of 4 cores: the cut
        // goes between 2 and 3, not at 4 (where filling chip 0 first would put it).
        var traffic = new SlotTraffic(6, [new TrafficEdge(0, 1, 50), new TrafficEdge(1, 2, 50), new TrafficEdge(2, 3, 1), new TrafficEdge(3, 4, 50), new TrafficEdge(4, 5, 50)]);
        int[] chipOf = ChipPartition.Of(traffic, new ChipShape(2, 4, 1) { Chips = 2 });
        Assert.Equal([0, 0, 0, 1, 1, 1], chipOf);
        Assert.Equal(1, ChipPartition.CrossingWords(traffic, chipOf));
    }
}
