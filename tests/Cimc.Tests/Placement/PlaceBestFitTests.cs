using System.Text.RegularExpressions;
using Cimc.Architectures;
using Cimc.Data;
using Cimc.Diagnostics;
using Cimc.Ir;
using Cimc.Passes;
using Xunit.Abstractions;

namespace Cimc.Tests.Placements;

/// <summary>
/// place-best keeps the fastest placement among those whose program fits the chip: a placement that
/// crowds ring buffers onto one tile is dropped, not fatal (ResNet-18 at -O3 on isaac hit this).
/// </summary>
public sealed partial class PlaceBestFitTests(ITestOutputHelper output)
{
    private static Conv2d Conv(Random rng, int outC, int inC, int k, int pad) =>
        new(new FloatTensor([outC, inC, k, k], [.. Enumerable.Range(0, outC * inC * k * k).Select(_ => (float)(rng.NextDouble() - 0.5))]),
            FloatTensor.Vector([.. Enumerable.Range(0, outC).Select(_ => (float)(rng.NextDouble() * 0.1))]), new Window2d(k, k, 1, 1, pad, pad, pad, pad));

    internal static Graph Narrow(int channels, int height, int width, int blocks, int seed)
    {
        var rng = new Random(seed);
        var nodes = new List<Node> { new("stem", Conv(rng, channels, 1, 3, 1), "x", "s0") };
        string x = "s0";
        for (int b = 0; b < blocks; b++)
        {
            nodes.Add(new Node($"c{b}a", Conv(rng, channels, channels, 3, 1), x, $"c{b}a"));
            nodes.Add(new Node($"r{b}a", new Relu(), $"c{b}a", $"r{b}a"));
            nodes.Add(new Node($"c{b}b", Conv(rng, channels, channels, 3, 1), $"r{b}a", $"c{b}b"));
            nodes.Add(new Node($"add{b}", new Add(), [$"c{b}b", x], [$"a{b}"]));
            nodes.Add(new Node($"r{b}", new Relu(), $"a{b}", $"s{b + 1}"));
            x = $"s{b + 1}";
        }

        nodes.Add(new Node("p", new MaxPool2d(new Window2d(4, 4, 4, 4)), x, "p"));
        nodes.Add(new Node("g", new GlobalAvgPool(), "p", "g"));
        nodes.Add(new Node("f", new Flatten(1), "g", "f"));
        nodes.Add(new Node("fc", new Dense(FloatTensor.Matrix(4, channels, [.. Enumerable.Range(0, 4 * channels).Select(_ => (float)(rng.NextDouble() - 0.5))]), null), "f", "y"));
        return new Graph("narrow", [new ValueInfo("x", TensorType.Float(TensorType.Dynamic, 1, height, width))], [.. nodes],
            [new ValueInfo("y", TensorType.Float(TensorType.Dynamic, 4))]);
    }

    internal static Architecture Chip(int coresPerTile, int bufferWords)
    {
        Architecture edge = ArchitectureCatalog.Preset("edge");
        return edge with { Chip = edge.Chip with { Tiles = 64, Mesh = new MeshSpec(8, 8) }, Tile = edge.Tile with { Cores = coresPerTile, BufferBytes = (long)bufferWords * TileSpec.BytesPerWord } };
    }

    private static NdArray Samples(int height, int width) =>
        new([4, 1, height, width], [.. Enumerable.Range(0, 4 * height * width).Select(i => (float)((i * 7919 % 101) / 101.0))]);

    private static Compilation Compile(Graph g, Architecture arch, NdArray samples, PlacementChoice placement) =>
        Compiler.Compile(g, arch, Compiler.OptionsFor(arch), samples, settings: new CompileSettings { Level = OptLevel.O2, Placement = placement, Replication = Cimc.Mapping.ReplicationChoice.None });

    /// <summary>The buffer words the placement's busiest tile needs with its maps in rings (from the refusal on a tiny buffer).</summary>
    private static long Needs(Graph g, int coresPerTile, NdArray samples, PlacementChoice placement)
    {
        var e = Assert.Throws<CimcException>(() => Compile(g, Chip(coresPerTile, 8), samples, placement));
        Assert.Equal("does-not-fit", e.Diagnostic.Code);
        Match m = HoldsWords().Match(e.Diagnostic.Message);
        Assert.True(m.Success, e.Message);
        return long.Parse(m.Groups[1].Value);
    }

    [GeneratedRegex(@"hold (\d+) words")]
    private static partial Regex HoldsWords();

    /// <summary>
    /// A 16-channel residual stack on 16 x 16 maps, four cores a tile: the annealed placement puts
    /// more rings on its busiest tile (3,072 words) than the linear and greedy ones (2,304). On a
    /// buffer that holds the smaller need place-best drops the candidate that does not fit and
    /// compiles (it threw the annealed candidate's refusal before); on one word less no candidate
    /// fits and the first candidate's (place-linear's) refusal is what it says.
    /// </summary>
    [Fact]
    public void PlaceBestDropsCandidatesWhoseRingsDoNotFit()
    {
        Graph g = Narrow(channels: 16, height: 16, width: 16, blocks: 3, seed: 1);
        NdArray samples = Samples(16, 16);
        long[] needs = [.. new[] { PlacementChoice.Linear, PlacementChoice.Greedy, PlacementChoice.Anneal }.Select(p => Needs(g, 4, samples, p))];
        output.WriteLine($"busiest tile's words: linear {needs[0]}, greedy {needs[1]}, anneal {needs[2]}");
        Assert.True(needs.Max() > needs.Min(), "the candidates must differ in fit for this test to mean anything");

        int fits = (int)needs.Min();
        Compilation best = Compile(g, Chip(4, fits), samples, PlacementChoice.Best);
        Assert.NotNull(best.Program);

        var none = Assert.Throws<CimcException>(() => Compile(g, Chip(4, fits - 1), samples, PlacementChoice.Best));
        var linear = Assert.Throws<CimcException>(() => Compile(g, Chip(4, fits - 1), samples, PlacementChoice.Linear));
        Assert.Equal("does-not-fit", none.Diagnostic.Code);
        Assert.Equal(linear.Message, none.Message);
    }
}
