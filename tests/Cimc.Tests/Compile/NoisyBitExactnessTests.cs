using Cimc.Architectures;
using Cimc.Data;
using Cimc.Ir;
using Cimc.Placement;
using Cimc.Simulation;
using Cimc.Simulation.Devices;
using Cimc.Tests.Golden;
using CsCheck;

namespace Cimc.Tests.Compile;

/// <summary>
/// With a non-ideal device (variation, stuck cells, read noise, finite levels, a seed), the compiled
/// program run by the simulator equals the golden model bit for bit: the golden model re-derives the
/// keyed draws, the cell realization, the float32 sums and the ADC from docs/nonidealities.md, and
/// takes only the placement (which core and crossbar hold each block) from the compilation.
/// </summary>
public sealed class NoisyBitExactnessTests
{
    /// <summary>A random non-ideal device, derived from a seed; the golden model gets the same numbers in its own type.</summary>
    internal static (DeviceModel Library, DeviceParams Golden) RandomDevice(int seed, int cellBits)
    {
        var rng = new Random(seed ^ 0x0de71ce);
        bool logNormal = rng.Next(2) == 0;
        double variation = rng.Next(4) == 0 ? 0 : logNormal ? rng.NextDouble() * 0.8 : rng.NextDouble() * 0.2;
        (double low, double high) = rng.Next(2) == 0 ? (0, 0) : (rng.NextDouble() * 0.1, rng.NextDouble() * 0.1);
        double readNoise = rng.Next(2) == 0 ? 0 : rng.NextDouble() * 0.2;
        int top = (1 << cellBits) - 1;
        int levels = rng.Next(3) == 0 && top >= 2 ? rng.Next(2, top + 1) : 0;
        if (variation == 0 && low == 0 && high == 0 && readNoise == 0 && levels == 0)
        {
            readNoise = 0.05;
        }

        ulong deviceSeed = (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 40);
        var library = new DeviceModel(variation, logNormal ? VariationModel.LogNormal : VariationModel.Gaussian, low, high, readNoise, levels, deviceSeed);
        return (library, new DeviceParams(variation, logNormal, low, high, readNoise, levels, deviceSeed));
    }

    /// <summary>The placement as the golden model takes it: each block's name and its core and crossbar.</summary>
    private static IEnumerable<KeyValuePair<BlockName, BlockSite>> PlacementOf(PlacedModel placed) =>
        placed.Layers.SelectMany(l => l.Blocks).Select(pb => KeyValuePair.Create(
            new BlockName(pb.Block.Layer, pb.Block.RowBlock, pb.Block.ColBlock, pb.Block.Polarity, pb.Block.Slice),
            new BlockSite(pb.Core, pb.Crossbar)));

    private static (long[][] Simulated, long[][] Golden, long[][] Ideal) Check(BitExactnessTests.DesignPoint p, DeviceModel device, DeviceParams golden,
        Func<Architecture, Architecture>? chip = null)
    {
        (Graph graph, NdArray calibration, NdArray inputs) = p.Network();
        Architecture arch = chip is null ? p.Architecture() : chip(p.Architecture());
        Compilation c = Compiler.Compile(graph, arch, p.Options(), calibration);
        var program = Cimc.Isa.ProgramImage.FromBytes(c.Program!.ToBytes());
        var weights = Cimc.Isa.WeightImage.FromBytes(c.Weights!.ToBytes());
        var simulator = new FunctionalSimulator(program, weights, device);
        var xbar = new CrossbarParams(p.Rows, p.Cols, p.CellBits, p.DacBits, p.AdcBits);
        var goldenChip = new GoldenChip(golden, PlacementOf(c.Placed!));

        // The batch runs at once; each sample's read noise is keyed by its index in the batch.
        long[][] codes = [.. Enumerable.Range(0, inputs.Rows).Select(r => GoldenModel.QuantizeInput(c.Quantized!, inputs.Row(r)))];
        long[] batch = simulator.RunBatchCodes([.. codes.SelectMany(x => x)], inputs.Rows);
        int outLen = program.Output.Len;
        long[][] simulated = [.. Enumerable.Range(0, inputs.Rows).Select(r => batch.AsSpan(r * outLen, outLen).ToArray())];
        long[][] expected = [.. codes.Select((u, r) => GoldenModel.RunCodes(c.Quantized!, xbar, u, goldenChip, r))];
        long[][] ideal = [.. codes.Select(u => GoldenModel.RunCodes(c.Quantized!, xbar, u))];
        return (simulated, expected, ideal);
    }

    [Fact]
    public void Simulated_programs_on_random_devices_equal_the_golden_model_bit_for_bit()
    {
        int perturbed = 0;
        Gen.Int[0, int.MaxValue].Sample(seed =>
        {
            BitExactnessTests.DesignPoint p = BitExactnessTests.DesignPoint.From(seed, maxWidth: 80);
            (DeviceModel device, DeviceParams golden) = RandomDevice(seed, p.CellBits);
            (long[][] sim, long[][] gold, long[][] ideal) = Check(p, device, golden);
            for (int r = 0; r < sim.Length; r++)
            {
                Assert.Equal(gold[r], sim[r]);
            }

            if (!gold.Zip(ideal).All(t => t.First.SequenceEqual(t.Second)))
            {
                Interlocked.Increment(ref perturbed);
            }
        }, iter: 40, threads: 1);

        // The devices must actually change results, or this test would not check the noise.
        Assert.InRange(perturbed, 20, 40);
    }

    /// <summary>Layers spread over small cores: the cell keys use many cores and crossbar indices.</summary>
    [Fact]
    public void Random_devices_on_programs_spread_over_small_cores_stay_bit_exact()
    {
        Gen.Int[0, int.MaxValue].Sample(seed =>
        {
            BitExactnessTests.DesignPoint p = BitExactnessTests.DesignPoint.From(seed, maxWidth: 100) with { Rows = 16 << (seed % 3), Cols = 16 << ((seed / 3) % 3) };
            (DeviceModel device, DeviceParams golden) = RandomDevice(seed, p.CellBits);
            var rng = new Random(seed);
            int crossbars = rng.Next(1, 5), cores = rng.Next(1, 5);
            (long[][] sim, long[][] gold, _) = Check(p, device, golden, a => a with
            {
                Tile = a.Tile with { Cores = cores },
                Core = a.Core with { Crossbars = crossbars },
                Chip = a.Chip with { Tiles = 1024, Mesh = new MeshSpec(32, 32) },
            });
            for (int r = 0; r < sim.Length; r++)
            {
                Assert.Equal(gold[r], sim[r]);
            }
        }, iter: 15, threads: 1);
    }

    [Fact]
    public void The_golden_model_s_keyed_draws_reproduce_a_seed_and_a_device_that_perturbs_nothing_is_ideal()
    {
        BitExactnessTests.DesignPoint p = BitExactnessTests.DesignPoint.From(7, maxWidth: 60) with { CellBits = 2 };

        // 4 levels of 2-bit cells are all the levels: the analog path, with nothing perturbed.
        var quiet = new DeviceParams(0, false, 0, 0, 0, 4, 9);
        (long[][] sim, long[][] gold, long[][] ideal) = Check(p, new DeviceModel(ConductanceLevels: 4, Seed: 9), quiet);
        Assert.Equal(ideal, gold);
        Assert.Equal(ideal, sim);

        Assert.Equal(KeyedDraws.Key(3, 1, 1, 2, 3, 4, 0, 0), KeyedDraws.Key(3, 1, 1, 2, 3, 4, 0, 0));
        Assert.NotEqual(KeyedDraws.Key(3, 1, 1, 2, 3, 4, 0, 0), KeyedDraws.Key(4, 1, 1, 2, 3, 4, 0, 0));

        // Box-Muller draws are standard normals.
        double[] z = [.. Enumerable.Range(0, 20000).Select(i => KeyedDraws.Normal(KeyedDraws.Key(1, 2, (ulong)i)))];
        double mean = z.Average(), variance = z.Select(v => (v - mean) * (v - mean)).Average();
        Assert.InRange(mean, -0.03, 0.03);
        Assert.InRange(variance, 0.95, 1.05);
    }
}
