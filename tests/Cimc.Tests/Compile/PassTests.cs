using System.Collections.Immutable;
using Cimc.Architectures;
using Cimc.Diagnostics;
using Cimc.Ir;
using Cimc.Isa;
using Cimc.Passes;
using Cimc.Placement;
using Cimc.Quantization;
using Cimc.Scheduling;
using Cimc.Tests.Performance;
using Xunit.Abstractions;

namespace Cimc.Tests.Compile;

/// <summary>The pass pipeline: levels, explicit lists, contracts, verifiers, and what each optimization changes.</summary>
public sealed class PassTests(ITestOutputHelper output)
{
    private static Compilation PumaDifferential(OptLevel level, params int[] widths)
    {
        Architecture puma = ArchitectureCatalog.Preset("puma");
        var options = Compiler.OptionsFor(puma) with { SignedWeights = SignedWeightEncoding.Differential };
        return PerformanceFixtures.Compile(new CompileSettings { Level = level }, puma, options, 5, () => new Sigmoid(), widths);
    }

    private static string[] Names(ImmutableArray<Pass> passes) => [.. passes.Select(p => p.Name)];

    /// <summary>MLP-L4 on puma through an explicit pass list.</summary>
    private static Compilation PumaMlpL4(string passes) =>
        PerformanceFixtures.PumaMlpL4(ArchitectureCatalog.Preset("puma"), new CompileSettings { Passes = Pipelines.Parse(passes) });

    /// <summary>Every program gives the first one's output codes on a random MLP-L4 input.</summary>
    private static void SameCodes(int seed, Compilation expected, params Compilation[] others)
    {
        var rng = new Random(seed);
        long[] x = [.. Enumerable.Range(0, 1024).Select(_ => (long)rng.Next(0, (int)expected.Program!.Input.QMax + 1))];
        long[] codes = new Cimc.Simulation.FunctionalSimulator(expected.Program!, expected.Weights!).RunCodes(x);
        Assert.All(others, c => Assert.Equal(codes, new Cimc.Simulation.FunctionalSimulator(c.Program!, c.Weights!).RunCodes(x)));
    }

    [Fact]
    public void Each_level_has_its_pass_list_and_the_compilation_records_the_passes_that_ran()
    {
        Assert.Equal(["quantize", "map", "place-linear", "schedule", "emit"], Names(Pipelines.For(OptLevel.O0)));
        Assert.Equal(["quantize", "map", "place-linear", "reduce-tree", "broadcast-ring", "schedule", "emit"], Names(Pipelines.For(OptLevel.O1)));
        Assert.Equal(["quantize", "map", "place-linear", "reduce-tree", "broadcast-ring", "signal-chunks", "fold-bias", "delivery-best", "schedule", "emit"], Names(Pipelines.For(OptLevel.O2)));
        Assert.Equal(["quantize", "map", "replicate-minmax", "place-best", "signal-chunks", "fold-bias", "shapes-best", "delivery-best", "place-copies", "schedule", "order-best", "emit"], Names(Pipelines.For(OptLevel.O3)));
        Assert.Equal("place-linear", Pipelines.For(OptLevel.O3, PlacementChoice.Linear)[3].Name);
        Assert.Equal(["quantize", "map", "replicate-max", "place-linear", "schedule", "emit"], Names(Pipelines.For(OptLevel.O0, replication: Cimc.Mapping.ReplicationChoice.Max)));
        Assert.Equal(["quantize", "map", "place-best", "signal-chunks", "fold-bias", "shapes-best", "delivery-best", "schedule", "order-best", "emit"], Names(Pipelines.For(OptLevel.O3, replication: Cimc.Mapping.ReplicationChoice.None)));

        Compilation c = PumaDifferential(OptLevel.O0, 300, 40, 10);
        Assert.Equal(["quantize", "map", "place-linear", "schedule", "emit"], c.Passes.Select(p => p.Name).ToArray());
        Assert.All(c.Passes, p => Assert.True(p.Milliseconds >= 0));
        Assert.Null(c.Passes[1].TrafficHops);
        Assert.NotNull(c.Passes[2].TrafficHops);
    }

    [Theory]
    [InlineData("map,quantize,place-linear,emit", "needs the quantized IR")]
    [InlineData("quantize,map,place-linear", "must end with emit")]
    [InlineData("quantize,map,reduce-tree,emit", "needs the placed IR")]
    [InlineData("quantize,map,place-sideways,emit", "no pass 'place-sideways'")]
    public void A_pass_list_that_breaks_a_contract_is_a_one_line_diagnostic(string list, string expected)
    {
        Architecture edge = ArchitectureCatalog.Preset("edge");
        var e = Assert.Throws<CimcException>(() =>
            PerformanceFixtures.Compile(new CompileSettings { Passes = Pipelines.Parse(list) }, edge, Compiler.OptionsFor(edge), 1, null, 30, 10));
        Assert.Equal("bad-option", e.Diagnostic.Code);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Without_the_tree_and_ring_passes_partial_sums_chain_into_the_root_and_hubs_forward_nothing()
    {
        // puma, differential 16-bit: a 1024-input column block spans 8 cores; layer 1 spans 2 tiles.
        Compilation straight = PumaDifferential(OptLevel.O0, 1024, 1024, 256);
        Compilation optimized = PumaDifferential(OptLevel.O1, 1024, 1024, 256);
        IEnumerable<ScheduledMessage> Of(Compilation c, MessageKind kind, int layer) => c.Schedule!.Messages.Where(m => m.Kind == kind && m.Layer == layer);
        int root = straight.Placed!.Layers[0].Lead;
        Assert.Equal(7, Of(straight, MessageKind.PartialSum, 0).Count(m => m.To == root));
        Assert.Equal(3, Of(optimized, MessageKind.PartialSum, 0).Count(m => m.To == optimized.Placed!.Layers[0].Lead));

        // Straight: no core both receives and sends layer 1's input chunks; the ring forwards.
        bool Forwards(Compilation c) => Of(c, MessageKind.LayerInput, 1).Any(m => Of(c, MessageKind.LayerInput, 1).Any(n => n.From == m.To));
        Assert.False(Forwards(straight));
        Assert.True(Forwards(optimized));
    }

    [Fact]
    public void With_row_split_placement_and_the_tree_broadcast_each_tile_receives_only_its_half_of_the_rows()
    {
        // MLP-L4 on puma (16-bit, offset: 2 row blocks a core, 8 cores a tile). Linear placement with
        // the ring gives every tile of a layer (but the network input's) the whole layer input;
        // place-rows with broadcast-tree gives each half of it, and the program computes the same codes.
        Architecture puma = ArchitectureCatalog.Preset("puma");
        Compilation ring = PerformanceFixtures.PumaMlpL4(puma, new CompileSettings { Level = OptLevel.O2 });
        Compilation rows = PumaMlpL4("quantize,map,place-rows,reduce-tree,broadcast-tree,signal-chunks,fold-bias,schedule,emit");
        int Tile(int core) => core / puma.Tile.Cores;
        IEnumerable<int> WordsIntoTiles(Compilation c, int layer) => c.Schedule!.Messages
            .Where(m => m.Kind == MessageKind.LayerInput && m.Layer == layer && Tile(m.From) != Tile(m.To))
            .GroupBy(m => Tile(m.To)).Select(g => g.Sum(m => m.Words));
        for (int layer = 0; layer < 4; layer++)
        {
            int inputs = rows.Placed!.Layers[layer].Mapped.Layer.InFeatures;
            Assert.All(WordsIntoTiles(ring, layer), w => Assert.Equal(inputs, w));
            Assert.All(WordsIntoTiles(rows, layer), w => Assert.Equal(inputs / 2, w));
        }

        SameCodes(3, ring, rows);
    }

    [Fact]
    public void On_MLP_L4_on_puma_the_input_is_written_into_each_first_layer_tile_and_the_latency_falls()
    {
        // delivery-best keeps input-tiles (and broadcast-chain) here: the host writes the 1,024 input
        // codes into each of layer 1's 4 tiles, so no layer-1 input crosses the mesh (the ring
        // forwarded it from one tile: 512 ns per tile on puma's 32-bit links); same codes, lower latency.
        Architecture puma = ArchitectureCatalog.Preset("puma");
        Compilation o2 = PumaMlpL4("quantize,map,place-linear,reduce-tree,broadcast-ring,signal-chunks,fold-bias,delivery-best,schedule,emit");
        Compilation forwarded = PumaMlpL4("quantize,map,place-linear,reduce-tree,broadcast-ring,signal-chunks,fold-bias,schedule,emit");
        int Tile(int core) => core / puma.Tile.Cores;
        int[] firstTiles = [.. o2.Placed!.Layers[0].Cores.Select(Tile).Distinct()];
        Assert.Equal(4, firstTiles.Length);
        Assert.Equal(firstTiles, o2.Program!.Input.Parts.Select(p => p.Tile).Distinct().Order());
        Assert.All(o2.Program.Input.Parts, p => Assert.Equal((0, 1024), (p.Start, p.Len)));
        Assert.DoesNotContain(o2.Schedule!.Messages, m => m.Kind == MessageKind.LayerInput && m.Layer == 0);
        Assert.Contains(forwarded.Schedule!.Messages, m => m.Kind == MessageKind.LayerInput && m.Layer == 0 && Tile(m.From) != Tile(m.To));

        double o2Ns = PerformanceFixtures.Evaluate(o2).LatencyNs, forwardedNs = PerformanceFixtures.Evaluate(forwarded).LatencyNs;
        output.WriteLine($"MLP-L4 on puma: -O2 + delivery-best {o2Ns:F0} ns, -O2 {forwardedNs:F0} ns");
        Assert.True(o2Ns < forwardedNs - 1000, $"{o2Ns} vs {forwardedNs}");
        Assert.True(o2.Placed!.Lowering.InputPerTile && o2.Placed.Lowering.ChainBroadcast);

        SameCodes(5, forwarded, o2);
    }

    [Fact]
    public void Ring_groups_send_each_half_of_a_row_split_layer_input_only_to_its_tiles_and_arrival_order_roots_no_hub()
    {
        // place-rows puts each half of a layer's rows on tiles of their own (the halves' tiles side
        // by side); ring-groups runs a ring per half, so each tile receives half the layer input;
        // spread-roots alternates the tile of each column block's root. reduce-arrival roots each
        // block on a core that is not its tile's hub (a hub's mvms follow all its forwarding).
        Architecture puma = ArchitectureCatalog.Preset("puma");
        Compilation rows = PumaMlpL4("quantize,map,place-rows,reduce-tree,broadcast-ring,ring-groups,spread-roots,signal-chunks,fold-bias,schedule,emit");
        int Tile(int core) => core / puma.Tile.Cores;
        for (int layer = 1; layer < 4; layer++)
        {
            int inputs = rows.Placed!.Layers[layer].Mapped.Layer.InFeatures;
            var into = rows.Schedule!.Messages.Where(m => m.Kind == MessageKind.LayerInput && m.Layer == layer && Tile(m.From) != Tile(m.To))
                .GroupBy(m => Tile(m.To)).Select(g => g.Sum(m => m.Words)).ToList();
            Assert.NotEmpty(into);
            Assert.All(into, w => Assert.Equal(inputs / 2, w));
        }

        // Partial sums between a column block's two tiles go both ways.
        var crossing = rows.Schedule!.Messages.Where(m => m.Kind == MessageKind.PartialSum && m.Layer == 1 && Tile(m.From) != Tile(m.To)).ToList();
        Assert.NotEmpty(crossing);
        Assert.Contains(crossing, m => m.From > m.To);
        Assert.Contains(crossing, m => m.From < m.To);

        Compilation arrival = PumaMlpL4("quantize,map,place-linear,reduce-tree,broadcast-ring,reduce-arrival,signal-chunks,fold-bias,schedule,emit");
        for (int layer = 1; layer < 4; layer++)
        {
            // Hubs: the cores that receive layer inputs from another tile.
            var hubs = arrival.Schedule!.Messages.Where(m => m.Kind == MessageKind.LayerInput && m.Layer == layer && Tile(m.From) != Tile(m.To)).Select(m => m.To).ToHashSet();
            var roots = arrival.Schedule!.Messages.Where(m => m.Kind == MessageKind.PartialSum && m.Layer == layer).Select(m => m.To).ToHashSet();
            Assert.NotEmpty(roots);
            Assert.Empty(roots.Intersect(hubs));
        }

        SameCodes(6, PerformanceFixtures.PumaMlpL4(puma, new CompileSettings { Level = OptLevel.O0 }), rows, arrival);
    }

    [Fact]
    public void Mesh_placers_never_raise_the_objective_and_annealing_is_deterministic()
    {
        Architecture puma = ArchitectureCatalog.Preset("puma");
        Compilation c = PerformanceFixtures.PumaMlpL4(puma, new CompileSettings { Level = OptLevel.O1 });
        var mesh = new MeshCost(puma);
        var traffic = SlotTraffic.Of(c.Mapped!, puma.Core.Crossbars);
        long Cost(PlacedModel p) => mesh.Evaluate(traffic, [.. p.Layers.SelectMany(l => l.Cores)]).Objective;
        long linear = Cost(c.Placed!), greedy = Cost(GreedyPlacer.Place(c.Mapped!, puma));
        PlacedModel annealed = AnnealPlacer.Place(c.Mapped!, puma, seed: 7);
        Assert.True(greedy < linear, $"greedy {greedy} vs linear {linear}");
        Assert.True(Cost(annealed) <= greedy);
        Assert.Equal(annealed.Layers.SelectMany(l => l.Cores), AnnealPlacer.Place(c.Mapped!, puma, seed: 7).Layers.SelectMany(l => l.Cores));
    }

    [Fact]
    public void The_verifier_catches_a_receive_without_a_send_and_two_blocks_on_one_crossbar()
    {
        Compilation c = PumaDifferential(OptLevel.O1, 300, 40, 10);
        CoreProgram victim = c.Program!.Cores.First(p => p.Code.Any(i => i.Opcode == Opcode.Send));
        int at = victim.Code.IndexOf(victim.Code.First(i => i.Opcode == Opcode.Send));
        Compilation broken = c with { Program = c.Program with { Cores = c.Program.Cores.Replace(victim, victim with { Code = victim.Code.RemoveAt(at) }) } };
        Assert.Contains("never sent", Assert.Throws<InvalidOperationException>(() => Verifier.Check(broken, IrStage.Program, "test")).Message);

        PlacedLayer layer = c.Placed!.Layers[0];
        PlacedLayer clashing = layer with { Blocks = layer.Blocks.SetItem(1, layer.Blocks[1] with { Core = layer.Blocks[0].Core, Crossbar = layer.Blocks[0].Crossbar }) };
        Compilation badPlacement = c with { Placed = c.Placed with { Layers = c.Placed.Layers.SetItem(0, clashing) } };
        Assert.Contains("holds two blocks", Assert.Throws<InvalidOperationException>(() => Verifier.Check(badPlacement, IrStage.Placed, "test")).Message);
    }

    [Fact]
    public void Dump_after_hands_over_the_text_form_of_that_pass_s_ir()
    {
        string? dumped = null;
        Architecture edge = ArchitectureCatalog.Preset("edge");
        PerformanceFixtures.Compile(new CompileSettings { DumpAfter = "reduce-tree", Dump = t => dumped = t }, edge, Compiler.OptionsFor(edge), 1, null, 30, 10);
        Assert.NotNull(dumped);
        Assert.Contains("core 0 xb 0", dumped);
        Assert.Contains("lowering: reduction tree, broadcast direct", dumped);
    }

    /// <summary>
    /// MLP-L4 on puma, by the timing model: the tree and ring passes cut -O0's latency and raise its
    /// throughput; -O3's timing-model search without copies is never slower than -O2 for one inference,
    /// and with them streams faster; every level
    /// computes the same output codes.
    /// </summary>
    [Fact]
    public void On_mlp_l4_the_optimizations_beat_the_straight_lowering_and_O3_is_no_slower_than_O2()
    {
        Architecture puma = ArchitectureCatalog.Preset("puma");
        var figures = new Dictionary<OptLevel, (double Latency, double Throughput)>();
        var rng = new Random(9);
        long[][] inputs = [.. Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, 1024).Select(_ => (long)rng.Next(0, 65536)).ToArray())];
        long[][]? outputs = null;
        foreach (OptLevel level in new[] { OptLevel.O0, OptLevel.O1, OptLevel.O2, OptLevel.O3 })
        {
            Compilation c = PerformanceFixtures.PumaMlpL4(puma, new CompileSettings { Level = level });

            // The same codes out at every level (the run command's outputs are these, dequantized).
            var simulator = new Cimc.Simulation.FunctionalSimulator(c.Program!, c.Weights!);
            long[][] mine = [.. inputs.Select(x => simulator.RunCodes([.. x.Select(v => Math.Min(v, c.Program!.Input.QMax))]))];
            outputs ??= mine;
            Assert.Equal(outputs, mine);
            var one = PerformanceFixtures.Evaluate(c);
            var many = PerformanceFixtures.Evaluate(c, 64);
            figures[level] = (one.LatencyNs, many.ThroughputPerS);
            output.WriteLine($"-{level}: latency {one.LatencyNs:F0} ns (bound {one.LowerBoundLatencyNs:F0}), batch 64 {many.ThroughputPerS:F0}/s (bound {many.UpperBoundThroughputPerS:F0})");
        }

        Assert.True(figures[OptLevel.O2].Latency < 0.9 * figures[OptLevel.O0].Latency);
        Assert.True(figures[OptLevel.O2].Throughput > 1.2 * figures[OptLevel.O0].Throughput);
        // -O3's copies (replicate-minmax) rule out -O2's per-tile input (a replicated program has an
        // input region per sample slot), so its latency is compared without them; with them it must
        // stream faster than -O2.
        Cimc.Performance.PerformanceReport searched = PerformanceFixtures.Evaluate(PerformanceFixtures.PumaMlpL4(puma, new CompileSettings { Level = OptLevel.O3, Replication = Cimc.Mapping.ReplicationChoice.None }));
        output.WriteLine($"-O3 --replication none: latency {searched.LatencyNs:F0} ns");
        Assert.True(searched.LatencyNs <= figures[OptLevel.O2].Latency);
        Assert.True(figures[OptLevel.O3].Throughput > figures[OptLevel.O2].Throughput);

        // -O2's scheduling passes (signal-chunks, fold-bias) are why it differs from -O1: they must pay.
        Assert.True(figures[OptLevel.O2].Latency < figures[OptLevel.O1].Latency);
        Assert.True(figures[OptLevel.O2].Throughput > figures[OptLevel.O1].Throughput);
    }
}
