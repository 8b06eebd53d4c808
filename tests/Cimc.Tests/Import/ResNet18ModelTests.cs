using Cimc.Architectures;
using Cimc.Bench;
using Cimc.Data;
using Cimc.Import;
using Cimc.Import.Onnx.Proto;
using Cimc.Ir;
using Cimc.Quantization;
using Cimc.Reference;
using Cimc.Tests.Golden;
using Xunit.Abstractions;
using static Cimc.Tests.Import.OnnxModels;

namespace Cimc.Tests.Import;

/// <summary>
/// The bench's generated CIFAR ResNet-18 (bench/Cimc.Bench/ResNet18.cs) at a narrow width, so the
/// check stays fast: cimc imports it with every batch norm folded and its float reference computes
/// what ONNX Runtime computes. The bench writes and times the full 11 M-weight width.
/// </summary>
public sealed class ResNet18ModelTests(ITestOutputHelper output)
{
    [Fact]
    public void A_narrow_resnet18_imports_with_its_batch_norms_folded_and_computes_what_onnx_runtime_computes()
    {
        const int width = 4;
        ModelProto model = ResNet18.Build(seed: 3, width);
        Assert.Equal(20, model.Graph.Node.Count(n => n.OpType == "BatchNormalization"));
        string path = Save(model);
        try
        {
            Graph graph = ModelLoader.Load(path);
            Assert.Empty(GraphVerifier.Verify(graph));
            Assert.Equal(20, graph.Nodes.Count(n => n.Op is Conv2d));
            Assert.Equal(8, graph.Nodes.Count(n => n.Op is Add));
            Assert.Single(graph.Nodes, n => n.Op is GlobalAvgPool);
            Assert.Single(graph.Nodes, n => n.Op is Dense);

            // Conv and dense weights: the stem, 4 stages of two 3x3 blocks, 3 projections and the classifier.
            long w = width;
            long convs = (3 * w * 9) + (4 * w * w * 9)
                + (((2 * w * w) + (3 * 4 * w * w)) * 9) + (2 * w * w)
                + (((8 * w * w) + (3 * 16 * w * w)) * 9) + (8 * w * w)
                + (((32 * w * w) + (3 * 64 * w * w)) * 9) + (32 * w * w);
            Assert.Equal(convs + (10 * 8 * w), ResNet18.WeightCount(model));

            var input = new NdArray([3, 3, ResNet18.InputSize, ResNet18.InputSize], Random(3 * 3 * ResNet18.InputSize * ResNet18.InputSize, 11, 2f));
            float[] ours = FloatExecutor.Run(graph, input).Data;
            float[] theirs = OnnxRuntimeOracle.Run(path, input);
            Close.Assert(theirs, ours);

            // Random weights, but not a constant network: the three samples' logits differ.
            Assert.Contains(Enumerable.Range(0, 10), i => Math.Abs(ours[i] - ours[10 + i]) > 1e-3);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// Images whose three channels differ in kind (noise, a horizontal ramp, a vertical ramp), so that
    /// reading them in any other order than NCHW -> HWC gives a different image to the chip.
    /// </summary>
    internal static NdArray AsymmetricImages(int count, int seed)
    {
        const int S = ResNet18.InputSize;
        var rng = new Random(seed);
        var data = new float[count * 3 * S * S];
        for (int n = 0; n < count; n++)
        {
            for (int y = 0; y < S; y++)
            {
                for (int x = 0; x < S; x++)
                {
                    int at = (n * 3 * S * S) + (y * S) + x;
                    data[at] = (float)rng.NextDouble();
                    data[at + (S * S)] = (x + (float)rng.NextDouble()) / S;
                    data[at + (2 * S * S)] = 1f - ((y + (float)rng.NextDouble()) / S);
                }
            }
        }

        return new NdArray([count, 3, S, S], data);
    }

    /// <summary>isaac with a tile buffer large enough to hold a 3 x 32 x 32 ResNet's maps whole.</summary>
    internal static Architecture IsaacWithLargeBuffers() =>
        ArchitectureCatalog.Preset("isaac") is var isaac ? isaac with { Name = "isaac-large-buffers", Tile = isaac.Tile with { BufferBytes = 1 << 20 } } : null!;

    [Fact]
    public void A_chip_with_too_few_cores_for_the_layers_and_the_pooling_and_add_nodes_says_how_many_it_needs()
    {
        // Each of the 8 residual adds and the global average pool runs on a core no layer uses.
        string path = Save(ResNet18.Build(seed: 3, width: 2));
        try
        {
            Graph graph = ModelLoader.Load(path);
            Architecture edge = ArchitectureCatalog.Preset("edge");
            var e = Assert.Throws<Diagnostics.CimcException>(() => Compiler.Compile(graph, edge, Compiler.OptionsFor(edge, 8, 8), AsymmetricImages(2, seed: 1)));
            Assert.Equal("placement", e.Diagnostic.Location);
            Assert.Matches(@"\(\d+ cores of 8, one layer per core, and 9 more cores for its pooling and add nodes, \d+ in all\) but the chip has 256 crossbars \(32 cores\); it needs 2 chips", e.Diagnostic.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    [Trait("tier", "slow")]
    public void A_narrow_resnet18_on_three_channel_images_compiles_and_cimc_run_equals_the_golden_model()
    {
        string dir = Path.Combine(Path.GetTempPath(), Path.GetRandomFileName());
        Directory.CreateDirectory(dir);
        try
        {
            string model = Path.Combine(dir, "r18.onnx"), arch = Path.Combine(dir, "arch.json"), calibration = Path.Combine(dir, "cal.npy");
            string images = Path.Combine(dir, "x.npy"), simulated = Path.Combine(dir, "y.npy"), floats = Path.Combine(dir, "f.npy");
            ResNet18.Write(model, seed: 3, width: 4);
            Architecture large = IsaacWithLargeBuffers();
            File.WriteAllText(arch, ArchitectureJson.Write(large));
            NdArray cal = AsymmetricImages(8, seed: 5), x = AsymmetricImages(6, seed: 6);
            Npy.Write(calibration, cal);
            Npy.Write(images, x);

            string[] precision = ["--weight-bits", "8", "--activation-bits", "8"];
            (int exit, _, string error) = Cli.CliRunner.Run(["compile", model, "--arch", arch, "--calibration-data", calibration, .. precision, "-o", Path.Combine(dir, "out")]);
            Assert.True(exit == 0, error);
            (exit, _, error) = Cli.CliRunner.Run("run", Path.Combine(dir, "out"), "--input", images, "--output", simulated);
            Assert.True(exit == 0, error);
            (exit, _, error) = Cli.CliRunner.Run("infer", model, "--input", images, "--output", floats);
            Assert.True(exit == 0, error);
            float[] y = Npy.Read(simulated).Data, f = Npy.Read(floats).Data;

            // The golden model of the same quantization, given the NCHW images: it puts them HWC itself.
            Graph graph = ModelLoader.Load(model);
            Compilation c = Compiler.Compile(graph, large, Compiler.OptionsFor(large, 8, 8), cal);
            var xbar = new CrossbarParams(large.Core.Crossbar.Rows, large.Core.Crossbar.Cols, large.Core.Crossbar.CellBits, large.Core.Dac.Bits, large.Core.Adc.Bits);
            Assert.Equal(GoldenGraph.Run(c.Quantized!, xbar, x), y);

            // And near the float model: closer than the float model is to itself on the images with
            // their channels rotated, which is what a wrong order would feed it.
            NdArray rotated = new([.. x.Shape], [.. Enumerable.Range(0, x.Data.Length).Select(i => x.Data[Rotate(i)])]);
            float[] fr = FloatExecutor.Run(graph, rotated).Data;
            double err = Rms(y, f), swapped = Rms(fr, f);
            output.WriteLine($"cimc run vs float: {err:g3} RMS; float on rotated channels vs float: {swapped:g3} RMS; logits range {f.Min():g3} .. {f.Max():g3}");
            Assert.True(err < swapped / 4, $"cimc run is {err:g3} RMS from float; the rotated images {swapped:g3}");

            // The same values stored channels last (N x H x W x C) would be read in the wrong order: one line each.
            string hwc = Path.Combine(dir, "hwc.npy");
            Npy.Write(hwc, x.Reshape(x.Rows, ResNet18.InputSize, ResNet18.InputSize, 3));
            foreach (string[] command in new[] { ["run", Path.Combine(dir, "out"), "--input", hwc, "--output", simulated], new[] { "infer", model, "--input", hwc, "--output", floats } })
            {
                (exit, string printed, error) = Cli.CliRunner.Run(command);
                Assert.Equal(1, exit);
                Assert.Equal("", printed);
                Assert.Contains("32,32,3]", Assert.Single(error.TrimEnd().Split('\n')).Replace(" ", ""));
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }

        static int Rotate(int i)
        {
            const int plane = ResNet18.InputSize * ResNet18.InputSize;
            int sample = i / (3 * plane), c = i / plane % 3;
            return (sample * 3 * plane) + (((c + 1) % 3) * plane) + (i % plane);
        }

        static double Rms(float[] a, float[] b) => Math.Sqrt(a.Zip(b, (p, q) => (double)(p - q) * (p - q)).Average());
    }
}
