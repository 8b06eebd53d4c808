using Cimc.Bench;
using Cimc.Data;
using Cimc.Import;
using Cimc.Import.Onnx.Proto;
using Cimc.Ir;
using Cimc.Reference;
using static Cimc.Tests.Import.OnnxModels;

namespace Cimc.Tests.Import;

/// <summary>
/// The bench's generated CIFAR ResNet-18 (bench/Cimc.Bench/ResNet18.cs) at a narrow width, so the
/// check stays fast: cimc imports it with every batch norm folded and its float reference computes
/// what ONNX Runtime computes. The bench writes and times the full 11 M-weight width.
/// </summary>
public sealed class ResNet18ModelTests
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

    [Fact]
    public void Compiling_a_three_channel_image_network_is_refused_in_one_line_until_the_host_writes_hwc()
    {
        string path = Save(ResNet18.Build(seed: 3, width: 2));
        string calibration = Path.ChangeExtension(path, ".npy");
        try
        {
            Npy.Write(calibration, new NdArray([4, 3, ResNet18.InputSize, ResNet18.InputSize], Random(4 * 3 * ResNet18.InputSize * ResNet18.InputSize, 5, 1f)));
            (int exit, string output, string error) = Cli.CliRunner.Run("compile", path, "--arch", "isaac", "--calibration-data", calibration,
                "-o", Path.Combine(Path.GetTempPath(), Path.GetRandomFileName()));
            Assert.Equal(1, exit);
            Assert.Equal("", output);
            string line = Assert.Single(error.TrimEnd().Split('\n'));
            Assert.Contains("3 channels", line);
            Assert.Contains("not compiled yet", line);
        }
        finally
        {
            File.Delete(path);
            File.Delete(calibration);
        }
    }
}
