using Cimc.Data;
using Cimc.Import;
using Cimc.Import.Onnx.Proto;
using Cimc.Ir;
using Cimc.Reference;
using static Cimc.Tests.Import.OnnxModels;

namespace Cimc.Tests.Import;

/// <summary>
/// Random convolutional ONNX models (kernel 1-5, stride 1-2, padding 0-2 and auto_pad, dilation,
/// groups and depthwise, batch norm, max and average pooling with and without ceil mode and
/// padding counted, Pad, residual add, concat, global average pool, opsets 9 to 21), imported by
/// cimc and run by its float reference, must equal ONNX Runtime within 1e-4.
/// </summary>
public sealed class ConvDifferentialTests
{
    public static TheoryData<int> Seeds() => [.. Enumerable.Range(0, 64)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void A_random_convolutional_model_computes_what_onnx_runtime_computes(int seed)
    {
        var net = new RandomConvNet(seed);
        ModelProto model = net.Build();
        string path = Save(model);
        try
        {
            var input = new NdArray([2, net.InputChannels, net.InputHeight, net.InputWidth], Random(2 * net.InputChannels * net.InputHeight * net.InputWidth, seed + 1000));
            Graph graph = ModelLoader.Load(path);
            Assert.Empty(GraphVerifier.Verify(graph));
            Assert.DoesNotContain(graph.Nodes, n => n.Op is Identity);
            float[] ours = FloatExecutor.Run(graph, input).Data;
            Close.Assert(OnnxRuntimeOracle.Run(path, input), ours);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>One random network: conv [+ batch norm] + activation [+ pool] [+ residual add or concat] then a head.</summary>
    private sealed class RandomConvNet
    {
        private readonly Random _rng;
        private readonly List<NodeProto> _nodes = [];
        private readonly List<TensorProto> _inits = [];
        private int _c, _h, _w, _next;

        public RandomConvNet(int seed)
        {
            _rng = new Random(seed);
            Opset = new long[] { 9, 11, 13, 15, 17, 19, 21 }[_rng.Next(7)];
            InputChannels = _rng.Next(1, 5);
            InputHeight = _rng.Next(6, 13);
            InputWidth = _rng.Next(6, 13);
            (_c, _h, _w) = (InputChannels, InputHeight, InputWidth);
        }

        public long Opset { get; }

        public int InputChannels { get; }

        public int InputHeight { get; }

        public int InputWidth { get; }

        public ModelProto Build()
        {
            string x = Conv("x", allowAutoPad: true);
            if (_rng.Next(2) == 0)
            {
                x = BatchNorm(x);
            }

            x = _rng.Next(3) == 0 ? Op("Clip", [x, .. ClipBounds()]) : Op("Relu", [x]);
            if (_rng.Next(4) != 0)
            {
                x = Pool(x);
            }

            int branch = _rng.Next(3);
            if (branch > 0)
            {
                // A shape-preserving 3x3 convolution beside the identity: a residual add, or a concat on channels.
                int c = _c;
                string f = Conv(x, allowAutoPad: false, same: true);
                x = branch == 1 ? Op("Add", [x, f]) : Op("Concat", [x, f], Int("axis", 1));
                _c = branch == 1 ? c : c + _c;
            }

            x = _rng.Next(2) == 0 ? Op("GlobalAveragePool", [x]) : x;
            if (x.StartsWith("GlobalAveragePool", StringComparison.Ordinal))
            {
                (_h, _w) = (1, 1);
            }

            x = Op("Flatten", [x], Int("axis", 1));
            int features = _c * _h * _w;
            string w = Init([3, features], 0.3f), b = Init([3], 0.1f);
            _nodes.Add(Node("Gemm", [x, w, b], ["y"], "head", Int("transB", 1)));
            return Model(_nodes, _inits, [-1, InputChannels, InputHeight, InputWidth], opset: Opset);
        }

        private string Conv(string x, bool allowAutoPad, bool same = false)
        {
            bool depthwise = !same && _c > 1 && _rng.Next(4) == 0;
            int outC = depthwise ? _c * _rng.Next(1, 3) : same ? _c : _rng.Next(1, 9);
            int group = depthwise ? _c : 1;
            int k = same ? 3 : _rng.Next(1, 6), stride = same ? 1 : _rng.Next(1, 3), dilation = same ? 1 : _rng.Next(1, 3);
            int[] pads = same ? [1, 1, 1, 1] : [_rng.Next(3), _rng.Next(3), _rng.Next(3), _rng.Next(3)];
            if (Math.Min(_h + pads[0] + pads[2], _w + pads[1] + pads[3]) < (dilation * (k - 1)) + 1)
            {
                (k, dilation) = (1, 1);
            }

            var attributes = new List<AttributeProto> { Ints("kernel_shape", k, k), Ints("strides", stride, stride), Ints("dilations", dilation, dilation), Int("group", group) };
            string autoPad = allowAutoPad && _rng.Next(4) == 0 ? new[] { "SAME_UPPER", "SAME_LOWER", "VALID" }[_rng.Next(3)] : "NOTSET";
            if (autoPad.StartsWith("SAME", StringComparison.Ordinal))
            {
                // ONNX Runtime refuses dilation with SAME padding.
                attributes[2] = Ints("dilations", 1, 1);
                dilation = 1;
            }

            if (autoPad == "NOTSET")
            {
                attributes.Add(Ints("pads", pads[0], pads[1], pads[2], pads[3]));
                (_h, _w) = (Out(_h, k, stride, pads[0] + pads[2], dilation), Out(_w, k, stride, pads[1] + pads[3], dilation));
            }
            else
            {
                attributes.Add(Text("auto_pad", autoPad));
                (_h, _w) = autoPad == "VALID"
                    ? (Out(_h, k, stride, 0, dilation), Out(_w, k, stride, 0, dilation))
                    : ((_h + stride - 1) / stride, (_w + stride - 1) / stride);
            }

            string w = Init([outC, _c / group, k, k], 0.5f);
            string[] inputs = _rng.Next(3) == 0 ? [x, w] : [x, w, Init([outC], 0.2f)];
            _c = outC;
            return Op("Conv", inputs, [.. attributes]);
        }

        private string BatchNorm(string x)
        {
            float[] variance = [.. Random(_c, _rng.Next(), 0.5f).Select(v => v + 1f)];
            string var = Name("var");
            _inits.Add(Floats(var, [_c], variance));
            return Op("BatchNormalization", [x, Init([_c], 1f), Init([_c], 0.3f), Init([_c], 0.3f), var], Float("epsilon", 1e-3f));
        }

        private string[] ClipBounds()
        {
            if (Opset < 11)
            {
                return [];
            }

            string lo = Name("lo"), hi = Name("hi");
            _inits.Add(Floats(lo, [], [0f]));
            _inits.Add(Floats(hi, [], [0.5f]));
            return [lo, hi];
        }

        private string Pool(string x)
        {
            int kind = _rng.Next(3);
            int k = Math.Min(_rng.Next(1, 4), Math.Min(_h, _w)), stride = _rng.Next(1, 3);
            int[] pads = [.. Enumerable.Range(0, 4).Select(_ => _rng.Next(k / 2 + 1))];
            bool ceil = Opset >= 10 && _rng.Next(2) == 0;
            var attributes = new List<AttributeProto> { Ints("kernel_shape", k, k), Ints("strides", stride, stride), Ints("pads", pads[0], pads[1], pads[2], pads[3]) };
            if (Opset >= 10)
            {
                attributes.Add(Int("ceil_mode", ceil ? 1 : 0));
            }

            string op = kind == 0 ? "MaxPool" : "AveragePool";
            if (kind == 1)
            {
                attributes.Add(Int("count_include_pad", _rng.Next(2)));
            }
            else if (kind == 2)
            {
                // Zeros padded by a Pad node count in the mean, as PyTorch's AvgPool2d export relies on.
                // (ONNX Runtime fuses the Pad into the pool and needs each pad below the kernel.)
                int[] extra = [.. Enumerable.Range(0, 4).Select(_ => Math.Min(_rng.Next(2), k - 1))];
                x = Opset < 11
                    ? Op("Pad", [x], Ints("pads", 0, 0, extra[0], extra[1], 0, 0, extra[2], extra[3]))
                    : Op("Pad", [x, PadsInit(extra)]);
                _h += extra[0] + extra[2];
                _w += extra[1] + extra[3];
                attributes[2] = Ints("pads", 0, 0, 0, 0);
                pads = [0, 0, 0, 0];
            }

            if (ceil && (PoolOut(_h, k, stride, pads[0], pads[2] + stride - 1, false) != PoolOut(_h, k, stride, pads[0], pads[2], true)
                || PoolOut(_w, k, stride, pads[1], pads[3] + stride - 1, false) != PoolOut(_w, k, stride, pads[1], pads[3], true)))
            {
                // A last window past the input: PyTorch and ONNX Runtime disagree, and cimc refuses it.
                ceil = false;
                attributes[3] = Int("ceil_mode", 0);
            }

            (_h, _w) = (PoolOut(_h, k, stride, pads[0], pads[2], ceil), PoolOut(_w, k, stride, pads[1], pads[3], ceil));
            return Op(op, [x], [.. attributes]);
        }

        private string PadsInit(int[] extra)
        {
            string name = Name("pads");
            _inits.Add(Longs(name, 0, 0, extra[0], extra[1], 0, 0, extra[2], extra[3]));
            return name;
        }

        private static int Out(int size, int k, int stride, int pads, int dilation) => ((size + pads - (dilation * (k - 1)) - 1) / stride) + 1;

        private static int PoolOut(int size, int k, int stride, int begin, int end, bool ceil)
        {
            int room = size + begin + end - k;
            int steps = ceil ? (room + stride - 1) / stride : room / stride;
            if (ceil && steps * stride >= size + begin)
            {
                steps--;
            }

            return steps + 1;
        }

        private string Op(string op, string[] inputs, params AttributeProto[] attributes)
        {
            string output = Name(op);
            _nodes.Add(Node(op, inputs, [output], output, attributes));
            return output;
        }

        private string Init(long[] dims, float scale)
        {
            string name = Name("w");
            _inits.Add(Floats(name, dims, Random((int)dims.Aggregate(1L, (a, b) => a * b), _rng.Next(), scale)));
            return name;
        }

        private string Name(string stem) => $"{stem}{_next++}";
    }
}
