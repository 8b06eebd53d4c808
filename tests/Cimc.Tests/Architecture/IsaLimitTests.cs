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
    [InlineData(4, 2, 16, 1L << 26, "tile.buffer_bytes: 67108864 bytes (33554432 words of 2 bytes) exceed what the ISA can address: load.src (24 bits) reaches 16777216")]
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
            Tile = Puma.Tile with { Cores = 2, BufferBytes = IsaLimits.BufferWords * TileSpec.BytesPerWord },
            Core = Puma.Core with { Crossbars = 1, Adc = Puma.Core.Adc with { GroupCrossbars = 1 } },
        };
        ArchitectureValidator.Validate(arch);
        Compiler.Header(arch).Validate("test");
        ArchitectureValidator.Validate(Puma with { Core = Puma.Core with { Crossbars = 256, Adc = Puma.Core.Adc with { GroupCrossbars = 1 } } });
    }
}
