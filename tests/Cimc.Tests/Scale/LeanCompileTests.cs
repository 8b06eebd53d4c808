using Cimc.Architectures;
using Cimc.Diagnostics;
using Cimc.Isa;
using Cimc.Mapping;
using Cimc.Passes;
using Cimc.Quantization;
using Cimc.Tests.Performance;

namespace Cimc.Tests.Scale;

/// <summary>What lets large models compile lean: budgets that grow with the file, streamed images, no weight image where only cost is asked.</summary>
public sealed class LeanCompileTests
{
    [Fact]
    public void A_file_s_read_budget_grows_with_its_size_but_never_below_the_fixed_floor()
    {
        var small = new ReadBudget(1000);
        Assert.Equal(ReadBudget.MaxElements, small.ElementLimit);
        Assert.Equal(ReadBudget.MaxBytes, small.ByteLimit);
        Assert.Contains($"more than {ReadBudget.MaxElements} values", Assert.Throws<CimcException>(() => small.ChargeElements(ReadBudget.MaxElements + 1, "f")).Message);

        // A 4.3 GB float32 state_dict of a billion weights: its values and bytes fit its own budget, and no more.
        const long file = 4_300_000_000;
        var large = new ReadBudget(file);
        large.ChargeElements(1_073_741_824, "f");
        large.ChargeBytes(4_294_967_296, "f");
        Assert.Throws<CimcException>(() => large.ChargeBytes(file, "f"));
        Assert.Throws<CimcException>(() => new ReadBudget(file).ChargeElements(file + 1, "f"));
    }

    [Fact]
    public void Weights_bin_saved_and_loaded_as_a_stream_round_trips_and_a_truncated_file_is_refused_in_one_line()
    {
        var rng = new Random(3);
        var crossbars = Enumerable.Range(0, 40).Select(i => KeyValuePair.Create(new CrossbarId(i / 4, i % 4), Enumerable.Range(0, 64 * 32).Select(_ => (byte)rng.Next(4)).ToArray())).ToArray();
        var image = new WeightImage(64, 32, 2, crossbars);
        string path = Path.GetTempFileName();
        try
        {
            image.Save(path);
            byte[] bytes = File.ReadAllBytes(path);
            Assert.Equal(image.ToBytes(), bytes);
            WeightImage loaded = WeightImage.Load(path);
            Assert.Equal(bytes, loaded.ToBytes());
            Assert.Equal(crossbars[17].Value[100], loaded.Level(crossbars[17].Key, 100 / 32, 100 % 32));

            File.WriteAllBytes(path, bytes[..^1]);
            var e = Assert.Throws<CimcException>(() => WeightImage.Load(path));
            Assert.Contains("crossbar count 40 does not fit", e.Message);
            Assert.Single(e.Message.Split('\n'));
            File.WriteAllBytes(path, [.. bytes, 0]);
            Assert.Contains("1 unexpected trailing bytes", Assert.Throws<CimcException>(() => WeightImage.Load(path)).Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_cost_only_compile_builds_the_same_program_without_a_weight_image()
    {
        Architecture puma = ArchitectureCatalog.Preset("puma");
        QuantizationOptions options = Compiler.OptionsFor(puma);
        Compilation full = PerformanceFixtures.Compile(CompileSettings.Default, puma, options, 5, () => new Cimc.Ir.Relu(), 300, 200, 10);
        Compilation cost = PerformanceFixtures.Compile(CompileSettings.Default with { WeightImage = false }, puma, options, 5, () => new Cimc.Ir.Relu(), 300, 200, 10);
        Assert.NotNull(full.Weights);
        Assert.Null(cost.Weights);
        Assert.Equal(full.Program, cost.Program);
    }

    [Fact]
    public void The_weight_image_of_a_compile_computes_the_mapped_levels_when_written_and_writes_the_bytes_of_the_levels_as_arrays()
    {
        Architecture puma = ArchitectureCatalog.Preset("puma");
        foreach (SignedWeightEncoding encoding in Enum.GetValues<SignedWeightEncoding>())
        {
            Compilation c = PerformanceFixtures.Compile(CompileSettings.Default, puma, Compiler.OptionsFor(puma, 6, 8, signedWeights: encoding), 5, () => new Cimc.Ir.Relu(), 300, 200, 10);
            Placement.PlacedBlock[] blocks = [.. c.Placed!.AllReplicas.SelectMany(l => l.Blocks)];
            var arrays = new WeightImage(puma.Core.Crossbar.Rows, puma.Core.Crossbar.Cols, puma.Core.Crossbar.CellBits,
                blocks.Select(pb => KeyValuePair.Create(new CrossbarId(pb.Core, pb.Crossbar), pb.Block.Levels.ToArray())));
            Assert.Equal(blocks.Length, c.Weights!.CrossbarCount);

            // Written first (computed crossbar by crossbar), then read as arrays (computed once, kept).
            byte[] written = c.Weights.ToBytes();
            Assert.Equal(arrays.ToBytes(), written);
            Assert.Equal(written.LongLength, c.Weights.FileBytes);
            Assert.Equal(arrays.Crossbars.Keys, c.Weights.Crossbars.Keys);
            Assert.All(arrays.Crossbars, kv => Assert.Equal(kv.Value.ToArray(), c.Weights.Crossbars[kv.Key].ToArray()));
            Assert.Equal(written, c.Weights.ToBytes());

            // The indexer reads single cells the same way.
            CellLevels levels = blocks[^1].Block.Levels;
            byte[] all = levels.ToArray();
            Assert.All(Enumerable.Range(0, all.Length), i => Assert.Equal(all[i], levels[i]));
        }
    }

    [Fact]
    public void Simulate_dir_costs_the_program_without_reading_weights_bin_while_run_reads_and_checks_it()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"cimc-lean-{Guid.NewGuid():N}");
        try
        {
            string mnist = Path.Combine(TestPaths.Examples, "fashion-mnist");
            (int exit, _, string error) = Cli.CliRunner.Run("compile", Path.Combine(mnist, "mlp.onnx"), "--arch", "edge", "-o", dir);
            Assert.True(exit == 0, error);
            File.WriteAllBytes(Path.Combine(dir, "weights.bin"), "CIMCWGT1 damaged"u8.ToArray());
            (exit, _, error) = Cli.CliRunner.Run("simulate", dir, "--json");
            Assert.True(exit == 0, error);
            (exit, _, error) = Cli.CliRunner.Run("run", dir, "--input", Path.Combine(mnist, "sample.npy"), "--output", Path.Combine(dir, "y.npy"));
            Assert.Equal(1, exit);
            Assert.Contains("weights.bin", error);
            Assert.Single(error.TrimEnd().Split('\n'));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
