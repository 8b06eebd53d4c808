using System.Globalization;
using System.Text;
using Cimc.Architectures;
using Cimc.Isa;
using Cimc.Placement;
using Cimc.Simulation;
using Cimc.Simulation.Batched;
using Cimc.Tests.Compile;
using CsCheck;

namespace Cimc.Tests.Simulation;

/// <summary>
/// The batched simulator keeps one weights part (<see cref="MvmWeights"/>: the merged matrix packed for
/// the GEMM and the saturation bounds) per distinct run of mvms of a core, shared by every block that
/// differs only in its addresses, as a convolution's windows do. Sharing must never join runs that
/// differ in any other field, and the memory it holds must follow the crossbars, not the windows.
/// </summary>
public sealed class MvmWeightsSharingTests
{
    private sealed record Member(int Xb, int Shift, bool Neg, int Group, int Ashift);

    private sealed record Run(int Rows, int Cols, int Ibits, Member[] Members);

    /// <summary>A run with one field other than the addresses changed (the field is drawn; the value always differs).</summary>
    private static Run Mutate(Run run, Random rng, int crossbars, int maxRows, int maxCols)
    {
        int j = rng.Next(run.Members.Length);
        Member m = run.Members[j];
        Member[] with(Member changed) => [.. run.Members.Select((x, i) => i == j ? changed : x)];
        int field = rng.Next(8);
        if ((field == 6 && maxRows == 1) || (field == 7 && maxCols == 1))
        {
            field = 1;
        }

        return field switch
        {
            0 => run with { Members = with(m with { Xb = (m.Xb + rng.Next(1, crossbars)) % crossbars }) },
            1 => run with { Members = with(m with { Shift = m.Shift + rng.Next(1, 4) }) },
            2 => run with { Members = with(m with { Neg = !m.Neg }) },
            3 => run with { Members = with(m with { Group = m.Group == 1 ? 0 : 1 }) },
            4 => run with { Members = with(m with { Ashift = m.Ashift == 0 ? rng.Next(1, 4) : 0 }) },
            5 => run with { Ibits = run.Ibits + 1 },
            6 => run with { Rows = run.Rows == 1 ? 2 : run.Rows - 1 },
            _ => run with { Cols = run.Cols == 1 ? 2 : run.Cols - 1 },
        };
    }

    /// <summary>
    /// One core with three R x C crossbars of random levels (R up to 140 rows, so more than one 64-row
    /// word, down to one row; cells of 1 to 4 bits; negative members; shifts, grouped reads, coarse ADC
    /// steps and saturating ADCs): each random run of mvms is emitted at one address, again at another,
    /// and changed in one non-address field at a third. The batched machine equals the reference
    /// interpreter on every sample, the repeat shares its first emission's weights, and the changed run
    /// never does (had it shared them, it would compute the unchanged run's products).
    /// </summary>
    [Fact]
    public void Runs_that_differ_only_in_addresses_share_weights_and_every_run_equals_the_reference()
    {
        Gen.Int[0, int.MaxValue].Sample(seed =>
        {
            var rng = new Random(seed);
            int rows = rng.Next(3) == 0 ? rng.Next(1, 5) : rng.Next(5, 141), cols = rng.Next(3) == 0 ? rng.Next(1, 5) : rng.Next(5, 141);
            int cellBits = rng.Next(1, 5), dacBits = rng.Next(1, 4), adcBits = rng.Next(1, 13), inBits = rng.Next(1, 7);
            const int crossbars = 3;
            Run RandomRun()
            {
                int r = rng.Next(1, rows + 1);
                Member[] members = [.. Enumerable.Range(0, rng.Next(1, 5)).Select(_ => new Member(rng.Next(crossbars), rng.Next(0, 12), rng.Next(2) == 0,
                    rng.Next(3) == 0 ? rng.Next(1, r + 2) : 0, rng.Next(4) == 0 ? rng.Next(1, 4) : 0))];
                return new Run(r, rng.Next(1, cols + 1), inBits + rng.Next(0, 3), members);
            }

            Run[] bases = [.. Enumerable.Range(0, rng.Next(1, 4)).Select(_ => RandomRun())];
            Run[] emitted = [.. bases.SelectMany(b => new[] { b, b, Mutate(b, rng, crossbars, rows, cols) })];
            FunctionalSimulator sim = Load(emitted, rows, cols, cellBits, dacBits, adcBits, inBits, crossbars, rng);

            int n = rng.Next(1, 40);
            long[] codes = [.. Enumerable.Range(0, n * rows).Select(_ => rng.NextInt64(1L << inBits))];
            BatchedSimulatorTests.AssertBatchedEqualsReference(sim, codes, n);
            Assert.Equal(0, sim.FallbackBatches);

            MvmBlock[] blocks = [.. sim.BatchPlan.Blocks[0].OfType<MvmBlock>()];
            Assert.Equal(emitted.Length, blocks.Length);
            for (int b = 0; b < bases.Length; b++)
            {
                Assert.Same(blocks[3 * b].Weights, blocks[(3 * b) + 1].Weights);
                Assert.NotSame(blocks[3 * b].Weights, blocks[(3 * b) + 2].Weights);
            }
        }, iter: 150, threads: 1);
    }

    /// <summary>The program: load the input, every run into its own output range, store them all as the output.</summary>
    private static FunctionalSimulator Load(Run[] runs, int rows, int cols, int cellBits, int dacBits, int adcBits, int inBits, int crossbars, Random rng)
    {
        int outLen = runs.Sum(r => r.Cols);
        var asm = new StringBuilder();
        string ones = string.Join(' ', Enumerable.Repeat("1", outLen)), zeros = string.Join(' ', Enumerable.Repeat("0", outLen));
        asm.AppendLine(CultureInfo.InvariantCulture, $".arch tiles=1 cores_per_tile=1 crossbars_per_core={crossbars} rows={rows} cols={cols} cell_bits={cellBits} dac_bits={dacBits} adc_bits={adcBits} local_words={rows + outLen} buffer_words={rows + outLen}")
            .AppendLine(CultureInfo.InvariantCulture, $".input tile=0 addr=0 len={rows} scale=1 zero_point=0 qmin=0 qmax={(1 << inBits) - 1}")
            .AppendLine(CultureInfo.InvariantCulture, $".output tile=0 addr={rows} len={outLen}")
            .AppendLine(CultureInfo.InvariantCulture, $".output_scale {ones}")
            .AppendLine(CultureInfo.InvariantCulture, $".output_zero_point {zeros}")
            .AppendLine(".core 0")
            .AppendLine(CultureInfo.InvariantCulture, $"load dst=0, src=0, len={rows}");
        int dst = rows;
        foreach (Run run in runs)
        {
            foreach (Member m in run.Members)
            {
                asm.AppendLine(CultureInfo.InvariantCulture,
                    $"mvm xb={m.Xb}, src=0, dst={dst}, rows={run.Rows}, cols={run.Cols}, ibits={run.Ibits}, shift={m.Shift}, neg={(m.Neg ? 1 : 0)}, group={m.Group}, ashift={m.Ashift}");
            }

            dst += run.Cols;
        }

        asm.AppendLine(CultureInfo.InvariantCulture, $"store dst={rows}, src={rows}, len={outLen}").AppendLine("halt");
        ProgramImage program = Assembler.Assemble(asm.ToString(), "sharing.asm");
        var levels = Enumerable.Range(0, crossbars).Select(x => KeyValuePair.Create(new CrossbarId(0, x),
            Enumerable.Range(0, rows * cols).Select(_ => (byte)rng.Next(1 << cellBits)).ToArray()));
        return new FunctionalSimulator(program, new WeightImage(rows, cols, cellBits, levels));
    }

    /// <summary>
    /// LeNet's shapes on ISAAC: its 990 mvm blocks are mostly windows of the two convolutions and hold
    /// 9 weights parts, 0.21 bytes per programmed crossbar cell (one float per cell of a block of eight
    /// 2-bit slices and polarities, plus the bound tables). A part per block held 990 parts, about 23 bytes
    /// per cell here, and 3.6 GB in ResNet-18's `cimc run`.
    /// </summary>
    [Fact]
    public void A_convolutions_windows_hold_its_weights_once()
    {
        Architecture isaac = ArchitectureCatalog.Preset("isaac");
        (ProgramImage program, WeightImage weights) = GraphBitExactnessTests.Compile(ConvShapesOnIsaacTests.LeNet(), isaac, new Lowering(false, true));
        var sim = new FunctionalSimulator(program, weights);
        MvmBlock[] blocks = [.. sim.BatchPlan.Blocks.SelectMany(b => b).OfType<MvmBlock>()];
        MvmWeights[] parts = [.. blocks.Select(b => b.Weights).Distinct()];
        long cells = (long)weights.Crossbars.Count * weights.Rows * weights.Cols;
        long bytes = parts.Sum(p => p.Bytes);

        Assert.True(blocks.Length >= 10 * parts.Length, $"{blocks.Length} blocks hold {parts.Length} weights parts");
        Assert.True(bytes <= cells, $"{bytes:N0} bytes of weights parts for {cells:N0} crossbar cells");
    }
}
