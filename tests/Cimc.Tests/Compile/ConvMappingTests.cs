using System.Text.Json;
using Cimc.Architectures;
using Cimc.Data;
using Cimc.Import;
using Cimc.Mapping;
using Cimc.Placement;
using Cimc.Quantization;
using Cimc.Tests.Cli;
using Cimc.Tests.Golden;
using CsCheck;

namespace Cimc.Tests.Compile;

/// <summary>
/// --conv-mapping per-position (docs/quantization.md section 7): each kernel position's Cin rows are
/// cut into row blocks of their own. The cut, the programs (both simulators against the golden model,
/// which cuts independently), the ADC saturation that tells the two cuts apart, and the CLI.
/// </summary>
public sealed class ConvMappingTests
{
    private static QuantizedModel PerPosition(QuantizedModel model) =>
        model with { Options = model.Options with { ConvMapping = ConvMapping.PerPosition } };

    [Fact]
    public void The_im2col_cut_is_blocks_of_R_rows_and_the_per_position_cut_never_spans_two_kernel_positions()
    {
        Gen.Select(Gen.Int[1, 25], Gen.Int[1, 70], Gen.Int[1, 40]).Sample((positions, cin, rows) =>
        {
            int inF = positions * cin;
            var uniform = Enumerable.Range(0, (inF + rows - 1) / rows).Select(rb => new RowBlock(rb * rows, Math.Min(rows, inF - (rb * rows))));
            Assert.Equal(uniform, RowCut.Of(inF, rows, 0));
            Assert.Equal(uniform, RowCut.Of(inF, rows, inF)); // one position (a 1x1 conv) is the im2col cut

            var cut = RowCut.Of(inF, rows, cin);
            Assert.Equal(positions * ((cin + rows - 1) / rows), cut.Length);
            Assert.All(cut, b => Assert.True(b.Count >= 1 && b.Count <= rows && b.Start / cin == (b.End - 1) / cin, $"{b} spans a position of {cin} rows"));
            Assert.Equal(Enumerable.Range(0, inF), cut.SelectMany(b => Enumerable.Range(b.Start, b.Count)));
            Assert.Equal(GoldenModel.RowBlocks(inF, rows, cin), [.. cut.Select(b => (b.Start, b.End))]);
        }, iter: 300);
    }

    [Fact]
    public void Random_graphs_mapped_per_position_match_the_golden_model_in_both_simulators()
    {
        Gen.Select(RandomGraphs.Cases(), Gen.Bool).Sample((c, tree) =>
        {
            QuantizedModel model = PerPosition(c.Model);
            Architecture arch = GraphBitExactnessTests.ChipFor(c, model: model);
            MappedModel mapped = CrossbarMapper.Map(model, Compiler.Geometry(arch));
            foreach (LayerNode node in model.Graph!.Nodes.OfType<LayerNode>())
            {
                int cin = node.Conv?.Input.Channels ?? model.Layers[node.Layer].InFeatures;
                Assert.All(mapped.Layers[node.Layer].Blocks, b => Assert.Equal(b.RowStart / cin, (b.RowStart + b.RowCount - 1) / cin));
            }

            GraphBitExactnessTests.AssertGolden(c, arch, new Lowering(false, tree) { BiasFirst = true }, model);
        }, iter: 30, threads: 1);
    }

    /// <summary>
    /// With an ADC too small for the sums, each row block saturates on its own, so the two cuts give
    /// different integers (checked to happen), and each program equals the golden model of its own cut;
    /// with ideal ADCs both cuts give the ideal integers.
    /// </summary>
    [Fact]
    public void With_a_saturating_adc_the_cuts_differ_and_each_program_equals_its_golden_model()
    {
        int differ = 0, cases = 0;
        Gen.Select(RandomGraphs.Cases(), Gen.Int[1, 100]).Sample((c, adcDraw) =>
        {
            QuantizedModel im2col = c.Model, perPosition = PerPosition(im2col);
            Architecture ideal = GraphBitExactnessTests.ChipFor(c, model: perPosition);
            int adcBits = 1 + (adcDraw % Math.Max(1, c.NonSaturating.AdcBits - 1));
            Architecture small = ideal with { Core = ideal.Core with { Adc = ideal.Core.Adc with { Bits = adcBits } } };
            CrossbarParams xbar = c.NonSaturating with { AdcBits = adcBits };
            var lowering = new Lowering(false, true) { BiasFirst = true };
            GraphBitExactnessTests.AssertGolden(c, small, lowering, im2col, xbar);
            GraphBitExactnessTests.AssertGolden(c, small, lowering, perPosition, xbar);

            long[] u = c.Input(im2col, 0);
            long[] ideal0 = GoldenGraph.RunIdeal(im2col, u);
            Assert.Equal(ideal0, GoldenGraph.RunCodes(im2col, c.NonSaturating, u));
            Assert.Equal(ideal0, GoldenGraph.RunCodes(perPosition, c.NonSaturating, u));
            cases++;
            differ += GoldenGraph.RunCodes(im2col, xbar, u).SequenceEqual(GoldenGraph.RunCodes(perPosition, xbar, u)) ? 0 : 1;
        }, iter: 40, threads: 1);
        // Not every draw can differ: a graph whose convolutions all have R <= Cin or one kernel position cuts alike,
        // and a difference can be clamped away downstream; about a fifth of the draws differ.
        Assert.True(differ * 10 >= cases, $"the cuts gave different integers in only {differ} of {cases} saturating cases");
    }

    [Fact]
    public void The_estimator_counts_the_per_position_crossbars_the_map_pass_makes()
    {
        Gen.Select(RandomGraphs.Cases(), Gen.Bool).Sample((c, perPosition) =>
        {
            QuantizedModel model = perPosition ? PerPosition(c.Model) : c.Model;
            Architecture arch = GraphBitExactnessTests.ChipFor(c, model: model);
            MappedModel mapped = CrossbarMapper.Map(model, Compiler.Geometry(arch));
            Assert.Equal(mapped.Crossbars, Cimc.Performance.Estimator.Of(model, arch).CrossbarsUsed);
        }, iter: 40);
    }

    [Fact]
    public void Per_position_on_a_model_without_convolutions_is_refused_in_one_line()
    {
        using var dir = new TempDir();
        (int exit, _, string error) = CliRunner.Run("compile", Path.Combine(TestPaths.Examples, "fashion-mnist", "mlp.onnx"), "--arch", "isaac", "--conv-mapping", "per-position", "-o", dir.File("out"));
        Assert.Equal(1, exit);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("--conv-mapping", error);
        Assert.Contains("no convolution", error);

        (exit, _, error) = CliRunner.Run("compile", Path.Combine(TestPaths.Examples, "fashion-mnist", "lenet.onnx"), "--arch", "isaac", "--conv-mapping", "columns", "-o", dir.File("out"));
        Assert.Equal(1, exit);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("expected im2col or per-position", error);
    }

    /// <summary>
    /// The shipped LeNet-5 and small ResNet through the CLI with per-position blocks: summary.json says
    /// so and counts KH * KW * ceil(Cin / R) row blocks per convolution; `cimc run` equals the golden
    /// model of the same quantization (ISAAC's 8-bit ADC, saturation included) on the sample images.
    /// </summary>
    [Theory]
    [Trait("tier", "slow")]
    [InlineData("lenet.onnx")]
    [InlineData("resnet.onnx")]
    public void The_fixtures_compiled_per_position_by_the_cli_run_as_the_golden_model_says(string file)
    {
        using var dir = new TempDir();
        string model = Path.Combine(TestPaths.Examples, "fashion-mnist", file), images = Path.Combine(TestPaths.Examples, "fashion-mnist", "sample_images.npy");
        string[] common = ["--arch", "isaac", "--weight-bits", "8", "--activation-bits", "8"];
        (int exit, _, string error) = CliRunner.Run(["compile", model, .. common, "--conv-mapping", "per-position", "-o", dir.File("pp")]);
        Assert.True(exit == 0, error);
        (exit, _, error) = CliRunner.Run(["compile", model, .. common, "-o", dir.File("im")]);
        Assert.True(exit == 0, error);
        using JsonDocument pp = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.File("pp"), "summary.json")));
        using JsonDocument im = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.File("im"), "summary.json")));
        Assert.Equal("per-position", pp.RootElement.GetProperty("conv_mapping").GetString());
        Assert.Equal("im2col", im.RootElement.GetProperty("conv_mapping").GetString());
        Assert.True(pp.RootElement.GetProperty("crossbars_used").GetInt32() > im.RootElement.GetProperty("crossbars_used").GetInt32());

        (exit, _, error) = CliRunner.Run("run", dir.File("pp"), "--input", images, "--output", dir.File("y.npy"));
        Assert.True(exit == 0, error);
        Architecture isaac = ArchitectureCatalog.Preset("isaac");
        QuantizationOptions options = Compiler.OptionsFor(isaac, 8, 8) with { ConvMapping = ConvMapping.PerPosition };
        Compilation c = Compiler.Compile(ModelLoader.Load(model), isaac, options, Npy.Read(Path.Combine(TestPaths.Examples, "fashion-mnist", "calibration.npy")));
        var xbar = new CrossbarParams(isaac.Core.Crossbar.Rows, isaac.Core.Crossbar.Cols, isaac.Core.Crossbar.CellBits, isaac.Core.Dac.Bits, isaac.Core.Adc.Bits);
        Assert.Equal(GoldenGraph.Run(c.Quantized!, xbar, Npy.Read(images)), Npy.Read(dir.File("y.npy")).Data);
        foreach (JsonElement layer in pp.RootElement.GetProperty("layers").EnumerateArray())
        {
            MappedLayer mapped = c.Mapped!.Layers.Single(l => l.Layer.Name == layer.GetProperty("name").GetString());
            Assert.Equal(mapped.RowBlocks, layer.GetProperty("row_blocks").GetInt32());
            Assert.EndsWith($"= {mapped.Crossbars}", layer.GetProperty("formula").GetString(), StringComparison.Ordinal);
        }
    }
}
