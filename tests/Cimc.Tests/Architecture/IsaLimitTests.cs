using Cimc.Architectures;
using Cimc.Data;
using Cimc.Diagnostics;
using Cimc.Ir;
using Cimc.Isa;
using Cimc.Quantization;

namespace Cimc.Tests.Architectures;

public sealed class IsaLimitTests
{
    private static readonly Architecture Puma = ArchitectureCatalog.Preset("puma");

    [Fact]
    public void The_limits_are_the_reach_of_the_isa_fields()
    {
        // The table's core ids are 16 bits, crossbar indices 8, addresses 24, rows and columns 13.
        Assert.Equal(1L << InstructionSet.Get(Opcode.Send).Fields[0].Bits, IsaLimits.Cores);
        Assert.Equal(1L << 16, IsaLimits.Cores);
        Assert.Equal(256, IsaLimits.CrossbarsPerCore);
        Assert.Equal(1L << 24, IsaLimits.LocalWords);
        Assert.Equal(1L << 24, IsaLimits.BufferWords);
        Assert.Equal(8191, IsaLimits.Rows);
        Assert.Equal(8191, IsaLimits.Cols);
        string doc = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "docs", "isa.md"));
        Assert.Contains($"at most 2^16 cores (`core`), {IsaLimits.CrossbarsPerCore} crossbars per core (`xb`), {IsaLimits.Rows} crossbar rows", doc);
    }

    [Theory]
    [InlineData(65536, 2, 16, 65536, "chip.tiles: 65536 tiles x 2 cores = 131072 cores exceed what the ISA can address: send.core (16 bits) reaches 65536")]
    [InlineData(4, 2, 300, 65536, "core.crossbars: 300 crossbars per core exceed what the ISA can address: mvm.xb (8 bits) reaches 256")]
    [InlineData(4, 2, 16, 1L << 28, "tile.buffer_bytes: 268435456 bytes (33554432 words) exceed what the ISA can address: load.src (24 bits) reaches 16777216")]
    public void The_validator_refuses_a_machine_the_isa_fields_cannot_address(int tiles, int cores, int crossbars, long bufferBytes, string message)
    {
        Architecture arch = Puma with
        {
            Chip = Puma.Chip with { Tiles = tiles, Mesh = new MeshSpec(256, 256) },
            Tile = Puma.Tile with { Cores = cores, BufferBytes = bufferBytes },
            Core = Puma.Core with { Crossbars = crossbars, Adc = Puma.Core.Adc with { GroupCrossbars = 1 } },
        };
        var e = Assert.Throws<CimcException>(() => ArchitectureValidator.Validate(arch));
        Assert.Equal(ArchitectureValidator.Code, e.Diagnostic.Code);
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void A_machine_exactly_at_the_limits_is_accepted()
    {
        Architecture arch = Puma with
        {
            Chip = Puma.Chip with { Tiles = 32768, Mesh = new MeshSpec(256, 128) },
            Tile = Puma.Tile with { Cores = 2, BufferBytes = IsaLimits.BufferWords * 8 },
            Core = Puma.Core with { Crossbars = 1, Adc = Puma.Core.Adc with { GroupCrossbars = 1 } },
        };
        ArchitectureValidator.Validate(arch);
        Compiler.Header(arch).Validate("test");
        ArchitectureValidator.Validate(Puma with { Core = Puma.Core with { Crossbars = 256, Adc = Puma.Core.Adc with { GroupCrossbars = 1 } } });
    }

    [Fact]
    public void An_input_wider_than_a_tile_buffer_is_refused_before_quantization()
    {
        long bufferWords = Puma.Tile.BufferBytes / 8;
        int width = (int)bufferWords + 1;
        var b = new GraphBuilder("wide", TensorType.Float(TensorType.Dynamic, width));
        b.Add("fc", new Dense(FloatTensor.Matrix(2, width, [.. Enumerable.Range(0, 2 * width).Select(k => (float)(k % 5) - 2)]), null));
        var stages = new List<CompileStage>();
        var e = Assert.Throws<CimcException>(() => Compiler.Compile(b.Build(), Puma, Compiler.OptionsFor(Puma),
            new SampleCalibration(new NdArray([1, width], [.. Enumerable.Range(0, width).Select(k => (float)(k % 7))]), "ramp"), CompileStage.Asm, stages.Add));
        Assert.Equal("does-not-fit", e.Diagnostic.Code);
        Assert.StartsWith("input '", e.Diagnostic.Location);
        Assert.Contains($"has {width} values per sample but a tile buffer holds {bufferWords} words", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Empty(stages); // nothing was quantized or mapped

        // Stopping before code generation (estimates) is still allowed.
        Assert.NotNull(Compiler.Compile(b.Build(), Puma, Compiler.OptionsFor(Puma),
            new SampleCalibration(new NdArray([1, width], [.. Enumerable.Range(0, width).Select(k => (float)(k % 7))]), "ramp"), CompileStage.Quantized).Quantized);
    }
}
