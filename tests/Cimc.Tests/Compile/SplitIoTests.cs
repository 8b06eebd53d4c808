using Cimc.Architectures;
using Cimc.Data;
using Cimc.Ir;
using Cimc.Isa;
using Cimc.Quantization;
using Cimc.Simulation;
using Cimc.Tests.Golden;
using CsCheck;

namespace Cimc.Tests.Compile;

/// <summary>
/// A network input or output wider than one tile buffer is split into parts on several tiles (each
/// tile's part holds the rows its cores read, or the columns its roots finish), and the program
/// still computes what the golden model says, bit for bit, in both simulators and after a trip
/// through program.bin and the assembly text.
/// </summary>
public sealed class SplitIoTests
{
    [Fact]
    public void Inputs_and_outputs_wider_than_a_small_tile_buffer_run_bit_exactly_in_parts()
    {
        int splitIn = 0, splitOut = 0;
        Gen.Int[0, int.MaxValue].Sample(seed =>
        {
            BitExactnessTests.DesignPoint p = BitExactnessTests.DesignPoint.From(seed, maxWidth: 100) with { Rows = 16, Cols = 16 };
            var rng = new Random(seed ^ 0x5b17);
            Architecture small = MultiChipTests.SmallNode(p.Architecture(), rng);
            small = small with { Tile = small.Tile with { Cores = rng.Next(1, 3) } };
            // A tile buffer that holds what one tile's cores can read or write at most, a few times
            // over (its input and output parts and other layers' regions share it), but is narrower
            // than the network's input and output.
            int reach = small.Tile.Cores * small.Core.Crossbars * 16;
            int bufferWords = rng.Next(4 * reach, (5 * reach) + 1);
            Architecture arch = small with { Tile = small.Tile with { BufferBytes = (long)TileSpec.BytesPerWord * bufferWords } };
            p = p with { Widths = [.. p.Widths.Select((w, i) => i == 0 || i == p.Widths.Length - 1 ? bufferWords + 1 + rng.Next(40) : w)] };
            var settings = new Passes.CompileSettings { Level = (Passes.OptLevel)rng.Next(3), Seed = rng.Next(), AutoChips = true };
            (Graph graph, NdArray calibration, NdArray inputs) = p.Network();
            Compilation c = Compiler.Compile(graph, arch, p.Options(), calibration, CompileStage.Asm, settings);

            Assert.True(p.Widths[0] > bufferWords && p.Widths[^1] > bufferWords);
            Assert.True(c.Program!.Input.Parts.Length > 1, "the input is split");
            Assert.True(c.Program.Output.Parts.Length > 1, "the output is split");
            Assert.All(c.Program.Input.Parts.Concat(c.Program.Output.Parts), part => Assert.True(part.Addr + part.Len <= bufferWords));
            Interlocked.Increment(ref splitIn);
            Interlocked.Increment(ref splitOut);

            ProgramImage program = ProgramImage.FromBytes(c.Program.ToBytes());
            Assert.Equal(c.Program, program);
            Assert.Equal(c.Program, Assembler.Assemble(Disassembler.Disassemble(c.Program)));
            MultiChipTests.RunsAsGolden(c, p, inputs);
        }, iter: 12, threads: 1);

        Assert.Equal(12, splitIn);
        Assert.Equal(12, splitOut);
    }

    [Fact]
    public void A_puma_input_one_value_wider_than_its_tile_buffer_compiles_and_runs_bit_exactly()
    {
        Architecture puma = ArchitectureCatalog.Preset("puma");
        int width = (int)puma.Tile.BufferWords + 1;
        var b = new GraphBuilder("wide", TensorType.Float(TensorType.Dynamic, width));
        b.Add("fc", new Dense(FloatTensor.Matrix(3, width, [.. Enumerable.Range(0, 3 * width).Select(k => ((k * 7919) % 11) - 5f)]), null));
        var samples = new NdArray([2, width], [.. Enumerable.Range(0, 2 * width).Select(k => (float)((k * 31) % 17) / 17)]);
        Compilation c = Compiler.Compile(b.Build(), puma, Compiler.OptionsFor(puma), samples);

        Assert.True(c.Program!.Input.Parts.Length > 1);
        var simulator = new FunctionalSimulator(c.Program, c.Weights!);
        var xbar = new CrossbarParams(puma.Core.Crossbar.Rows, puma.Core.Crossbar.Cols, puma.Core.Crossbar.CellBits, puma.Core.Dac.Bits, puma.Core.Adc.Bits);
        for (int r = 0; r < samples.Rows; r++)
        {
            long[] codes = GoldenModel.QuantizeInput(c.Quantized!, samples.Row(r));
            Assert.Equal(GoldenModel.RunCodes(c.Quantized!, xbar, codes), simulator.RunCodes(codes));
        }
    }
}
