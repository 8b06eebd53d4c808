using Cimc.Architectures;
using Cimc.Diagnostics;
using Cimc.Import;
using Cimc.Ir;
using Cimc.Quantization;
using Cimc.Tests.Import;

namespace Cimc.Tests.Scale;

/// <summary>
/// What keeps a billion-weight compile within 8 GB (docs/scale.md): narrow quantized weights,
/// levels computed rather than stored (LeanCompileTests), and large state_dict weights read from
/// the file when used rather than all held; each gives the same program and weights as before.
/// </summary>
public sealed class ScaleMemoryTests
{
    [Theory]
    [InlineData(2, 1)]
    [InlineData(8, 1)]
    [InlineData(9, 2)]
    [InlineData(16, 2)]
    public void Quantized_weights_are_held_in_the_narrowest_type_that_holds_them(int weightBits, int bytes)
    {
        Architecture puma = ArchitectureCatalog.Preset("puma");
        QuantizedModel q = Performance.PerformanceFixtures.Compile(puma, Compiler.OptionsFor(puma, weightBits, 8), 3, () => new Relu(), 40, 30, 5).Quantized!;
        Assert.All(q.Layers, l => Assert.Equal(bytes, l.Weights.ElementBytes));
        long qw = IntMath.SymmetricMax(weightBits);
        Assert.All(q.Layers, l => Assert.Equal(qw, l.Weights.Max(w => Math.Abs((long)w))));
    }

    [Fact]
    public void Narrowed_weights_read_back_every_value_they_were_given()
    {
        var rng = new Random(5);
        foreach ((int lo, int hi, int bytes) in new[] { (-128, 127, 1), (-32768, 32767, 2), (-40000, 40000, 4) })
        {
            int[] values = [.. Enumerable.Range(0, 1000).Select(_ => rng.Next(lo, hi + 1)), lo, hi];
            QuantizedWeights w = [.. values];
            Assert.Equal(bytes, w.ElementBytes);
            Assert.Equal(values, w);
            var part = new int[100];
            w.CopyTo(450, part);
            Assert.Equal(values[450..550], part);
            Assert.Equal(values[10..90].Sum(v => (long)v), w.Sum(10, 80));
            var gathered = new byte[200];
            byte[] table = [.. Enumerable.Range(0, (2 * hi) + 1).Select(i => (byte)(i * 7))];
            w.Gather(3, 100, table, hi, gathered, 2);
            Assert.Equal(values[3..103].Select(v => (byte)((v + hi) * 7)), gathered.Where((_, i) => i % 2 == 0));
            Assert.All(gathered.Where((_, i) => i % 2 == 1), b => Assert.Equal(0, b));
        }
    }

    /// <summary>A state_dict of one 2,048 x 2,048 layer: at the on-demand threshold.</summary>
    private static string WriteStateDict(int seed)
    {
        const int wide = 2048;
        var rng = new Random(seed);
        float[] values = [.. Enumerable.Range(0, wide * wide).Select(_ => (float)((rng.NextDouble() - 0.5) / 20))];
        byte[] file = TorchArchives.StateDict(
            [new ArchiveTensor("fc1.weight", [wide, wide], [wide, 1])],
            values.Length, TorchArchives.Values(values));
        string path = Path.Combine(Path.GetTempPath(), $"cimc-ondemand-{Guid.NewGuid():N}.pt");
        File.WriteAllBytes(path, file);
        return path;
    }

    [Fact]
    [Trait("tier", "slow")]
    public void A_state_dict_whose_large_weights_are_read_on_demand_compiles_to_the_bytes_of_held_weights()
    {
        Assert.Equal(2048L * 2048, Cimc.Import.Torch.TorchFile.OnDemandElements);
        string path = WriteStateDict(7);
        try
        {
            Graph graph = ModelLoader.Load(path, new ImportOptions(LayerActivation.Relu));
            var dense = (Dense)graph.Nodes.Single(n => n.Op is Dense).Op;
            Assert.True(dense.Weight.IsOnDemand);

            // The same weights, held: what import made before on-demand reading.
            float[] held = dense.Weight.Span.ToArray();
            Graph heldGraph = graph with { Nodes = [.. graph.Nodes.Select(n => n.Op is Dense d ? n with { Op = d with { Weight = new FloatTensor(d.Weight.Shape, held) } } : n)] };

            Architecture puma = ArchitectureCatalog.Preset("puma");
            QuantizationOptions options = Compiler.OptionsFor(puma, 8, 8);
            var calibration = new InputRangeCalibration(0, 1);
            Compilation onDemand = Compiler.Compile(graph, puma, options, calibration);
            Compilation fromHeld = Compiler.Compile(heldGraph, puma, options, calibration);
            Assert.Equal(fromHeld.Program!.ToBytes(), onDemand.Program!.ToBytes());
            Assert.Equal(fromHeld.Weights!.ToBytes(), onDemand.Weights!.ToBytes());
            Assert.Equal(held, dense.Weight.Span.ToArray());

            // The file is read again when the weights are used: a file changed since is refused in one line.
            dense.Weight.Release();
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(1));
            CimcException e = Assert.Throws<CimcException>(() => Compiler.Compile(graph, puma, options, calibration));
            Assert.Contains("changed", e.Message);
            Assert.Single(e.Message.Split('\n'));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
