using Cimc.Architectures;
using Cimc.Data;
using Cimc.Diagnostics;
using Cimc.Ir;
using Cimc.Isa;
using Cimc.Passes;
using Cimc.Quantization;
using Cimc.Simulation;
using Cimc.Tests.Golden;
using CsCheck;

namespace Cimc.Tests.Compile;

/// <summary>
/// Weight reloading (`--when-too-large reload`): a network larger than a small node, cut into
/// segments of whole layers, runs bit for bit as the golden model's own segmented run says, in the
/// reference and the batched simulator, from the files compile writes, and as the same network
/// compiled unsegmented on a chip that holds it.
/// </summary>
public sealed class ReloadTests
{
    /// <summary>A draw with at least two layers (one layer cannot be cut).</summary>
    private static BitExactnessTests.DesignPoint Draw(int seed)
    {
        BitExactnessTests.DesignPoint p = BitExactnessTests.DesignPoint.From(seed, maxWidth: 160) with { Rows = 16 << (seed % 3), Cols = 16 << ((seed / 3) % 3) };
        var rng = new Random(seed ^ 0x2ad);
        return p.Activations.Length >= 2 ? p : p with { Widths = [.. p.Widths, rng.Next(1, 161)], Activations = [.. p.Activations, "relu"] };
    }

    /// <summary>
    /// A node of <paramref name="tiles"/> x <paramref name="coresPerTile"/> cores of
    /// <paramref name="crossbarsPerCore"/> crossbars, the rest of the chip as <paramref name="a"/>.
    /// </summary>
    internal static Architecture Small(Architecture a, int tiles, int coresPerTile, int crossbarsPerCore) => a with
    {
        Chip = a.Chip with { Tiles = tiles, Mesh = new MeshSpec(tiles, 1) },
        Tile = a.Tile with { Cores = coresPerTile },
        Core = a.Core with { Crossbars = crossbarsPerCore },
    };

    [Fact]
    public void Networks_larger_than_a_small_node_run_bit_exactly_with_weight_reloading_in_both_simulators() => ReloadProperty(10);

    [Fact]
    [Trait("tier", "slow")]
    public void Many_more_networks_run_bit_exactly_with_weight_reloading() => ReloadProperty(30);

    private static void ReloadProperty(int draws)
    {
        int segmentsSeen = 0;
        Gen.Int[0, int.MaxValue].Sample(seed =>
        {
            BitExactnessTests.DesignPoint p = Draw(seed);
            var rng = new Random(seed ^ 0x7e10ad);
            (Graph graph, NdArray calibration, NdArray inputs) = p.Network();
            Architecture big = p.Architecture();
            QuantizationOptions options = p.Options();

            // The golden model sizes a node that holds every layer but not the whole network.
            int perCore = big.Core.Adc.GroupCrossbars * rng.Next(1, 4);
            QuantizedModel quantized = Compiler.Compile(graph, big, options, calibration, CompileStage.Quantized).Quantized!;
            List<long> layerCores = [.. quantized.Layers.Select(l => GoldenSegments.Cores(l, options.SignedWeights, p.Rows, p.Cols, p.CellBits, perCore))];
            long nodeCores = rng.NextInt64(layerCores.Max(), layerCores.Sum());
            int coresPerTile = nodeCores % 2 == 0 && rng.Next(2) == 0 ? 2 : 1;
            Architecture small = Small(big, (int)(nodeCores / coresPerTile), coresPerTile, perCore);
            var settings = new CompileSettings
            {
                Level = (OptLevel)rng.Next(4),
                Placement = rng.Next(4) switch { 0 => null, 1 => PlacementChoice.Linear, 2 => PlacementChoice.Greedy, _ => PlacementChoice.Anneal },
                Seed = rng.Next(),
                WhenTooLarge = WhenTooLarge.Reload,
            };
            Compilation c = Compiler.Compile(graph, small, options, calibration, CompileStage.Asm, settings);

            // The compiler cuts where the golden model does.
            List<int> firsts = GoldenSegments.Cut(layerCores, small.TotalCores);
            Assert.True(c.IsSegmented);
            Assert.Equal(firsts, c.SegmentCuts.Select(s => s.FirstLayer));
            Interlocked.Add(ref segmentsSeen, firsts.Count);

            // The files compile writes, read back.
            using var dir = new TempDir();
            CompiledFolder.Write(dir.Path, c);
            CompiledFolder folder = CompiledFolder.Read(dir.Path);
            Assert.Equal(firsts.Count, folder.Segmented!.Segments.Length);
            IProgramRunner reload = ProgramRunners.For(folder);

            // The same network, unsegmented, on the chip that holds it.
            Compilation whole = Compiler.Compile(graph, big, options, calibration, CompileStage.Asm, settings with { WhenTooLarge = WhenTooLarge.Explain });
            Assert.False(whole.IsSegmented);
            var unsegmented = new FunctionalSimulator(whole.Program!, whole.Weights!);

            var xbar = new CrossbarParams(p.Rows, p.Cols, p.CellBits, p.DacBits, p.AdcBits);
            long[][] codes = [.. Enumerable.Range(0, inputs.Rows).Select(r => GoldenModel.QuantizeInput(c.Quantized!, inputs.Row(r)))];
            long[] batched = reload.RunBatchCodes([.. codes.SelectMany(x => x)], codes.Length);
            int outLen = quantized.Layers[^1].OutFeatures;
            for (int r = 0; r < codes.Length; r++)
            {
                long[] golden = GoldenSegments.RunCodes(c.Quantized!, xbar, firsts, codes[r]);
                Assert.Equal(GoldenModel.RunCodes(c.Quantized!, xbar, codes[r]), golden);
                Assert.Equal(golden, reload.RunCodes(codes[r]));
                Assert.Equal(golden, batched.AsSpan(r * outLen, outLen).ToArray());
                Assert.Equal(golden, unsegmented.RunCodes(codes[r]));
            }
        }, iter: draws, threads: 1);

        // Every draw is cut (at least two segments, at most one per layer).
        Assert.InRange(segmentsSeen, 2 * draws, 3 * draws);
    }

    /// <summary>The example MLP (784-256-128-10) and a node of 2 x 4 cores of 16 crossbars: it needs 9 cores, layer 0 alone 7.</summary>
    private static (Graph Graph, Architecture Arch, QuantizationOptions Options, NdArray Calibration) Example()
    {
        Graph graph = Cimc.Import.ModelLoader.Load(Path.Combine(TestPaths.Examples, "fashion-mnist", "mlp.onnx"));
        Architecture puma = ArchitectureCatalog.Preset("puma");
        Architecture arch = Small(puma, 2, 4, 16);
        var calibration = new NdArray([8, 784], [.. Enumerable.Range(0, 8 * 784).Select(i => (float)((i * 37 % 101) / 100.0))]);
        return (graph, arch, Compiler.OptionsFor(arch), calibration);
    }

    [Fact]
    public void A_network_the_node_cannot_hold_is_refused_naming_what_each_choice_would_need()
    {
        (Graph graph, Architecture arch, QuantizationOptions options, NdArray calibration) = Example();
        var e = Assert.Throws<CimcException>(() => Compiler.Compile(graph, arch, options, calibration));
        Assert.Contains("it needs 2 chips (--chips 2 or --chips auto); --when-too-large multichip adds them, --when-too-large reload cuts it into 2 segments with weight reloading on this chip", e.Message);

        e = Assert.Throws<CimcException>(() => Compiler.Compile(graph, arch, options, calibration, settings: new CompileSettings { WhenTooLarge = WhenTooLarge.Fail }));
        Assert.Contains("the network needs 9 cores of 16 crossbars but the chip has 8", e.Message);

        Compilation multichip = Compiler.Compile(graph, arch, options, calibration, settings: new CompileSettings { WhenTooLarge = WhenTooLarge.Multichip });
        Assert.Equal(2, multichip.Architecture.Chips);
        Assert.False(multichip.IsSegmented);

        // A layer larger than the whole node would need splitting by row or column blocks: refused, saying so.
        Architecture tiny = Small(arch, 1, 4, 16);
        e = Assert.Throws<CimcException>(() => Compiler.Compile(graph, tiny, options, calibration, settings: new CompileSettings { WhenTooLarge = WhenTooLarge.Reload }));
        Assert.Contains("layer '/0/Gemm' alone needs 7 cores", e.Message);
        Assert.Contains("splitting one layer's row or column blocks across reloads is not supported", e.Message);
        Assert.Contains("weight reloading cannot split a layer larger than the node",
            Assert.Throws<CimcException>(() => Compiler.Compile(graph, tiny, options, calibration)).Message);
    }

    [Fact]
    public void A_network_that_fits_compiles_to_the_usual_files_byte_for_byte_under_reload()
    {
        (Graph graph, Architecture arch, QuantizationOptions options, NdArray calibration) = Example();
        Architecture roomy = arch.WithChips(2);
        Compilation plain = Compiler.Compile(graph, roomy, options, calibration);
        Compilation reload = Compiler.Compile(graph, roomy, options, calibration, settings: new CompileSettings { WhenTooLarge = WhenTooLarge.Reload });
        Assert.False(reload.IsSegmented);
        Assert.Equal(plain.Program!.ToBytes(), reload.Program!.ToBytes());
        Assert.Equal(plain.Weights!.ToBytes(), reload.Weights!.ToBytes());
        // Format 3, or 5 when -O2's delivery-best wrote the input into every first-layer tile (input parts).
        Assert.Equal(reload.Program.Input.Parts.IsEmpty ? ProgramImage.Version : ProgramImage.SplitIoVersion, BitConverter.ToInt32(reload.Program.ToBytes(), 8));
    }

    [Fact]
    public void Segmented_files_carry_version_6_and_2_and_single_program_readers_refuse_them_in_one_line()
    {
        (Graph graph, Architecture arch, QuantizationOptions options, NdArray calibration) = Example();
        Compilation c = Compiler.Compile(graph, arch, options, calibration, settings: new CompileSettings { WhenTooLarge = WhenTooLarge.Reload });
        Assert.Equal([0, 2], c.SegmentCuts.Select(s => s.FirstLayer));
        using var dir = new TempDir();
        CompiledFolder.Write(dir.Path, c);
        byte[] program = File.ReadAllBytes(dir.File("program.bin")), weights = File.ReadAllBytes(dir.File("weights.bin"));
        Assert.Equal(SegmentedProgram.Version, BitConverter.ToInt32(program, 8));
        Assert.Equal(SegmentedProgram.WeightsVersion, BitConverter.ToInt32(weights, 8));

        // Each segment is a whole single-program file, byte for byte.
        SegmentedProgram read = SegmentedProgram.Load(dir.File("program.bin"));
        Assert.Equal(c.Segments.Select(s => s.Program!), read.Segments);
        Assert.Equal(c.Segments.Select(s => s.Weights!.ToBytes()), SegmentedProgram.LoadWeights(dir.File("weights.bin"), 2).Select(w => w.ToBytes()));

        Assert.Contains("version 6 is a segmented program", Assert.Throws<CimcException>(() => ProgramImage.FromBytes(program)).Message);
        Assert.Contains("unsupported version 2", Assert.Throws<CimcException>(() => WeightImage.FromBytes(weights)).Message);

        // Damage: a truncated weights.bin, a segment count that does not match, trailing bytes.
        File.WriteAllBytes(dir.File("weights.bin"), weights[..^5]);
        Assert.Throws<CimcException>(() => SegmentedProgram.LoadWeights(dir.File("weights.bin"), 2));
        File.WriteAllBytes(dir.File("weights.bin"), [.. weights, 0]);
        Assert.Contains("trailing", Assert.Throws<CimcException>(() => SegmentedProgram.LoadWeights(dir.File("weights.bin"), 2)).Message);
        File.WriteAllBytes(dir.File("weights.bin"), weights);
        Assert.Contains("2 segments", Assert.Throws<CimcException>(() => SegmentedProgram.LoadWeights(dir.File("weights.bin"), 3)).Message);
        Assert.Throws<CimcException>(() => SegmentedProgram.FromBytes(program[..^1]));
    }
}
