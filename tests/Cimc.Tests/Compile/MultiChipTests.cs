using Cimc.Architectures;
using Cimc.Data;
using Cimc.Ir;
using Cimc.Placement;
using Cimc.Quantization;
using Cimc.Simulation;
using Cimc.Tests.Golden;
using CsCheck;

namespace Cimc.Tests.Compile;

/// <summary>
/// A network larger than one chip, compiled for a node of small chips (`--chips auto`), runs bit
/// for bit as the golden model says, in the reference and the batched simulator, whatever the level
/// and placement; the golden model knows nothing of chips.
/// </summary>
public sealed class MultiChipTests
{
    /// <summary>A small chip (1-3 tiles of 1-3 cores of 1-4 crossbars, or one ADC group's) in a node whose links are drawn from <paramref name="rng"/>.</summary>
    internal static Architecture SmallNode(Architecture a, Random rng)
    {
        int tiles = rng.Next(1, 4), group = a.Core.Adc.GroupCrossbars; // crossbars stay a multiple of the ADC group
        return (a with
        {
            Chip = a.Chip with { Tiles = tiles, Mesh = new MeshSpec(tiles, 1) },
            Tile = a.Tile with { Cores = rng.Next(1, 4) },
            Core = a.Core with { Crossbars = group * rng.Next(1, Math.Max(2, 5 / group)) },
        }) with
        {
            Node = new NodeSpec(1, rng.Next(2) == 0 ? ChipTopology.Ring : ChipTopology.AllToAll,
                new ChipLinkSpec(0.5 + (rng.NextDouble() * 10), 1 + (rng.NextDouble() * 50), rng.NextDouble() * 60)),
        };
    }

    /// <summary>The program, read back from program.bin and weights.bin, gives the golden model's codes for every input row, one by one and batched.</summary>
    internal static void RunsAsGolden(Compilation c, BitExactnessTests.DesignPoint p, NdArray inputs)
    {
        var program = Cimc.Isa.ProgramImage.FromBytes(c.Program!.ToBytes());
        var simulator = new FunctionalSimulator(program, Cimc.Isa.WeightImage.FromBytes(c.Weights!.ToBytes()));
        var xbar = new CrossbarParams(p.Rows, p.Cols, p.CellBits, p.DacBits, p.AdcBits);
        long[][] codes = [.. Enumerable.Range(0, inputs.Rows).Select(r => GoldenModel.QuantizeInput(c.Quantized!, inputs.Row(r)))];
        long[] batched = simulator.RunBatchCodes([.. codes.SelectMany(x => x)], codes.Length);
        int outLen = program.Output.Len;
        for (int r = 0; r < codes.Length; r++)
        {
            long[] golden = GoldenModel.RunCodes(c.Quantized!, xbar, codes[r]);
            Assert.Equal(golden, simulator.RunCodes(codes[r]));
            Assert.Equal(golden, batched.AsSpan(r * outLen, outLen).ToArray());
        }
    }

    [Fact]
    public void Networks_larger_than_one_small_chip_run_bit_exactly_across_chips_in_both_simulators()
    {
        int spanning = 0;
        Gen.Int[0, int.MaxValue].Sample(seed =>
        {
            BitExactnessTests.DesignPoint p = BitExactnessTests.DesignPoint.From(seed, maxWidth: 160) with { Rows = 16 << (seed % 3), Cols = 16 << ((seed / 3) % 3) };
            var rng = new Random(seed ^ 0xc41b);
            var settings = new Passes.CompileSettings
            {
                Level = (Passes.OptLevel)rng.Next(4),
                Placement = rng.Next(5) switch { 0 => null, 1 => Passes.PlacementChoice.Linear, 2 => Passes.PlacementChoice.Greedy, 3 => Passes.PlacementChoice.Anneal, _ => Passes.PlacementChoice.Best },
                Seed = rng.Next(),
                AutoChips = true,
            };
            (Graph graph, NdArray calibration, NdArray inputs) = p.Network();
            Architecture arch = SmallNode(p.Architecture(), rng);
            Compilation c = Compiler.Compile(graph, arch, p.Options(), calibration, CompileStage.Asm, settings);

            // --chips auto gives the fewest chips that hold the network, and the program uses them.
            int needed = Placer.CoresNeeded(c.Mapped!, arch.Core.Crossbars);
            Assert.Equal(Placer.ChipsFor(needed, arch.CoresPerChip), c.Architecture.Chips);
            int chipsUsed = c.Placed!.Layers.SelectMany(l => l.Cores).Select(core => core / arch.CoresPerChip).Distinct().Count();
            Assert.Equal(c.Architecture.Chips, chipsUsed);
            if (chipsUsed > 1)
            {
                Interlocked.Increment(ref spanning);
            }

            RunsAsGolden(c, p, inputs);
        }, iter: 30, threads: 1);

        // Most draws must span chips, or the property says little about multi-chip programs.
        Assert.InRange(spanning, 20, 30);
    }
}
