using System.Collections.Immutable;
using Cimc.Architectures;
using Cimc.Mapping;
using Cimc.Placement;
using Cimc.Quantization;
using Cimc.Tests.Golden;
using CsCheck;

namespace Cimc.Tests.Compile;

/// <summary>
/// Replicated convolutions (window splitting, docs/isa.md "Replicated convolutions"): copy c of a
/// layer with k copies computes the output pixels x mod k = c of every row. With ideal devices the
/// golden model's outputs are those of the unreplicated network, so programs with random copy
/// counts must equal it bit for bit in both simulators, on roomy and on ring-buffer tiles.
/// </summary>
public sealed class GraphReplicationTests
{
    /// <summary>Random copies per convolution (1 to 4, at most its output width); dense layers keep one.</summary>
    internal static Func<MappedModel, MappedModel> RandomCopies(int seed) => mapped =>
    {
        var rng = new Random(seed);
        QuantizedGraph graph = mapped.Model.Graph!;
        return Replication.Apply(mapped, [.. mapped.Layers.Select((_, l) => graph.NodeOf(l) is { Conv: not null } n ? rng.Next(1, Math.Min(4, n.Shape.Width) + 1) : 1)]);
    };

    [Fact]
    public void Random_graphs_with_replicated_convolutions_match_the_golden_model()
    {
        int replicated = 0;
        Gen.Select(RandomGraphs.Cases(), Gen.Bool, Gen.Int[0, int.MaxValue]).Sample(t =>
        {
            (GraphCase c, bool tree, int seed) = t;
            Func<MappedModel, MappedModel> copies = RandomCopies(seed);
            Architecture arch = GraphBitExactnessTests.ChipFor(c, replicate: copies);
            replicated += copies(CrossbarMapper.Map(c.Model, Compiler.Geometry(arch))).Layers.Any(l => l.Replicas > 1) ? 1 : 0;
            GraphBitExactnessTests.AssertGolden(c, arch, new Lowering(false, tree) { BiasFirst = true }, copies);
        }, iter: 30, threads: 1);
        Assert.True(replicated >= 15, $"only {replicated} of 30 draws replicated a convolution");
    }

    /// <summary>On tiles just large enough (the buffer the refusal names), where maps become rings read by every copy.</summary>
    [Fact]
    public void Random_graphs_with_replicated_convolutions_in_ring_buffers_match_the_golden_model()
    {
        int rings = 0;
        Gen.Select(RandomGraphs.Cases(), Gen.Int[4, 8], Gen.Int[0, int.MaxValue]).Sample(t =>
        {
            (GraphCase c, int coresPerTile, int seed) = t;
            Func<MappedModel, MappedModel> copies = RandomCopies(seed);
            Lowering lowering = new(false, true) { BiasFirst = true };
            var e = Assert.Throws<Cimc.Diagnostics.CimcException>(() => GraphBitExactnessTests.Compile(c.Model,
                GraphBitExactnessTests.ChipFor(c, coresPerTile, 8 * TileSpec.BytesPerWord, copies), lowering, copies));
            System.Text.RegularExpressions.Match m = System.Text.RegularExpressions.Regex.Match(e.Message, @"tile buffers hold (\d+) words");
            Assert.True(m.Success, e.Message);
            rings += e.Message.Contains(" rows)", StringComparison.Ordinal) ? 1 : 0;
            int words = int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            GraphBitExactnessTests.AssertGolden(c, GraphBitExactnessTests.ChipFor(c, coresPerTile, words * TileSpec.BytesPerWord, copies), lowering, copies);
        }, iter: 30, threads: 1);
        Assert.True(rings >= 4, $"only {rings} of 30 draws held a map in a ring");
    }
}
