using Cimc.Architectures;
using Cimc.Data;
using Cimc.Import;
using Cimc.Isa;
using Cimc.Mapping;
using Cimc.Passes;
using Cimc.Performance;
using Cimc.Placement;
using Cimc.Quantization;
using Cimc.Simulation;
using Cimc.Tests.Golden;
using Cimc.Tests.Performance;
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

    /// <summary>With and without input-tiles (the host writing each tile's input codes, <see cref="Lowering.InputPerTile"/>).</summary>
    [Fact]
    public void Random_graphs_with_replicated_convolutions_match_the_golden_model()
    {
        int replicated = 0, split = 0;
        Gen.Select(RandomGraphs.Cases(), Gen.Bool, Gen.Bool, Gen.Int[0, int.MaxValue]).Sample(t =>
        {
            (GraphCase c, bool tree, bool perTile, int seed) = t;
            Func<MappedModel, MappedModel> copies = RandomCopies(seed);
            Architecture arch = GraphBitExactnessTests.ChipFor(c, replicate: copies);
            replicated += copies(CrossbarMapper.Map(c.Model, Compiler.Geometry(arch))).Layers.Any(l => l.Replicas > 1) ? 1 : 0;
            ProgramImage program = GraphBitExactnessTests.AssertGolden(c, arch, new Lowering(false, tree) { BiasFirst = true, InputPerTile = perTile },
                replicate: copies, placeCopies: seed % 3 != 0);
            Assert.True(perTile || program.Input.Parts.IsEmpty);
            split += program.Input.Parts.IsEmpty ? 0 : 1;
        }, iter: 40, threads: 1);
        Assert.True(replicated >= 20, $"only {replicated} of 40 draws replicated a convolution");
        Assert.True(split >= 5, $"only {split} of 40 draws wrote the input in parts");
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
            Lowering lowering = new(false, true) { BiasFirst = true, InputPerTile = seed % 2 == 0 };
            var e = Assert.Throws<Cimc.Diagnostics.CimcException>(() => GraphBitExactnessTests.Compile(c.Model,
                GraphBitExactnessTests.ChipFor(c, coresPerTile, 8 * TileSpec.BytesPerWord, replicate: copies), lowering, copies));
            System.Text.RegularExpressions.Match m = System.Text.RegularExpressions.Regex.Match(e.Message, @"tile buffers hold (\d+) words");
            Assert.True(m.Success, e.Message);
            rings += e.Message.Contains(" rows)", StringComparison.Ordinal) ? 1 : 0;
            int words = int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            GraphBitExactnessTests.AssertGolden(c, GraphBitExactnessTests.ChipFor(c, coresPerTile, words * TileSpec.BytesPerWord, replicate: copies), lowering,
                replicate: copies, placeCopies: seed % 3 == 1);
        }, iter: 30, threads: 1);
        Assert.True(rings >= 4, $"only {rings} of 30 draws held a map in a ring");
    }

    /// <summary>
    /// place-copies (<see cref="Codegen.CopyPlacement"/>) on random conv graphs with random copies,
    /// on chips of 1 to 4 cores a tile: the code generator's delivery words x hops are never above
    /// the ascending placement's, every copy sits on cores no other layer or copy uses, and the
    /// greedy placement is strictly better on some draws (so the pass does something), and some draws
    /// split a pool or add over several cores (the golden properties above place copies the same way).
    /// </summary>
    [Fact]
    public void Placed_copies_never_deliver_more_words_x_hops_than_ascending_ones()
    {
        int better = 0, draws = 0, split = 0;
        Gen.Select(RandomGraphs.Cases(), Gen.Int[0, 2], Gen.Int[0, int.MaxValue]).Sample(t =>
        {
            (GraphCase c, int tilesLog, int seed) = t;
            Func<MappedModel, MappedModel> copies = RandomCopies(seed);
            Architecture arch = GraphBitExactnessTests.ChipFor(c, 1 << tilesLog, replicate: copies);
            MappedModel mapped = copies(CrossbarMapper.Map(c.Model, Compiler.Geometry(arch)));
            if (mapped.Layers.All(l => l.Replicas == 1))
            {
                return;
            }

            ArchHeader header = Compiler.Header(arch);
            PlacedModel linear = Placer.Place(mapped, Compiler.Shape(arch)) with { Lowering = new Lowering(false, true) { InputPerTile = seed % 2 == 0 } };
            // The copies' placement alone (place-copies may also split pools and adds, which adds deliveries of its own).
            PlacedModel placed = Codegen.CopyPlacement.Place(linear, header);
            split += Codegen.GraphPlan.Make(placed, c.Model.Graph!, header).Exec.Values.Any(e => e.Length > 1) ? 1 : 0;
            placed = placed with { Lowering = placed.Lowering with { VectorCopies = false } };
            long before = Codegen.CopyPlacement.DeliveryCost(linear, header), after = Codegen.CopyPlacement.DeliveryCost(placed, header);
            Assert.True(after <= before, $"{c}: words x hops {before} -> {after}");
            int[] cores = [.. placed.AllReplicas.SelectMany(l => l.Cores)];
            Assert.Equal(cores.Length, cores.Distinct().Count());
            Assert.Equal(linear.Layers, placed.Layers);
            draws++;
            better += after < before ? 1 : 0;
        }, iter: 40, threads: 1);
        Assert.True(draws >= 20 && better >= 3, $"greedy better on {better} of {draws} replicated draws");
        Assert.True(split >= 3, $"pools or adds split on {split} of {draws} replicated draws");
    }

    /// <summary>
    /// PIMCOMP's greedy over windows: LeNet-like loads (conv1 784 windows of 28 columns, conv2 100 of
    /// 10, a dense layer). conv1 gets one copy per column (28 windows each); conv2 then has the
    /// slowest copies (10 x ceil(10 / k) window-times) until k = 5 (20 < 28); counts in between that do
    /// not shorten a copy (conv2 from 5 to 9) are skipped; the dense layer never gets copies.
    /// </summary>
    [Fact]
    public void Window_greedy_balances_copies_by_windows_per_copy_under_the_budget()
    {
        LayerLoad[] loads = [new(784, 4), new(100, 8), new(1, 2)];
        int[] widths = [28, 10, 1];
        Assert.Equal(new[] { 28, 5, 1 }, Replication.WindowGreedy(loads, widths, budget: 10_000).ToArray());
        Assert.Equal(28.0, Replication.WindowStage(loads, widths, [28, 5, 1]), 9);

        // A budget one crossbar short of conv1's step from 14 to 28 copies: on the way conv1 reached
        // 3 columns a copy (84 window-times), conv2 (100) took a second copy (50), conv1 went to 14
        // copies (56), and there it stops.
        Assert.Equal(new[] { 14, 2, 1 }, Replication.WindowGreedy(loads, widths, budget: (14 * 4) + (2 * 8) + 2 + (14 * 4) - 1).ToArray());
        Assert.Equal(new[] { 1, 1, 1 }, Replication.WindowGreedy(loads, widths, budget: 14).ToArray());

        // The slowest layer a dense one: nothing to split, so nothing is copied.
        Assert.Equal(new[] { 1, 1 }, Replication.WindowGreedy([new(784, 4), new(1000, 2)], [28, 1], budget: 10_000).ToArray());

        // max: every convolution the same count, at most its width.
        Assert.Equal(new[] { 10, 10, 1 }, Replication.WindowMax(loads, widths, budget: (10 * 4) + (10 * 8) + 2).ToArray());
        Assert.Equal(new[] { 28, 10, 1 }, Replication.WindowMax(loads, widths, budget: 10_000).ToArray());
    }

    /// <summary>
    /// LeNet on ISAAC at 8/8 bits with `--replication balance`: conv1 gets 28 copies and conv2 5, the
    /// program keeps period 1, equals the golden model, and its latency beats conv1's 784 windows on
    /// one crossbar (what no unreplicated program can).
    /// </summary>
    [Fact]
    public void LeNet_on_isaac_with_balanced_copies_splits_windows_and_matches_the_golden_model()
    {
        Architecture isaac = ArchitectureCatalog.Preset("isaac");
        string dir = Path.Combine(TestPaths.Examples, "fashion-mnist");
        NdArray images = Npy.Read(Path.Combine(dir, "calibration.npy"));
        Compilation c = Compiler.Compile(ModelLoader.Load(Path.Combine(dir, "lenet.onnx")), isaac, Compiler.OptionsFor(isaac, 8, 8), images.Take(64),
            settings: CompileSettings.Default with { Replication = ReplicationChoice.Balance });
        Assert.Equal(new[] { 28, 5, 1, 1, 1 }, c.Mapped!.Layers.Select(l => l.Replicas).ToArray());
        Assert.Equal(1, c.Program!.Period);

        QuantizedModel model = c.Quantized!;
        var xbar = new CrossbarParams(isaac.Core.Crossbar.Rows, isaac.Core.Crossbar.Cols, isaac.Core.Crossbar.CellBits, isaac.Core.Dac.Bits, isaac.Core.Adc.Bits);
        var sim = new FunctionalSimulator(c.Program, c.Weights!);
        for (int s = 0; s < 3; s++)
        {
            long[] codes = GoldenGraph.QuantizeInput(model, images.Row(s));
            Assert.Equal(GoldenGraph.RunCodes(model, xbar, codes), sim.RunCodes(codes));
        }

        PerformanceReport r = PerformanceFixtures.Evaluate(c, 16);
        Assert.True(r.LatencyNs < 784 * 8 * 100.0, $"latency {r.LatencyNs} ns");
        Assert.True(r.LatencyNs >= r.LowerBoundLatencyNs && r.LowerBoundLatencyNs >= r.MvmSequenceBoundNs);
        Assert.True(r.ThroughputPerS <= r.UpperBoundThroughputPerS);
    }

    /// <summary>
    /// LeNet with balanced copies at -O2 (delivery-best takes input-tiles for a convolutional
    /// network): conv1's 28 copies sit on several tiles, and the host writes each of those tiles the
    /// input codes its cores load, and no other (the codes no core loads, outside every window, go
    /// to the first tile so the parts cover the input). No core stores into an input copy (nobody forwards it).
    /// </summary>
    [Fact]
    public void LeNet_input_parts_go_to_the_tiles_that_read_them()
    {
        Architecture isaac = ArchitectureCatalog.Preset("isaac");
        string dir = Path.Combine(TestPaths.Examples, "fashion-mnist");
        Compilation c = Compiler.Compile(ModelLoader.Load(Path.Combine(dir, "lenet.onnx")), isaac, Compiler.OptionsFor(isaac, 8, 8),
            Npy.Read(Path.Combine(dir, "calibration.npy")).Take(64), settings: CompileSettings.Default with { Replication = ReplicationChoice.Balance });
        ProgramImage program = c.Program!;
        InputSpec input = program.Input;
        var tiles = input.Parts.GroupBy(p => p.Tile).ToDictionary(g => g.Key, g => g.ToList());
        Assert.True(tiles.Count >= 3, $"input parts on {tiles.Count} tiles");

        var written = new Dictionary<int, HashSet<int>>();
        var read = new Dictionary<int, HashSet<int>>();
        foreach ((int tile, List<IoPart> parts) in tiles)
        {
            // A whole copy: code i at base + i, for every part on the tile.
            int baseAddr = parts[0].Addr - parts[0].Start;
            Assert.All(parts, p => Assert.Equal(baseAddr, p.Addr - p.Start));
            written[tile] = [.. parts.SelectMany(p => Enumerable.Range(p.Start, p.Len))];
            read[tile] = [];
            foreach (CoreProgram core in program.Cores.Where(k => program.Arch.TileOf(k.Core) == tile))
            {
                foreach (Instruction i in core.Code.Where(i => i.Opcode is Opcode.Load or Opcode.Store))
                {
                    // load dst, src, len reads the buffer at src; store dst, src, len writes it at dst.
                    long lo = i.Fields[i.Opcode == Opcode.Load ? 1 : 0], len = i.Fields[2];
                    bool inCopy = lo + len > baseAddr && lo < baseAddr + input.Len;
                    if (i.Opcode == Opcode.Load && inCopy)
                    {
                        Assert.True(lo >= baseAddr && lo + len <= baseAddr + input.Len, $"core {core.Core} loads across the input copy");
                        read[tile].UnionWith(Enumerable.Range((int)(lo - baseAddr), (int)len));
                    }

                    Assert.False(i.Opcode == Opcode.Store && inCopy, $"core {core.Core} stores into tile {tile}'s input copy");
                }
            }
        }

        var nobody = Enumerable.Range(0, input.Len).Where(i => !read.Values.Any(r => r.Contains(i))).ToHashSet();
        int first = tiles.Keys.Min();
        foreach (int tile in tiles.Keys)
        {
            Assert.True(read[tile].IsSubsetOf(written[tile]), $"tile {tile} loads input codes the host does not write there");
            var extra = written[tile].Except(read[tile]).ToList();
            Assert.True(tile == first ? extra.All(nobody.Contains) : extra.Count == 0, $"tile {tile} is written {extra.Count} codes it does not load");
            Assert.True(read[tile].Count < input.Len, $"tile {tile} loads the whole input");
        }
    }

    /// <summary>
    /// The replicate passes' check that copies leave the maps room (<see cref="Codegen.GraphCodeGenerator.MapsFit"/>)
    /// says exactly what the schedule does: on tiles of a half, three quarters or all of the buffer
    /// the unreplicated network needs, random copies fit when, and only when, the program compiles
    /// without a tile-buffer refusal.
    /// </summary>
    [Fact]
    public void The_maps_fit_check_agrees_with_the_schedules_refusal()
    {
        (int fit, int refused) = (0, 0);
        Gen.Select(RandomGraphs.Cases(), Gen.Int[0, int.MaxValue]).Sample(t =>
        {
            (GraphCase c, int seed) = t;
            Func<MappedModel, MappedModel> copies = RandomCopies(seed);
            Lowering lowering = new(false, true);
            var e = Assert.Throws<Cimc.Diagnostics.CimcException>(() => GraphBitExactnessTests.Compile(c.Model, GraphBitExactnessTests.ChipFor(c, 4, 8 * TileSpec.BytesPerWord), lowering));
            int words = int.Parse(System.Text.RegularExpressions.Regex.Match(e.Message, @"tile buffers hold (\d+) words").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            Architecture arch = GraphBitExactnessTests.ChipFor(c, 4, Math.Max(1, words * (2 + (seed % 3)) / 4) * TileSpec.BytesPerWord, replicate: copies);
            CrossbarGeometry g = Compiler.Geometry(arch);
            MappedModel mapped = copies(Codegen.CoreCrossbars.Choose(CrossbarMapper.Map(c.Model, g), arch.Core.Crossbars, arch.Core.LocalMemoryWords, Math.Max(g.Rows, g.Cols)));
            bool fits = Codegen.GraphCodeGenerator.MapsFit(Placer.Place(mapped, Compiler.Shape(arch)), Compiler.Header(arch));
            Cimc.Diagnostics.CimcException? refusal = Record.Exception(() => GraphBitExactnessTests.Compile(c.Model, arch, lowering, copies)) as Cimc.Diagnostics.CimcException;
            Assert.Equal(fits, refusal is null || !refusal.Message.Contains(" buffer: needs ", StringComparison.Ordinal));
            _ = fits ? fit++ : refused++;
        }, iter: 30, threads: 1);
        Assert.True(fit > 0 && refused > 0, $"{fit} draws fit and {refused} did not: both sides should be seen");
    }
}
