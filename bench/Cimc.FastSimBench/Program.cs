using System.Diagnostics;
using Cimc;
using Cimc.Architectures;
using Cimc.Data;
using Cimc.Evaluation;
using Cimc.Import;
using Cimc.Ir;
using Cimc.Reference;
using Cimc.Simulation;
using Microsoft.ML.OnnxRuntime;

// The fast simulator against ONNX Runtime's float inference of the same model on the same 10,000
// Fashion-MNIST test images, in one process: issue 5 asks for at most 3x on configurations that
// cannot saturate the ADC and at most 10x on ones that can. Times are the median of several runs
// after a warm-up; ratios are simulator / ONNX Runtime.
// Run: dotnet run -c Release --project bench/Cimc.FastSimBench
TextWriter output = Console.Out;
string root = args.Length > 0 ? args[0] : FindRoot();
string example = Path.Combine(root, "examples", "fashion-mnist");
NdArray images = Idx.Read(Path.Combine(example, "t10k-images-idx3-ubyte.gz")).DivideBy(255f);
Labels labels = Idx.ReadLabels(Path.Combine(example, "t10k-labels-idx1-ubyte.gz"));
NdArray flat = new([images.Rows, images.RowLength], images.Data);
NdArray calibration = Npy.Read(Path.Combine(example, "calibration.npy"));
string onnx = Path.Combine(example, "mlp.onnx");
Graph graph = ModelLoader.Load(onnx, new ImportOptions(null));
output.WriteLine($"examples/fashion-mnist/mlp.onnx, {flat.Rows} test images, {Environment.ProcessorCount} cores");

double ort = OnnxRuntimeTime(onnx, flat, output);
output.WriteLine($"{"ONNX Runtime (float)",-44} {ort,9:F1} ms   1.00x");
double reference = Median(3, () => FloatExecutor.Run(graph, flat));
output.WriteLine($"{"cimc float reference",-44} {reference,9:F1} ms  {reference / ort,5:F2}x");

Architecture isaac = ArchitectureCatalog.Preset("isaac"), edge = ArchitectureCatalog.Preset("edge");
(string Name, Architecture Arch)[] configs =
[
    ("isaac 8/8, 12-bit ADC (cannot saturate)", isaac.With(adcBits: 12)),
    ("isaac 8/8 (8-bit ADC, can saturate)", isaac),
    ("edge 8/8", edge),
];
foreach ((string name, Architecture arch) in configs)
{
    Compilation c = Compiler.Compile(graph, arch, Compiler.OptionsFor(arch, 8, 8), calibration);
    var sim = new FunctionalSimulator(c.Program!, c.Weights!);
    sim.Run(new NdArray([256, flat.RowLength], flat.Data.AsSpan(0, 256 * flat.RowLength).ToArray()));
    NdArray? outputs = null;
    double ms = Median(3, () => outputs = sim.Run(flat));
    AccuracyResult accuracy = Accuracy.Evaluate(_ => outputs!, flat, labels, chunk: flat.Rows);
    output.WriteLine($"{"simulator " + name,-44} {ms,9:F1} ms  {ms / ort,5:F2}x   accuracy {accuracy.Accuracy:P2}  {sim.BatchPathSummary()}");
}

static double OnnxRuntimeTime(string model, NdArray x, TextWriter output)
{
    using var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
    using var session = new InferenceSession(model, options);
    (string name, NodeMetadata meta) = session.InputMetadata.Single();
    long[] shape = meta.Dimensions.Length == 2 ? [x.Rows, x.RowLength] : [x.Rows, .. meta.Dimensions.Skip(1).Select(d => (long)d)];
    string outputName = session.OutputMetadata.Keys.Single();
    using OrtValue value = OrtValue.CreateTensorValueFromMemory(x.Data, shape);
    using var runOptions = new RunOptions();
    return Median(7, () =>
    {
        using IDisposableReadOnlyCollection<OrtValue> results = session.Run(runOptions, [name], [value], [outputName]);
    });
}

static double Median(int runs, Action action)
{
    action();
    var times = new List<double>();
    for (int i = 0; i < runs; i++)
    {
        var watch = Stopwatch.StartNew();
        action();
        times.Add(watch.Elapsed.TotalMilliseconds);
    }

    times.Sort();
    return times[runs / 2];
}

static string FindRoot()
{
    for (string? dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
    {
        if (File.Exists(Path.Combine(dir, "Cimc.slnx")))
        {
            return dir;
        }
    }

    throw new InvalidOperationException("run from inside the cimc repository, or pass its path");
}
