using System.Globalization;
using System.Text.RegularExpressions;
using Cimc.Architectures;
using Cimc.Data;
using Cimc.Diagnostics;
using Cimc.Ir;
using Cimc.Quantization;
using Cimc.Simulation;
using Cimc.Tests.Golden;
using CsCheck;

namespace Cimc.Tests.Compile;

/// <summary>
/// The compiled program, run by the simulator from its binary form, equals the golden model bit for
/// bit, over random networks, crossbars, converters, precisions and signed-weight encodings.
/// </summary>
public sealed class BitExactnessTests
{
    /// <summary>One random design point, derived from a seed so that CsCheck's failing seed reproduces it.</summary>
    internal sealed record DesignPoint(int[] Widths, string[] Activations, int Rows, int Cols, int CellBits, int DacBits, int AdcBits,
        int WeightBits, int ActivationBits, SignedWeightEncoding Encoding, Granularity Granularity, int Seed)
    {
        /// <summary>The scheme choices beyond bits and encoding, also drawn from the seed.</summary>
        public QuantizationOptions Options()
        {
            var rng = new Random(Seed ^ 0x5eed);
            CalibrationMethod calibration = rng.Next(3) switch
            {
                0 => new MinMaxCalibration(),
                1 => new PercentileCalibration(90 + (rng.NextDouble() * 10)),
                _ => new MseCalibration(),
            };
            var perLayer = System.Collections.Immutable.ImmutableDictionary.CreateBuilder<string, LayerPrecision>();
            for (int l = 0; l < Activations.Length; l++)
            {
                if (rng.Next(2) == 0)
                {
                    perLayer[l.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new LayerPrecision(rng.Next(1, 17), rng.Next(1, 17));
                }
            }

            return new QuantizationOptions(WeightBits, ActivationBits, Granularity, Encoding)
            {
                Calibration = calibration,
                AsymmetricActivations = rng.Next(2) == 0,
                PerLayer = perLayer.ToImmutable(),
                AdcRange = (AdcRange)rng.Next(3),
                RowsPerRead = rng.Next(3) == 0 ? rng.Next(1, Rows + 1) : 0,
            };
        }

        public static DesignPoint From(int seed, int maxWidth)
        {
            var rng = new Random(seed);
            int layers = rng.Next(1, 4);
            int[] widths = [.. Enumerable.Range(0, layers + 1).Select(_ => rng.Next(1, maxWidth + 1))];
            string[] acts = [.. Enumerable.Range(0, layers).Select(_ => new[] { "relu", "none", "sigmoid", "tanh", "leaky" }[rng.Next(5)])];
            int rows = 16 << rng.Next(0, 6), cols = 16 << rng.Next(0, 6);
            return new DesignPoint(widths, acts, Math.Min(rows, 512), Math.Min(cols, 512), rng.Next(1, 5), rng.Next(1, 5), rng.Next(1, 13),
                rng.Next(1, 17), rng.Next(1, 17), (SignedWeightEncoding)rng.Next(3),
                rng.Next(2) == 0 ? Granularity.PerChannel : Granularity.PerTensor, seed);
        }

        public (Graph Graph, NdArray Calibration, NdArray Inputs) Network()
        {
            var rng = new Random(Seed);
            var b = new GraphBuilder($"random{Seed}", TensorType.Float(TensorType.Dynamic, Widths[0]));
            for (int l = 0; l < Activations.Length; l++)
            {
                int inF = Widths[l], outF = Widths[l + 1];
                float[] w = [.. Enumerable.Range(0, inF * outF).Select(_ => (float)((rng.NextDouble() - 0.5) * 4 / Math.Sqrt(inF)))];
                FloatTensor? bias = rng.Next(3) == 0 ? null : FloatTensor.Vector([.. Enumerable.Range(0, outF).Select(_ => (float)(rng.NextDouble() - 0.5))]);
                b.Add($"fc{l}", new Dense(FloatTensor.Matrix(outF, inF, w), bias));
                Op? act = Activations[l] switch
                {
                    "relu" => new Relu(),
                    "sigmoid" => new Sigmoid(),
                    "tanh" => new Tanh(),
                    "leaky" => new LeakyRelu(0.1f),
                    _ => null,
                };
                if (act is not null)
                {
                    b.Add($"act{l}", act);
                }
            }

            bool signedInput = rng.Next(2) == 0;
            NdArray Samples(int n) => new([n, Widths[0]], [.. Enumerable.Range(0, n * Widths[0]).Select(_ => (float)(signedInput ? (rng.NextDouble() * 2) - 1 : rng.NextDouble()))]);
            NdArray calibration = Samples(16);

            // Inputs a little beyond the calibrated range exercise the clamps.
            NdArray inputs = Samples(4).DivideBy(0.8f);
            return (b.Build(), calibration, inputs);
        }

        public Architecture Architecture()
        {
            Architecture edge = ArchitectureCatalog.Preset("edge");
            Architecture a = edge.With(cellBits: CellBits, dacBits: DacBits, adcBits: AdcBits, rows: Rows, cols: Cols);
            return a with
            {
                Chip = a.Chip with { Tiles = 64, Mesh = new MeshSpec(8, 8) },
                Tile = a.Tile with { Cores = 64, BufferBytes = 1 << 20 },
                Core = a.Core with { Crossbars = 64, LocalMemoryWords = 1 << 20 },
            };
        }
    }

    internal static (long[][] Simulated, long[][] Golden, bool Saturated) Check(DesignPoint p, Func<Architecture, Architecture>? chip = null, Passes.CompileSettings? settings = null)
    {
        (Graph graph, NdArray calibration, NdArray inputs) = p.Network();
        Architecture arch = chip is null ? p.Architecture() : chip(p.Architecture());
        QuantizationOptions options = p.Options();
        Compilation c = Compiler.Compile(graph, arch, options, calibration, CompileStage.Asm, settings);

        // The simulator runs the program as read back from its binary form.
        var program = Cimc.Isa.ProgramImage.FromBytes(c.Program!.ToBytes());
        var weights = Cimc.Isa.WeightImage.FromBytes(c.Weights!.ToBytes());
        var simulator = new FunctionalSimulator(program, weights);
        var xbar = new CrossbarParams(p.Rows, p.Cols, p.CellBits, p.DacBits, p.AdcBits);
        var simulated = new long[inputs.Rows][];
        var golden = new long[inputs.Rows][];
        bool saturated = false;
        for (int r = 0; r < inputs.Rows; r++)
        {
            long[] codes = GoldenModel.QuantizeInput(c.Quantized!, inputs.Row(r));
            simulated[r] = simulator.RunCodes(codes);
            golden[r] = GoldenModel.RunCodes(c.Quantized!, xbar, codes);
            saturated |= !GoldenModel.IdealAccumulators(c.Quantized!.Layers[0], codes)
                .SequenceEqual(GoldenModel.RunCodes(c.Quantized! with { Layers = [LastLayerView(c.Quantized!.Layers[0])] }, xbar, codes));
        }

        return (simulated, golden, saturated);
    }

    /// <summary>The first layer alone, as a last layer without activation, so its accumulators are the output.</summary>
    private static QuantizedLayer LastLayerView(QuantizedLayer layer) =>
        layer with { IsLast = true, Activation = ActivationKind.None, Requant = [], PreActivation = null, Output = null };

    [Fact]
    public void Simulated_programs_equal_the_golden_model_bit_for_bit_on_random_design_points()
    {
        int saturating = 0;
        Gen.Int[0, int.MaxValue].Sample(seed =>
        {
            DesignPoint p = DesignPoint.From(seed, maxWidth: 120);
            (long[][] sim, long[][] gold, bool saturated) = Check(p);
            for (int r = 0; r < sim.Length; r++)
            {
                Assert.Equal(gold[r], sim[r]);
            }

            if (saturated)
            {
                Interlocked.Increment(ref saturating);
            }
        }, iter: 60, threads: 1);

        // The random space must include saturating ADCs, or this test would not cover them.
        Assert.InRange(saturating, 5, 60);
    }

    [Trait("tier", "slow")]
    [Fact]
    public void Wide_layers_up_to_1500_features_stay_bit_exact()
    {
        Gen.Int[0, int.MaxValue].Sample(seed =>
        {
            DesignPoint p = DesignPoint.From(seed, maxWidth: 1500) with { WeightBits = 1 + (seed % 8), CellBits = 4, Rows = 512, Cols = 512 };
            p = p with { Widths = [.. p.Widths.Take(3)], Activations = [.. p.Activations.Take(2)] };
            (long[][] sim, long[][] gold, _) = Check(p);
            for (int r = 0; r < sim.Length; r++)
            {
                Assert.Equal(gold[r], sim[r]);
            }
        }, iter: 6, threads: 1);
    }

    /// <summary>
    /// Tiles enough for the crossbars <paramref name="p"/> can need at most (any layer at up to 16
    /// weight bits, both polarities, a bias row), so that a small-core draw never fails placement.
    /// </summary>
    private static int TilesToHold(DesignPoint p, int crossbarsPerTile, int atLeast)
    {
        long most = 0;
        for (int l = 0; l + 1 < p.Widths.Length; l++)
        {
            long blocks = (long)Math.Ceiling((double)(p.Widths[l] + 1) / p.Rows) * (long)Math.Ceiling((double)p.Widths[l + 1] / p.Cols);
            most += blocks * (long)Math.Ceiling(16.0 / p.CellBits) * 2;
        }

        return (int)Math.Max(atLeast, (most + crossbarsPerTile - 1) / crossbarsPerTile);
    }

    /// <summary>
    /// Every optimization level and placement choice (drawn from the seed) on small cores and tiles,
    /// so that placements differ and the chain/tree reductions and direct/ring broadcasts all run,
    /// stays bit-exact; the verifiers run between the passes.
    /// </summary>
    [Fact]
    public void Every_level_and_placement_stays_bit_exact()
    {
        Gen.Int[0, int.MaxValue].Sample(seed =>
        {
            DesignPoint p = DesignPoint.From(seed, maxWidth: 160) with { Rows = 16 << (seed % 3), Cols = 16 << ((seed / 3) % 3) };
            var rng = new Random(seed ^ 0x0b7);
            var settings = new Passes.CompileSettings
            {
                Level = (Passes.OptLevel)rng.Next(4),
                Placement = rng.Next(6) switch { 0 => null, 1 => Passes.PlacementChoice.Linear, 2 => Passes.PlacementChoice.Greedy, 3 => Passes.PlacementChoice.Anneal, 4 => Passes.PlacementChoice.Rows, _ => Passes.PlacementChoice.Best },
                Seed = rng.Next(),
            };
            int crossbars = rng.Next(1, 5), cores = rng.Next(1, 5);
            int tiles = TilesToHold(p, crossbars * cores, atLeast: 1024);
            int width = (int)Math.Ceiling(Math.Sqrt(tiles));
            (long[][] sim, long[][] gold, _) = Check(p, a => a with
            {
                Tile = a.Tile with { Cores = cores },
                Core = a.Core with { Crossbars = crossbars },
                Chip = a.Chip with { Tiles = tiles, Mesh = new MeshSpec(width, (tiles + width - 1) / width) },
            }, settings);
            for (int r = 0; r < sim.Length; r++)
            {
                Assert.Equal(gold[r], sim[r]);
            }
        }, iter: 30, threads: 1);
    }

    /// <summary>
    /// Each scheduling pass alone and with the others (a random subset, drawn from the seed, in
    /// pipeline order, after linear or row-split placement; order-critical reorders every core) stays bit-exact on chips whose small cores
    /// and tiles make rings, tile hubs with peers and reduction trees run; the verifiers run between the passes.
    /// </summary>
    [Fact]
    public void Every_combination_of_scheduling_passes_stays_bit_exact()
    {
        string[] optional = ["reduce-tree", "broadcast-ring", "broadcast-tree", "reduce-arrival", "ring-groups", "spread-roots", "input-tiles", "broadcast-chain", "signal-chunks", "fold-bias"];
        Gen.Int[0, int.MaxValue].Sample(seed =>
        {
            DesignPoint p = DesignPoint.From(seed, maxWidth: 160) with { Rows = 16 << (seed % 3), Cols = 16 << ((seed / 3) % 3) };
            var rng = new Random(seed ^ 0x5c4);
            string list = string.Join(",", ["quantize", "map", rng.Next(2) == 0 ? "place-linear" : "place-rows", .. optional.Where(_ => rng.Next(2) == 0), "schedule", .. rng.Next(4) > 0 ? new[] { "order-critical" } : [], "emit"]);
            int crossbars = rng.Next(1, 5), cores = rng.Next(2, 5);
            (long[][] sim, long[][] gold, _) = Check(p, a => a with
            {
                Tile = a.Tile with { Cores = cores },
                Core = a.Core with { Crossbars = crossbars },
                Chip = a.Chip with { Tiles = 1024, Mesh = new MeshSpec(32, 32) },
            }, new Passes.CompileSettings { Passes = Passes.Pipelines.Parse(list) });
            for (int r = 0; r < sim.Length; r++)
            {
                Assert.Equal(gold[r], sim[r]);
            }
        }, iter: 30, threads: 1);
    }

    /// <summary>
    /// Few crossbars per core and few cores per tile spread layers over many cores and tiles, so the
    /// schedule's tile hubs and rings, reduction trees, cores shared by column blocks and the gathered
    /// network output all run.
    /// </summary>
    [Trait("tier", "slow")]
    [Fact]
    public void Programs_spread_over_small_cores_and_tiles_stay_bit_exact()
    {
        Gen.Int[0, int.MaxValue].Sample(seed =>
        {
            DesignPoint p = DesignPoint.From(seed, maxWidth: 160) with { Rows = 16 << (seed % 3), Cols = 16 << ((seed / 3) % 3) };
            var rng = new Random(seed);
            int crossbars = rng.Next(1, 5), cores = rng.Next(1, 5);
            (long[][] sim, long[][] gold, _) = Check(p, a => a with
            {
                Tile = a.Tile with { Cores = cores },
                Core = a.Core with { Crossbars = crossbars },
                Chip = a.Chip with { Tiles = 1024, Mesh = new MeshSpec(32, 32) },
            });
            for (int r = 0; r < sim.Length; r++)
            {
                Assert.Equal(gold[r], sim[r]);
            }
        }, iter: 40, threads: 1);
    }

    /// <summary>
    /// Each program runs in core memories exactly as large as the largest core's layout (found by
    /// growing the memory to what the does-not-fit diagnostic asks for), so an access outside a
    /// core's compact layout would fault; with rings, staging, reductions and gathered outputs.
    /// </summary>
    [Fact]
    public void Programs_in_core_memories_just_large_enough_for_them_stay_bit_exact()
    {
        Gen.Int[0, int.MaxValue].Sample(seed =>
        {
            DesignPoint p = DesignPoint.From(seed, maxWidth: 160) with { Rows = 16 << (seed % 3), Cols = 16 << ((seed / 3) % 3) };
            var rng = new Random(seed);
            int crossbars = rng.Next(1, 5), cores = rng.Next(1, 5), words = 8, grown = 0, side = 32;
            while (true)
            {
                try
                {
                    (long[][] sim, long[][] gold, _) = Check(p, a => a with
                    {
                        Tile = a.Tile with { Cores = cores },
                        Core = a.Core with { Crossbars = crossbars, LocalMemoryWords = words },
                        Chip = a.Chip with { Tiles = side * side, Mesh = new MeshSpec(side, side) },
                    });
                    for (int r = 0; r < sim.Length; r++)
                    {
                        Assert.Equal(gold[r], sim[r]);
                    }

                    break;
                }
                catch (CimcException e) when (NeededWords(e) is int needed)
                {
                    Assert.True(needed > words, e.Message);
                    words = needed;
                    grown++;
                }
                catch (CimcException e) when (NeededChips(e) is int chips)
                {
                    // A wide draw on 1-crossbar cores can need more than 1,024 tiles: the property is
                    // about core memories, so the chip grows until the network fits on one.
                    side = (int)Math.Ceiling(side * Math.Sqrt(chips));
                }
            }

            Assert.True(grown > 0, "8 words never hold a layer");
        }, iter: 25, threads: 1);
    }

    private static int? NeededChips(CimcException e)
    {
        Match m = Regex.Match(e.Diagnostic.Message, @"it needs (\d+) chips");
        return m.Success ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : null;
    }

    private static int? NeededWords(CimcException e)
    {
        Match m = Regex.Match(e.Diagnostic.Message, @"^needs ([\d,]+) words of core local memory on core \d+ \(.*\) but \S+ cores have [\d,]+$");
        return e.Diagnostic.Code == "does-not-fit" && m.Success ? int.Parse(m.Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture) : null;
    }
}
