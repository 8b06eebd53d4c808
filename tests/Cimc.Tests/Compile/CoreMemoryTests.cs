using Cimc.Architectures;
using Cimc.Data;
using Cimc.Diagnostics;
using Cimc.Import;
using Cimc.Ir;
using Cimc.Isa;
using Cimc.Tests.Performance;

namespace Cimc.Tests.Compile;

/// <summary>Core memories at the chips' sizes: compact per-core layouts, no tables, a one-line does-not-fit.</summary>
public sealed class CoreMemoryTests
{
    private static Architecture Isaac(int localWords) =>
        ArchitectureCatalog.Load("isaac") with { Core = ArchitectureCatalog.Load("isaac").Core with { LocalMemoryWords = localWords } };

    [Fact]
    public void A_layer_that_does_not_fit_core_memory_names_the_core_what_it_needs_and_what_it_has()
    {
        // fc1 is 300 -> 200 at 16 bits on isaac: one 128x128 block per core, 6 cores on one tile. Core 0
        // holds rows 0..128 and columns 0..128, reduces its column block (partial sums from cores 1 and 2),
        // and keeps the block's constants: bias 128 + requantization 3 + 2 x 128 + the vact block 7.
        // Its plain layout takes 780 words; below that the partial sums overlay its input rows (652).
        var e = Assert.Throws<CimcException>(() => PerformanceFixtures.Compile(Isaac(651), 3, () => new Sigmoid(), 300, 200, 10));
        Assert.Equal("does-not-fit", e.Diagnostic.Code);
        Assert.Equal("layer 'fc1'", e.Diagnostic.Location);
        Assert.Equal(
            "needs 652 words of core local memory on core 0 (inputs 128, accumulators 128, control 2, constants 394) but isaac cores have 651",
            e.Diagnostic.Message);
        Assert.DoesNotContain('\n', e.Message);

        // One word more and it compiles, using exactly that much.
        Compilation fits = PerformanceFixtures.Compile(Isaac(652), 3, () => new Sigmoid(), 300, 200, 10);
        Assert.Equal(652, fits.Program!.Cores.Max(WordsTouched));
    }

    [Fact]
    public void Partial_sums_overlay_the_input_rows_only_when_the_plain_layout_does_not_fit()
    {
        // The plain layout of fc1's core 0 (780 words) where it fits; one word less and the partial
        // sums it receives land on its input rows, which its mvms have read by then: 652 words.
        Assert.Equal(780, PerformanceFixtures.Compile(Isaac(780), 3, () => new Sigmoid(), 300, 200, 10).Program!.Cores.Max(WordsTouched));
        Assert.Equal(652, PerformanceFixtures.Compile(Isaac(779), 3, () => new Sigmoid(), 300, 200, 10).Program!.Cores.Max(WordsTouched));
    }

    [Theory]
    [InlineData(Passes.OptLevel.O0)]
    [InlineData(Passes.OptLevel.O2)]
    [InlineData(Passes.OptLevel.O3)]
    public void The_shipped_model_compiles_for_isaac_at_4_bits_and_runs_bit_exact(Passes.OptLevel level)
    {
        // Layer 0's core 0 needed 1,157 words of ISAAC's 1,152 with its partial sums beside its
        // inputs; overlaid on them it fits. At -O3 a relaying hub of layer 0 needed 1,157 with its
        // staging area beside its accumulators; on them it fits. The programs equal the golden model.
        Graph graph = ModelLoader.Load(Path.Combine(TestPaths.Examples, "fashion-mnist", "mlp.onnx"));
        NdArray calibration = Npy.Read(Path.Combine(TestPaths.Examples, "fashion-mnist", "calibration.npy"));
        Architecture isaac = ArchitectureCatalog.Load("isaac");
        Compilation c = Compiler.Compile(graph, isaac, Compiler.OptionsFor(isaac, 4, 4), calibration, CompileStage.Asm, new Passes.CompileSettings { Level = level });
        AssertCompact(c, isaac);
        var simulator = new Cimc.Simulation.FunctionalSimulator(c.Program!, c.Weights!);
        var xbar = new Golden.CrossbarParams(isaac.Core.Crossbar.Rows, isaac.Core.Crossbar.Cols, isaac.Core.Crossbar.CellBits, isaac.Core.Dac.Bits, isaac.Core.Adc.Bits);
        for (int r = 0; r < 8; r++)
        {
            long[] codes = Golden.GoldenModel.QuantizeInput(c.Quantized!, calibration.Row(r));
            Assert.Equal(Golden.GoldenModel.RunCodes(c.Quantized!, xbar, codes), simulator.RunCodes(codes));
        }
    }

    [Fact]
    public void The_shipped_example_compiles_on_every_preset_at_default_and_8_bit_precision_without_tables()
    {
        Graph graph = ModelLoader.Load(Path.Combine(TestPaths.Examples, "fashion-mnist", "mlp.onnx"));
        NdArray calibration = Npy.Read(Path.Combine(TestPaths.Examples, "fashion-mnist", "calibration.npy"));
        foreach (string name in new[] { "isaac", "puma", "edge" })
        {
            Architecture arch = ArchitectureCatalog.Load(name);
            foreach (int? bits in new int?[] { null, 8 })
            {
                Compilation c = Compiler.Compile(graph, arch, Compiler.OptionsFor(arch, bits, bits), calibration);
                AssertCompact(c, arch);
            }
        }
    }

    [Fact]
    public void Pumas_mlp_l4_fits_puma_with_every_sigmoid_on_the_special_function_unit()
    {
        Architecture puma = ArchitectureCatalog.Load("puma");
        Compilation c = PerformanceFixtures.PumaMlpL4(puma);
        AssertCompact(c, puma);

        // 3 sigmoid layers of 1024, 2048 and 1024 columns in blocks of 128: one vact per block, none for the last layer.
        var vacts = c.Program!.Cores.SelectMany(p => p.Code).Where(i => i.Opcode == Opcode.VAct).ToList();
        Assert.Equal((1024 + 2048 + 1024) / 128, vacts.Count);
        Assert.All(vacts, i => Assert.Equal((long)ActivationFunction.Sigmoid, i["fn"]));
    }

    [Theory]
    [InlineData("sigmoid", ActivationFunction.Sigmoid)]
    [InlineData("tanh", ActivationFunction.Tanh)]
    [InlineData("leaky", ActivationFunction.LeakyRelu)]
    public void Every_activation_the_quantizer_handles_runs_on_vact_with_its_function(string activation, ActivationFunction fn)
    {
        Architecture edge = ArchitectureCatalog.Load("edge");
        Func<Op> op = activation switch { "sigmoid" => () => new Sigmoid(), "tanh" => () => new Tanh(), _ => () => new LeakyRelu(0.2f) };
        Compilation c = PerformanceFixtures.Compile(edge, 7, op, 200, 150, 10);
        AssertCompact(c, edge);
        var vacts = c.Program!.Cores.SelectMany(p => p.Code).Where(i => i.Opcode == Opcode.VAct).ToList();
        Assert.Equal(2, vacts.Count); // the hidden layer's two column blocks
        Assert.All(vacts, i => Assert.Equal((long)fn, i["fn"]));
    }

    /// <summary>No lookup table anywhere, every data segment at most one column block's requantization block, every core within its memory.</summary>
    private static void AssertCompact(Compilation c, Architecture arch)
    {
        ProgramImage program = c.Program!;
        int cols = arch.Core.Crossbar.Cols;
        Assert.DoesNotContain(program.Cores.SelectMany(p => p.Code), i => i.Opcode == Opcode.VLut);
        Assert.All(program.Cores.SelectMany(p => p.Data), d => Assert.InRange(d.Values.Length, 1, 3 + (2 * cols)));
        Assert.All(program.Cores, p => Assert.InRange(WordsTouched(p), 1, arch.Core.LocalMemoryWords));
    }

    /// <summary>One past the highest local address a core's code or data can touch.</summary>
    private static int WordsTouched(CoreProgram core)
    {
        long top = core.Data.Select(d => (long)d.Addr + d.Values.Length).DefaultIfEmpty(0).Max();
        foreach (Instruction i in core.Code)
        {
            OpcodeSpec spec = i.Spec;
            long len = spec.IndexOf("len") >= 0 ? i["len"] : 1;
            foreach (string field in new[] { "dst", "src", "a", "b" }.Where(f => spec.IndexOf(f) >= 0))
            {
                bool remote = (i.Opcode == Opcode.Load && field == "src") || (i.Opcode == Opcode.Store && field == "dst");
                long extent = i.Opcode == Opcode.Mvm ? (field == "src" ? i["rows"] : i["cols"]) : i.Opcode == Opcode.VSum && field == "dst" ? 1 : len;
                top = remote ? top : Math.Max(top, i[field] + extent);
            }
        }

        return (int)top;
    }
}
