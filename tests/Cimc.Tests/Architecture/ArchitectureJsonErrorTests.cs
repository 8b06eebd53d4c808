using System.Text.Json.Nodes;
using Cimc.Architectures;
using Cimc.Diagnostics;

namespace Cimc.Tests.Architectures;

/// <summary>Each kind of mistake in an architecture file is one diagnostic that names the key.</summary>
public sealed class ArchitectureJsonErrorTests
{
    private static JsonObject Edge() => JsonNode.Parse(ArchitectureJson.Write(ArchitectureCatalog.Preset("edge")))!.AsObject();

    private static CimcException Refused(string json) => Assert.Throws<CimcException>(() => ArchitectureJson.Parse(json, "my.json"));

    private static CimcException Refused(Action<JsonObject> edit)
    {
        JsonObject root = Edge();
        edit(root);
        return Refused(root.ToJsonString());
    }

    [Fact]
    public void Zero_rows_is_refused_with_the_range()
    {
        CimcException e = Refused(r => r["core"]!["crossbar"]!["rows"] = 0);
        Assert.Equal("core.crossbar.rows: must be between 2 and 4096 (got 0)", e.Message);
        Assert.Equal("core.crossbar.rows", e.Diagnostic.Location);
    }

    [Fact]
    public void An_unknown_key_is_refused_with_a_suggestion_for_the_typo()
    {
        CimcException e = Refused(r =>
        {
            var crossbar = r["core"]!["crossbar"]!.AsObject();
            crossbar.Remove("rows");
            crossbar["row"] = 128;
        });
        Assert.Equal("core.crossbar.row: unknown key (did you mean 'rows'?)", e.Message);
    }

    [Fact]
    public void An_unknown_key_unlike_any_other_lists_the_allowed_keys()
    {
        CimcException e = Refused(r => r["tile"]!["frobnication"] = 1);
        Assert.Equal("tile.frobnication: unknown key (expected one of cores, buffer_bytes, bus_bits)", e.Message);
    }

    [Fact]
    public void A_mesh_too_small_for_the_tiles_is_refused()
    {
        CimcException e = Refused(r =>
        {
            r["chip"]!["tiles"] = 20;
            r["chip"]!["mesh"] = new JsonObject { ["width"] = 4, ["height"] = 4 };
        });
        Assert.Equal("chip.mesh: 4x4 mesh cannot hold 20 tiles", e.Message);
    }

    [Fact]
    public void A_missing_key_is_named()
    {
        CimcException e = Refused(r => r["core"]!["adc"]!.AsObject().Remove("per_crossbar"));
        Assert.Equal("core.adc.per_crossbar: required key is missing", e.Message);
    }

    [Fact]
    public void A_value_of_the_wrong_type_is_named()
    {
        CimcException e = Refused(r => r["core"]!["dac"]!["bits"] = "one");
        Assert.Equal("core.dac.bits: must be an integer (got a string)", e.Message);
    }

    [Fact]
    public void A_fractional_count_is_refused()
    {
        CimcException e = Refused(r => r["tile"]!["cores"] = 2.5);
        Assert.Equal("tile.cores: must be an integer (got 2.5)", e.Message);
    }

    [Fact]
    public void An_unknown_signed_weight_encoding_is_refused()
    {
        CimcException e = Refused(r => r["default_precision"]!["signed_weights"] = "twos");
        Assert.Equal("default_precision.signed_weights: must be \"differential\", \"offset\" or \"twos-complement\" (got \"twos\")", e.Message);
    }

    [Fact]
    public void A_source_citing_no_key_is_refused()
    {
        CimcException e = Refused(r => r["sources"]!["core.dca"] = "typo");
        Assert.Equal("sources.core.dca: names no key of the architecture (use a key path such as core.adc, or general)", e.Message);
    }

    [Fact]
    public void More_adcs_than_columns_is_refused()
    {
        CimcException e = Refused(r => r["core"]!["adc"]!["per_crossbar"] = 129);
        Assert.Equal("core.adc.per_crossbar: must be between 1 and core.crossbar.cols = 128 (got 129)", e.Message);
    }

    [Fact]
    public void A_duplicate_key_is_refused()
    {
        string json = ArchitectureJson.Write(ArchitectureCatalog.Preset("edge")).Replace("\"rows\": 128,", "\"rows\": 128, \"rows\": 64,");
        Assert.Equal("core.crossbar.rows: appears twice", Refused(json).Message);
    }

    [Fact]
    public void Malformed_json_is_one_line_with_its_line_number()
    {
        CimcException e = Refused("{\n  \"name\": \"x\",\n  \"clock_ghz\": ,\n}");
        Assert.StartsWith("my.json: invalid JSON at line 3, column ", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_root_that_is_not_an_object_is_refused()
    {
        Assert.Equal("(root): must be an object (got an array)", Refused("[1, 2]").Message);
    }

    [Fact]
    public void Comments_are_allowed_in_architecture_files()
    {
        string json = "// my chip\n" + ArchitectureJson.Write(ArchitectureCatalog.Preset("edge"));
        Assert.Equal(ArchitectureCatalog.Preset("edge"), ArchitectureJson.Parse(json));
    }

    [Fact]
    public void A_file_path_loads_like_a_preset()
    {
        string path = Path.Combine(Path.GetTempPath(), $"cimc-arch-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(path, ArchitectureJson.Write(ArchitectureCatalog.Preset("puma").With(adcBits: 6)));
            Architecture loaded = ArchitectureCatalog.Load(path);
            Assert.Equal(6, loaded.Core.Adc.Bits);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_name_that_is_neither_preset_nor_file_is_refused_in_one_line()
    {
        var e = Assert.Throws<CimcException>(() => ArchitectureCatalog.Load("x"));
        Assert.Equal("unknown architecture 'x': not a preset (isaac, puma, edge) nor a file", e.Message);
    }
}
