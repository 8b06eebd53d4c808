using Cimc.Architectures;
using Cimc.Diagnostics;

namespace Cimc.Tests.Architectures;

public sealed class ArchitectureTests
{
    public static TheoryData<string> Presets() => [.. ArchitectureCatalog.PresetNames];

    [Theory]
    [MemberData(nameof(Presets))]
    public void Every_preset_loads_and_validates(string name)
    {
        Architecture arch = ArchitectureCatalog.Load(name);
        Assert.Equal(name, arch.Name);
        ArchitectureValidator.Validate(arch);
        Assert.True(arch.Sources.Count > 0);
        Assert.NotNull(arch.Sources.For("core.crossbar.rows"));

        // Core memories are the chips' (ISAAC: IMA input + output registers; PUMA: register file +
        // MVMU input/output registers), each with its source.
        int expected = name switch { "isaac" => 1024 + 128, "puma" => 2048 + (2 * 128) + (2 * 128), _ => 2048 };
        Assert.Equal(expected, arch.Core.LocalMemoryWords);
        Assert.Contains("one physical 16-bit entry per cimc word", arch.Sources.For("core.local_memory_words") ?? "", StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Presets))]
    public void Writing_a_preset_as_json_and_reading_it_back_gives_an_equal_architecture(string name)
    {
        Architecture arch = ArchitectureCatalog.Preset(name);
        string json = ArchitectureJson.Write(arch);
        Architecture again = ArchitectureJson.Parse(json);
        Assert.Equal(arch, again);
        Assert.Equal(json, ArchitectureJson.Write(again));
    }

    [Fact]
    public void The_catalog_lists_every_preset_with_a_one_line_description()
    {
        var list = ArchitectureCatalog.List();
        Assert.Equal(["isaac", "puma", "edge"], list.Select(p => p.Name));
        Assert.All(list, p => Assert.DoesNotContain('\n', p.Description));
    }

    [Fact]
    public void Isaac_has_the_published_organisation()
    {
        Architecture isaac = ArchitectureCatalog.Preset("isaac");
        Assert.Equal(new CrossbarSpec(128, 128, 2), isaac.Core.Crossbar);
        Assert.Equal(1, isaac.Core.Dac.Bits);
        Assert.Equal(new AdcSpec(8, 1), isaac.Core.Adc);
        Assert.Equal(128, isaac.Core.ColumnsPerAdc);
        Assert.Equal(168 * 12, isaac.TotalCores);
        Assert.Equal(168 * 12 * 8, isaac.TotalCrossbars);
        Assert.Equal(42, isaac.Chip.Routers);
        Assert.Equal(65536, isaac.Tile.BufferBytes);
        Assert.Equal(new PrecisionSpec(16, 16, SignedWeights.Offset), isaac.DefaultPrecision);
    }

    [Fact]
    public void Puma_counts_physical_crossbars_two_mvmus_of_eight()
    {
        Architecture puma = ArchitectureCatalog.Preset("puma");
        Assert.Equal(16, puma.Core.Crossbars);
        Assert.Equal(512, puma.Core.ColumnsPerAdc); // 2 ADCs per MVMU of 8 crossbars: 8 x 128 / 2
        Assert.Equal(new AdcSpec(8, 2, 8), puma.Core.Adc);
        Assert.Equal(4, puma.Core.AdcsPerCore);
        Assert.Equal(8, puma.Tile.Cores);
        Assert.Equal(SignedWeights.Offset, puma.DefaultPrecision.SignedWeights);
    }

    [Fact]
    public void The_edge_chip_holds_a_784_256_128_10_mlp_one_block_per_core_with_room()
    {
        Architecture edge = ArchitectureCatalog.Preset("edge");
        PrecisionSpec p = edge.DefaultPrecision;
        int slices = (p.WeightBits - 1 + edge.Core.Crossbar.CellBits - 1) / edge.Core.Crossbar.CellBits;
        Assert.Equal(edge.Core.Crossbars, slices * 2); // one 128x128 block of differential 8-bit weights per core
        int[] layers = [784, 256, 128, 10];
        int blocks = 0;
        for (int i = 0; i + 1 < layers.Length; i++)
        {
            int rowsWithBias = layers[i] + 1;
            blocks += Ceil(rowsWithBias, edge.Core.Crossbar.Rows) * Ceil(layers[i + 1], edge.Core.Crossbar.Cols);
        }

        Assert.Equal(19, blocks);
        Assert.True(blocks * 3 <= edge.TotalCores * 2, $"{blocks} cores of {edge.TotalCores} leaves less than a third free");

        static int Ceil(int a, int b) => (a + b - 1) / b;
    }

    [Fact]
    public void Tiles_sit_row_major_on_the_mesh()
    {
        ChipSpec chip = ArchitectureCatalog.Preset("edge").Chip;
        Assert.Equal((0, 0), chip.TilePosition(0));
        Assert.Equal((3, 0), chip.TilePosition(3));
        Assert.Equal((1, 1), chip.TilePosition(5));
        Assert.Equal(4, chip.MeshDistance(0, 7));
    }

    [Fact]
    public void Overrides_replace_the_figures_they_name_and_keep_the_rest()
    {
        Architecture isaac = ArchitectureCatalog.Preset("isaac");
        Architecture changed = isaac.With(cellBits: 1, adcBits: 6, rows: 256, cols: 64, weightBits: 8);
        Assert.Equal(new CrossbarSpec(256, 64, 1), changed.Core.Crossbar);
        Assert.Equal(6, changed.Core.Adc.Bits);
        Assert.Equal(8, changed.DefaultPrecision.WeightBits);
        Assert.Equal(isaac.Chip, changed.Chip);
        Assert.Equal(isaac, isaac.With());
    }

    [Theory]
    [InlineData(0, null, null, "core.crossbar.rows: must be between 2 and 4096 (got 0)")]
    [InlineData(null, 9, null, "core.crossbar.cell_bits: must be between 1 and 8 (got 9)")]
    [InlineData(null, null, 17, "core.adc.bits: must be between 1 and 16 (got 17)")]
    public void An_override_out_of_range_is_refused_naming_the_key(int? rows, int? cellBits, int? adcBits, string message)
    {
        var e = Assert.Throws<CimcException>(() => ArchitectureCatalog.Preset("isaac").With(rows: rows, cellBits: cellBits, adcBits: adcBits));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Sources_fall_back_to_the_nearest_parent_key_then_general()
    {
        SourceMap sources = new([new("general", "g"), new("core.adc", "a")]);
        Assert.Equal("a", sources.For("core.adc.bits"));
        Assert.Equal("g", sources.For("chip.tiles"));
    }
}
