using Cimc.Architectures;
using Cimc.Codegen;
using Cimc.Isa;
using Cimc.Mapping;
using Cimc.Placement;
using Cimc.Quantization;
using Cimc.Simulation;
using Cimc.Tests.Golden;
using CsCheck;

namespace Cimc.Tests.Compile;

/// <summary>
/// Programs of quantized convolutional graphs (convolutions, pools, residual adds, concats, a final
/// dense layer) equal the golden model of graphs bit for bit, on the reference interpreter (from the
/// program's binary form) and on the batched simulator.
/// </summary>
public sealed class GraphBitExactnessTests
{
    /// <summary>
    /// A chip with the case's crossbars (at least 2 rows) and a non-saturating ADC; small tiles so that layers and maps
    /// spread over several, and at least 64 of them: more (in rows of 8) when the case's layers and
    /// vector nodes need more cores, as tiny crossbars with many weights can.
    /// </summary>
    /// <param name="model">the case's model, or another quantization of it whose crossbars the chip must hold</param>
    /// <param name="replicate">replica counts to give the mapped model (<see cref="Compile"/>): their cores are counted too</param>
    internal static Architecture ChipFor(GraphCase c, int coresPerTile = 4, int bufferBytes = 1 << 20, QuantizedModel? model = null, Func<MappedModel, MappedModel>? replicate = null)
    {
        Architecture edge = ArchitectureCatalog.Preset("edge");
        edge = edge with { Core = edge.Core with { Adc = edge.Core.Adc with { PerGroup = 1 } } };
        int rows = Math.Max(2, c.Rows); // a crossbar has at least 2 rows: the golden model must read the chip's (CrossbarsOf), not the case's
        Architecture a = edge.With(cellBits: c.CellBits, dacBits: c.DacBits, adcBits: CrossbarParams.NonSaturatingAdcBits(rows, c.CellBits, c.DacBits), rows: rows, cols: Math.Max(2, c.Cols));
        a = a with
        {
            Chip = a.Chip with { Tiles = 64, Mesh = new MeshSpec(8, 8) },
            Tile = a.Tile with { Cores = coresPerTile, BufferBytes = bufferBytes },
            Core = a.Core with { Crossbars = 32, LocalMemoryWords = 1 << 16 },
        };
        MappedModel mapped = (replicate ?? (m => m))(CrossbarMapper.Map(model ?? c.Model, Compiler.Geometry(a)));
        int cores = Placer.CoresNeeded(mapped, a.Core.Crossbars) + mapped.Layers.Sum(l => Placer.SlotsOf(l, a.Core.Crossbars) * (l.Replicas - 1));
        int meshRows = Math.Max(8, (((cores + coresPerTile - 1) / coresPerTile) + 7) / 8);
        return a with { Chip = a.Chip with { Tiles = 8 * meshRows, Mesh = new MeshSpec(8, meshRows) } };
    }

    /// <param name="placeCopies">place the copies as the place-copies pass does (<see cref="Codegen.CopyPlacement"/>) instead of in ascending core order</param>
    internal static (ProgramImage Program, WeightImage Weights) Compile(QuantizedModel model, Architecture arch, Lowering lowering, Func<MappedModel, MappedModel>? replicate = null, bool placeCopies = false)
    {
        // As the map pass does: layers whose blocks do not fit a core's memory together spread over more cores.
        CrossbarGeometry g = Compiler.Geometry(arch);
        MappedModel mapped = (replicate ?? (m => m))(Codegen.CoreCrossbars.Choose(CrossbarMapper.Map(model, g), arch.Core.Crossbars, arch.Core.LocalMemoryWords, Math.Max(g.Rows, g.Cols)));
        PlacedModel placed = Placer.Place(mapped, Compiler.Shape(arch)) with { Lowering = lowering };
        placed = placeCopies ? Codegen.CopyPlacement.Place(placed, Compiler.Header(arch)) : placed;
        (ProgramImage program, WeightImage weights) = CodeGenerator.Generate(placed, Compiler.Header(arch));
        return (ProgramImage.FromBytes(program.ToBytes()), WeightImage.FromBytes(weights.ToBytes()));
    }

    [Fact]
    public void RandomGraphsMatchTheGoldenModel()
    {
        Gen.Select(RandomGraphs.Cases(), Gen.Bool, Gen.Bool).Sample(t =>
        {
            (GraphCase c, bool tree, bool biasFirst) = t;
            AssertGolden(c, ChipFor(c), new Lowering(false, tree) { BiasFirst = biasFirst });
        }, iter: 40, threads: 1);
    }

    /// <summary>
    /// Tile buffers too small for whole maps: the refusal names the buffer every tile would fit in
    /// with ring (line) buffers; on a chip with exactly that buffer the program, whose maps are then
    /// rings of rows on the tiles that need them, still equals the golden model in both simulators.
    /// </summary>
    [Fact]
    public void RandomGraphsInRingBuffersMatchTheGoldenModel()
    {
        int rings = 0, cases = 0;
        Gen.Select(RandomGraphs.Cases(), Gen.Bool, Gen.Int[4, 8]).Sample(t =>
        {
            (GraphCase c, bool tree, int coresPerTile) = t;
            Lowering lowering = new(false, tree) { BiasFirst = true };
            var e = Assert.Throws<Cimc.Diagnostics.CimcException>(() => Compile(c.Model, ChipFor(c, coresPerTile, bufferBytes: 8 * TileSpec.BytesPerWord), lowering));
            System.Text.RegularExpressions.Match m = System.Text.RegularExpressions.Regex.Match(e.Message, @"tile buffers hold (\d+) words");
            Assert.True(m.Success, e.Message);
            int words = int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            rings += e.Message.Contains(" rows)", StringComparison.Ordinal) ? 1 : 0;
            cases++;
            AssertGolden(c, ChipFor(c, coresPerTile, bufferBytes: words * TileSpec.BytesPerWord), lowering);
        }, iter: 60, threads: 1);
        // About a third of the draws hold some map in a ring (the others have maps of one row or read by a dense layer).
        Assert.True(rings * 8 >= cases, $"only {rings} of {cases} cases held a map in a ring");
    }

    /// <summary>
    /// A case drawn with one-row crossbars runs on a chip of two-row crossbars (<see cref="ChipFor"/>):
    /// with a 1-bit ADC the program equals the golden model of the chip's crossbars, and not that of
    /// the case's one-row ones (pinned from a draw where the saturating-ADC property compared the two).
    /// </summary>
    [Fact]
    public void A_one_row_case_saturates_as_the_chips_two_row_crossbars_do()
    {
        var c = new GraphCase(106359, 6, 2, Granularity.PerChannel, SignedWeightEncoding.Offset, 1, 6, 1, 4);
        Architecture chip = ChipFor(c);
        chip = chip with { Core = chip.Core with { Adc = chip.Core.Adc with { Bits = 1 } } };
        Assert.Equal(2, chip.Core.Crossbar.Rows);
        AssertGolden(c, chip, new Lowering(false, true) { BiasFirst = true });

        long[] u = c.Input(c.Model, 0);
        Assert.NotEqual(GoldenGraph.RunCodes(c.Model, CrossbarsOf(chip), u), GoldenGraph.RunCodes(c.Model, c.NonSaturating with { AdcBits = 1 }, u));
    }

    /// <summary>
    /// The crossbars of <paramref name="arch"/> as the golden model takes them. A case's own crossbars
    /// (<see cref="GraphCase.NonSaturating"/>) are not the chip's when the case draws R = 1 (<see cref="ChipFor"/>
    /// gives 2 rows), and with a saturating ADC the rows one read sums decide the integers.
    /// </summary>
    internal static CrossbarParams CrossbarsOf(Architecture arch) =>
        new(arch.Core.Crossbar.Rows, arch.Core.Crossbar.Cols, arch.Core.Crossbar.CellBits, arch.Core.Dac.Bits, arch.Core.Adc.Bits);

    /// <summary>Both simulators run the program compiled for <paramref name="arch"/> as the golden model does with the same crossbars; returns the program.</summary>
    /// <param name="model">the case's model, or another quantization of it (e.g. another --conv-mapping)</param>
    /// <param name="replicate">replica counts to give the mapped model (<see cref="Compile"/>)</param>
    internal static ProgramImage AssertGolden(GraphCase c, Architecture arch, Lowering lowering, QuantizedModel? model = null,
        Func<MappedModel, MappedModel>? replicate = null, bool placeCopies = false)
    {
        model ??= c.Model;
        CrossbarParams xbar = CrossbarsOf(arch);
        (ProgramImage program, WeightImage weights) = Compile(model, arch, lowering, replicate, placeCopies);
        var sim = new FunctionalSimulator(program, weights);
        const int n = 3;
        long[][] inputs = [.. Enumerable.Range(0, n).Select(s => c.Input(model, s))];
        long[] batched = sim.RunBatchCodes([.. inputs.SelectMany(x => x)], n);
        for (int s = 0; s < n; s++)
        {
            long[] golden = GoldenGraph.RunCodes(model, xbar, inputs[s]);
            Assert.Equal(golden, sim.RunCodes(inputs[s]));
            Assert.Equal(golden, batched.AsSpan(s * golden.Length, golden.Length).ToArray());
        }

        return program;
    }
}

/// <summary>The nearest dependences the graph schedule uses order the operations exactly as the full pairwise relation does.</summary>
public sealed class NearestDependencesTests
{
    [Fact]
    public void SameTransitiveClosureAsTheFullRelationOnGraphSchedules()
    {
        RandomGraphs.Cases().Sample(c =>
        {
            Cimc.Architectures.Architecture arch = GraphBitExactnessTests.ChipFor(c);
            MappedModel mapped = CrossbarMapper.Map(c.Model, Compiler.Geometry(arch));
            Cimc.Scheduling.Schedule schedule = CodeGenerator.Schedule(Placer.Place(mapped, Compiler.Shape(arch)) with { Lowering = new Lowering(false, true) }, Compiler.Header(arch));
            foreach (Cimc.Scheduling.CoreSchedule core in schedule.Cores)
            {
                var ops = core.Ops.Select(o => (o.Id, o.Instruction, o.Message >= 0 ? schedule.Messages[o.Message].Kind : (Cimc.Scheduling.MessageKind?)null)).ToList();
                Assert.Equal(Closure(ops, Cimc.Scheduling.Dependences.Of(ops)), Closure(ops, Cimc.Scheduling.NearestDependences.Of(ops)));
            }
        }, iter: 15, threads: 1);
    }

    /// <summary>For each operation, the set of operations it must follow, directly or not, as sorted ids.</summary>
    private static List<string> Closure(List<(int Id, Instruction Instruction, Cimc.Scheduling.MessageKind? Kind)> ops, System.Collections.Immutable.ImmutableArray<System.Collections.Immutable.ImmutableArray<int>> after)
    {
        int first = ops.Count == 0 ? 0 : ops[0].Id;
        var sets = new List<System.Collections.BitArray>();
        for (int k = 0; k < ops.Count; k++)
        {
            var set = new System.Collections.BitArray(ops.Count);
            foreach (int id in after[k])
            {
                set.Set(id - first, true);
                set.Or(sets[id - first]);
            }

            sets.Add(set);
        }

        return [.. sets.Select(s => string.Concat(Enumerable.Range(0, s.Length).Select(i => s[i] ? '1' : '0')))];
    }
}
