using System.Text;
using Cimc.Architectures;
using Cimc.Data;
using Cimc.Evaluation;
using Cimc.Import;
using Cimc.Ir;
using Cimc.Simulation;
using Microsoft.ML.OnnxRuntime;

namespace Cimc.Bench;

/// <summary>
/// Case 4: the batched simulator against ONNX Runtime's float inference of the same model
/// (examples/fashion-mnist/mlp.onnx) on the same 10,000 test images, measured in one run. Issue 5
/// asks for at most 3x where the ADC cannot saturate and at most 10x where it can. ONNX Runtime
/// runs the whole set as one batch with its default threads; the simulator's Run includes quantize
/// and dequantize. Returns a markdown section.
/// </summary>
public static class OnnxRuntimeBench
{
    public static string Run(Settings settings, string root, TextWriter log)
    {
        string dir = Path.Combine(root, "examples", "fashion-mnist");
        string model = Path.Combine(dir, "mlp.onnx");
        Graph graph = ModelLoader.Load(model);
        NdArray calibration = DataFiles.ReadArray(Path.Combine(dir, "calibration.npy"));
        NdArray images = DataFiles.ReadArray(Path.Combine(dir, "t10k-images-idx3-ubyte.gz")).DivideBy(255f);
        Labels labels = DataFiles.ReadLabels(Path.Combine(dir, "t10k-labels-idx1-ubyte.gz"));
        images = images.Reshape(images.Rows, images.RowLength);

        Timing ort = OnnxRuntimeTime(model, images, settings);
        var md = new StringBuilder();
        md.Append($"## 4. Fast simulator vs ONNX Runtime (Fashion-MNIST, {images.Rows} images)\n\n");
        md.Append("| configuration | time, s: median (min) | simulator / ONNX Runtime | accuracy | batched path |\n|---|---:|---:|---:|---|\n");
        md.Append($"| ONNX Runtime, float | {ort.Median:F3} ({ort.Min:F3}) | 1.00 | | |\n");
        Architecture isaac = ArchitectureCatalog.Preset("isaac"), edge = ArchitectureCatalog.Preset("edge");
        (string Name, Architecture Arch)[] configs =
        [
            ("isaac 8/8, 12-bit ADC (cannot saturate)", isaac.With(adcBits: 12)),
            ("isaac 8/8 (can saturate)", isaac),
            ("edge 8/8", edge),
        ];
        foreach ((string name, Architecture arch) in configs)
        {
            log.WriteLine($"  simulate {name} ...");
            Compilation c = Compiler.Compile(graph, arch, Compiler.OptionsFor(arch, 8, 8), calibration);
            var simulator = new FunctionalSimulator(c.Program!, c.Weights!);
            NdArray outputs = null!;
            Timing t = Measure.Time(() => outputs = simulator.Run(images), settings.SimWarmups, settings.SimRepetitions);
            AccuracyResult accuracy = Accuracy.Evaluate(_ => outputs, images, labels, chunk: images.Rows);
            md.Append($"| {name} | {t.Median:F3} ({t.Min:F3}) | {t.Median / ort.Median:F2} | {accuracy.Accuracy:P2} | {simulator.BatchPathSummary()} |\n");
        }

        log.WriteLine(md.ToString());
        return md.ToString();
    }

    public static Timing OnnxRuntimeTime(string model, NdArray x, Settings settings) => OnnxRuntimeRun(model, x, settings).Time;

    /// <summary>
    /// ONNX Runtime's float inference of the whole batch at once with its default threads, timed; and
    /// its outputs. Data of a rank other than the model's keeps its batch and takes the rest of the
    /// shape from the model (IDX images [N, 28, 28] for a [N, 1, 28, 28] input).
    /// </summary>
    public static (Timing Time, float[] Outputs) OnnxRuntimeRun(string model, NdArray x, Settings settings)
    {
        using var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        using var session = new InferenceSession(model, options);
        (string name, NodeMetadata meta) = session.InputMetadata.Single();
        long[] shape = meta.Dimensions.Length == x.Rank ? [.. x.Shape.Select(d => (long)d)] : [x.Rows, .. meta.Dimensions.Skip(1).Select(d => (long)d)];
        string outputName = session.OutputMetadata.Keys.Single();
        using OrtValue value = OrtValue.CreateTensorValueFromMemory(x.Data, shape);
        using var runOptions = new RunOptions();
        float[] outputs = [];
        Timing time = Measure.Time(() =>
        {
            using IDisposableReadOnlyCollection<OrtValue> results = session.Run(runOptions, [name], [value], [outputName]);
            outputs = results[0].GetTensorDataAsSpan<float>().ToArray();
        }, settings.SimWarmups + 2, settings.SimRepetitions + 4);
        return (time, outputs);
    }
}
