using Cimc.Import.Onnx.Proto;
using Google.Protobuf;
using static Cimc.Bench.OnnxBuild;

namespace Cimc.Bench;

/// <summary>
/// PUMA's MLP-L4 (Ankit et al., ASPLOS 2019): 1024-1024-2048-1024-10, sigmoid between layers, no
/// bias, written as ONNX the way torch.onnx.export writes nn.Linear: Gemm with weights [out, in] and
/// transB=1, a dynamic batch dimension. Weights are uniform in +-1/sqrt(in) (PyTorch's default
/// scale) from a fixed seed, so every run compiles the same model.
/// </summary>
public static class MlpL4
{
    public static readonly int[] Widths = [1024, 1024, 2048, 1024, 10];

    public static string Describe => string.Join("-", Widths) + ", sigmoid, no bias";

    public static ModelProto Build(int seed)
    {
        var rng = new Random(seed);
        var graph = new GraphProto { Name = "mlp_l4" };
        string x = "input";
        for (int l = 0; l + 1 < Widths.Length; l++)
        {
            int inF = Widths[l], outF = Widths[l + 1];
            string w = $"fc{l + 1}.weight";
            graph.Initializer.Add(Floats(w, [outF, inF], Uniform(rng, outF * inF, 1f / MathF.Sqrt(inF))));
            bool last = l + 2 == Widths.Length;
            string y = last ? "output" : $"/fc{l + 1}/Gemm_output_0";
            graph.Node.Add(Node("Gemm", [x, w], y, $"/fc{l + 1}/Gemm", Int("transB", 1)));
            if (!last)
            {
                string s = $"/act{l + 1}/Sigmoid_output_0";
                graph.Node.Add(Node("Sigmoid", [y], s, $"/act{l + 1}/Sigmoid"));
                y = s;
            }

            x = y;
        }

        graph.Input.Add(Value("input", Widths[0]));
        graph.Output.Add(Value("output", Widths[^1]));
        return Model(graph, opset: 17);
    }

    /// <summary>Writes the model to a fresh temporary file; the caller deletes it.</summary>
    public static string Save(int seed)
    {
        string path = Path.Combine(Path.GetTempPath(), $"cimc-bench-mlp-l4-{Environment.ProcessId}.onnx");
        File.WriteAllBytes(path, Build(seed).ToByteArray());
        return path;
    }

    /// <summary>Random calibration samples in [0, 1), the range of the sigmoid activations inside the model.</summary>
    public static Data.NdArray Calibration(int samples, int seed)
    {
        var rng = new Random(seed);
        var data = new float[samples * Widths[0]];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (float)rng.NextDouble();
        }

        return new Data.NdArray([samples, Widths[0]], data);
    }
}
