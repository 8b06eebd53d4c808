using Cimc.Import.Onnx.Proto;
using Google.Protobuf;
using static Cimc.Bench.OnnxBuild;

namespace Cimc.Bench;

/// <summary>
/// A CIFAR-style ResNet-18 (He et al., CVPR 2016; the 3 x 32 x 32 form of the pytorch-cifar
/// repositories) written as ONNX the way torch.onnx.export writes it in training=False without
/// constant folding: a 3x3 stem of <c>width</c> channels, four stages of two BasicBlocks of width, 2x,
/// 4x and 8x channels (stride 2 into stages 2-4, with a 1x1 projection shortcut there), Conv without
/// bias -> BatchNormalization -> Relu, the residual Add then Relu, GlobalAveragePool, Flatten and a
/// Gemm to the classes. At width 64 it holds 11,164,352 conv and dense weights (plus BN and biases).
///
/// Weights are random from a fixed seed and scaled so the float activations stay of order one through
/// the 18 layers, as in a trained network: conv weights normal with He's fan-in variance 2/fan_in, the
/// batch norms' running statistics near what those weights produce (mean near 0, variance near 1), a
/// scale below one on each block's last batch norm so the residual sums do not double at every block.
/// No Python is needed: tests run a narrow width through ONNX Runtime, the bench the full one.
/// </summary>
public static class ResNet18
{
    public const int FullWidth = 64;

    public const int InputSize = 32;

    public static string Describe(int width) =>
        $"CIFAR ResNet-18, 3x{InputSize}x{InputSize}, stages {width}/{2 * width}/{4 * width}/{8 * width}, batch norm, 10 classes";

    public static ModelProto Build(int seed, int width = FullWidth, int classes = 10) => new Writer(seed).Build(width, classes);

    /// <summary>Writes the model to PATH and returns its number of conv and dense weights.</summary>
    public static long Write(string path, int seed, int width = FullWidth)
    {
        ModelProto model = Build(seed, width);
        using (FileStream file = File.Create(path))
        {
            model.WriteTo(file);
        }

        return WeightCount(model);
    }

    /// <summary>
    /// Random images [N, 3, 32, 32] with values in [0, 1) (ToTensor's range), from a fixed seed. cimc
    /// quantizes a convolutional network from calibration samples, so the bench writes these as the
    /// calibration.npy beside the model, where `cimc compile` finds them.
    /// </summary>
    public static Data.NdArray RandomImages(int count, int seed)
    {
        var rng = new Random(seed);
        var data = new float[count * 3 * InputSize * InputSize];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (float)rng.NextDouble();
        }

        return new Data.NdArray([count, 3, InputSize, InputSize], data);
    }

    /// <summary>Conv and Gemm weights (not biases or batch-norm constants).</summary>
    public static long WeightCount(ModelProto model)
    {
        var weights = model.Graph.Node.Where(n => n.OpType is "Conv" or "Gemm").Select(n => n.Input[1]).ToHashSet();
        return model.Graph.Initializer.Where(t => weights.Contains(t.Name)).Sum(t => t.Dims.Aggregate(1L, (a, b) => a * b));
    }

    private sealed class Writer(int seed)
    {
        private readonly Random _rng = new(seed);
        private readonly GraphProto _graph = new() { Name = "resnet18" };

        public ModelProto Build(int width, int classes)
        {
            string x = ConvBn("input", "conv1", "bn1", 3, width, 3, 1, relu: true, bnScale: 1f);
            int c = width;
            for (int stage = 0; stage < 4; stage++)
            {
                int outC = width << stage;
                for (int block = 0; block < 2; block++)
                {
                    int stride = stage > 0 && block == 0 ? 2 : 1;
                    x = BasicBlock(x, $"layer{stage + 1}.{block}", c, outC, stride);
                    c = outC;
                }
            }

            string pooled = Add("GlobalAveragePool", [x], "/avgpool/GlobalAveragePool");
            string flat = Add("Flatten", [pooled], "/Flatten", Int("axis", 1));
            _graph.Initializer.Add(Floats("fc.weight", [classes, c], Uniform(_rng, classes * c, 1f / MathF.Sqrt(c))));
            _graph.Initializer.Add(Floats("fc.bias", [classes], Uniform(_rng, classes, 1f / MathF.Sqrt(c))));
            _graph.Node.Add(Node("Gemm", [flat, "fc.weight", "fc.bias"], "output", "/fc/Gemm", Float("alpha", 1f), Float("beta", 1f), Int("transB", 1)));
            _graph.Input.Add(Value("input", 3, InputSize, InputSize));
            _graph.Output.Add(Value("output", classes));
            return Model(_graph, opset: 13);
        }

        /// <summary>relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), the shortcut a 1x1 conv + bn when the shape changes.</summary>
        private string BasicBlock(string x, string prefix, int inC, int outC, int stride)
        {
            string h = ConvBn(x, $"{prefix}.conv1", $"{prefix}.bn1", inC, outC, 3, stride, relu: true, bnScale: 1f);
            h = ConvBn(h, $"{prefix}.conv2", $"{prefix}.bn2", outC, outC, 3, 1, relu: false, bnScale: 0.5f);
            string shortcut = stride != 1 || inC != outC
                ? ConvBn(x, $"{prefix}.shortcut.0", $"{prefix}.shortcut.1", inC, outC, 1, stride, relu: false, bnScale: 0.5f)
                : x;
            string sum = Add("Add", [h, shortcut], $"/{prefix.Replace('.', '/')}/Add");
            return Add("Relu", [sum], $"/{prefix.Replace('.', '/')}/Relu_1");
        }

        private string ConvBn(string x, string conv, string bn, int inC, int outC, int k, int stride, bool relu, float bnScale)
        {
            int fanIn = inC * k * k;
            _graph.Initializer.Add(Floats($"{conv}.weight", [outC, inC, k, k], Normal(outC * fanIn, MathF.Sqrt(2f / fanIn))));
            string path = "/" + conv.Replace('.', '/');
            int pad = k / 2;
            string y = Add("Conv", [x, $"{conv}.weight"], $"{path}/Conv",
                Ints("dilations", 1, 1), Int("group", 1), Ints("kernel_shape", k, k), Ints("pads", pad, pad, pad, pad), Ints("strides", stride, stride));

            // Running statistics near those of a He-initialised conv's output; weight (gamma) and bias (beta) near a trained net's.
            string[] names = [$"{bn}.weight", $"{bn}.bias", $"{bn}.running_mean", $"{bn}.running_var"];
            _graph.Initializer.Add(Floats(names[0], [outC], Around(outC, bnScale, 0.2f * bnScale)));
            _graph.Initializer.Add(Floats(names[1], [outC], Around(outC, 0f, 0.1f)));
            _graph.Initializer.Add(Floats(names[2], [outC], Around(outC, 0f, 0.2f)));
            _graph.Initializer.Add(Floats(names[3], [outC], Around(outC, 1f, 0.4f)));
            string bnPath = "/" + bn.Replace('.', '/');
            y = Add("BatchNormalization", [y, .. names], $"{bnPath}/BatchNormalization", Float("epsilon", 1e-5f), Float("momentum", 0.9f));
            return relu ? Add("Relu", [y], $"{bnPath}/Relu") : y;
        }

        /// <summary>Adds a node named NAME whose one output is NAME_output_0 (torch.onnx.export's naming).</summary>
        private string Add(string op, string[] inputs, string name, params AttributeProto[] attributes)
        {
            string output = $"{name}_output_0";
            _graph.Node.Add(Node(op, inputs, output, name, attributes));
            return output;
        }

        /// <summary>Values uniform in centre +- spread.</summary>
        private float[] Around(int count, float centre, float spread) => [.. Uniform(_rng, count, spread).Select(v => centre + v)];

        /// <summary>Normal values of standard deviation std (Box-Muller).</summary>
        private float[] Normal(int count, float std)
        {
            var values = new float[count];
            for (int i = 0; i < count; i += 2)
            {
                double u = 1.0 - _rng.NextDouble(), v = _rng.NextDouble();
                double r = Math.Sqrt(-2.0 * Math.Log(u)) * std;
                values[i] = (float)(r * Math.Cos(2 * Math.PI * v));
                if (i + 1 < count)
                {
                    values[i + 1] = (float)(r * Math.Sin(2 * Math.PI * v));
                }
            }

            return values;
        }
    }
}
