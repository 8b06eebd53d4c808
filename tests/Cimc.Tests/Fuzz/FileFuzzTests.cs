using System.IO.Compression;
using System.Text;
using Cimc.Data;
using Xunit.Abstractions;

namespace Cimc.Tests.Fuzz;

/// <summary>
/// A few hundred deterministic mutations of each shipped format (ONNX, TorchScript archive,
/// state_dict, whole module, .npy, IDX, CSV, architecture JSON, program.bin and weights.bin,
/// program.asm), each run through the
/// command a user would run on it, in-process. Every case must end with exit 0, or with one error
/// line and exit 1, in bounded time and memory (<see cref="FuzzHarness"/>). CIMC_FUZZ_SCALE=N runs
/// N times as many cases (the same first ones, then more) for a longer search.
/// </summary>
public sealed class FileFuzzTests : IDisposable
{
    private readonly ITestOutputHelper _log;
    private readonly string _dir = Directory.CreateTempSubdirectory("cimc-fuzz-").FullName;

    public FileFuzzTests(ITestOutputHelper log) => _log = log;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string> Formats() =>
        ["onnx", "torchscript", "state_dict", "module", "npy", "idx", "csv", "architecture", "program", "assembly"];

    [Theory]
    [MemberData(nameof(Formats))]
    public void Every_mutated_file_ends_in_success_or_one_error_line_within_time_and_memory(string format)
    {
        FuzzTarget target = Target(format);
        FuzzOutcome outcome = FuzzHarness.Run(target with { Cases = target.Cases * int.Parse(Environment.GetEnvironmentVariable("CIMC_FUZZ_SCALE") ?? "1", System.Globalization.CultureInfo.InvariantCulture) });
        _log.WriteLine($"{format}: {outcome.Cases} cases, {outcome.Accepted} accepted, {outcome.Refused} refused; "
            + $"slowest {outcome.MaxCaseTime.TotalMilliseconds:F0} ms, most allocated {outcome.MaxAllocatedBytes / (1 << 20)} MiB");
        foreach (string refusal in outcome.SampleRefusals)
        {
            _log.WriteLine("  e.g. " + refusal);
        }

        Assert.True(outcome.Failures.Count == 0, string.Join('\n', outcome.Failures.Take(15)) + $"\n({outcome.Failures.Count} failures)");

        // Mutations that all fail at the first byte would test nothing: some must get through.
        Assert.InRange(outcome.Refused, outcome.Cases / 10, outcome.Cases);
    }

    private FuzzTarget Target(string format) => format switch
    {
        "onnx" => ModelTarget(format, 300, OnnxMutations.Any, ["onnx_softmax", "onnx_matmul_add", "onnx_float16_cast", "qdq/qdq_per_tensor", Conv + "resnet"], ".onnx"),
        "torchscript" => ModelTarget(format, 200, ZipMutations.Any, ["ts_seq_trace", "ts_func_script", Conv + "resnet.scripted"], ".pt"),
        "state_dict" => ModelTarget(format, 250, ZipMutations.Any, ["sd_relu", "torch-extra/sd_legacy", "sd_relu@deflated"], ".pt", "--activation", "relu"),
        "module" => ModelTarget(format, 200, ZipMutations.Any, ["module_relu", "torch-extra/module_legacy", "module_relu@deflated"], ".pt"),
        "npy" => NpyTarget(),
        "idx" => IdxTarget(),
        "csv" => CsvTarget(),
        "architecture" => ArchitectureTarget(),
        "program" => ProgramTarget(),
        "assembly" => AssemblyTarget(),
        _ => throw new ArgumentException(format),
    };

    /// <summary>A seed from the shipped convolutional examples rather than tests/fixtures.</summary>
    private const string Conv = "example:";

    /// <summary>
    /// A model format: `inspect`, then `compile` with the fixture's input as calibration.npy beside
    /// the model. "name@deflated" is the fixture's archive with every entry deflated; "example:name"
    /// is a convolutional example (compile refuses it, so inspect and the importer do the work).
    /// </summary>
    private FuzzTarget ModelTarget(string format, int cases, Func<Random, byte[], (byte[], string)> structured, string[] fixtures, string extension, params string[] extra)
    {
        var seeds = new List<byte[]>();
        for (int k = 0; k < fixtures.Length; k++)
        {
            string[] parts = fixtures[k].Split('@');
            bool example = parts[0].StartsWith(Conv, StringComparison.Ordinal);
            byte[] bytes = File.ReadAllBytes(example
                ? Path.Combine(TestPaths.Examples, "fashion-mnist", parts[0][Conv.Length..] + extension)
                : TestPaths.Fixture(parts[0] + extension));
            seeds.Add(parts.Length > 1 ? ZipMutations.Deflated(bytes) : bytes);
            string folder = Directory.CreateDirectory(Path.Combine(_dir, format, $"seed{k}")).FullName;
            string input = parts[0] switch
            {
                _ when example => Path.Combine(TestPaths.Examples, "fashion-mnist", "sample_images.npy"),
                "qdq/qdq_per_tensor" => TestPaths.Fixture("qdq/qdq_input.npy"),
                string n when n.StartsWith("ts_", StringComparison.Ordinal) => TestPaths.Fixture(n[..n.LastIndexOf('_')] + "_input.npy"),
                string n => TestPaths.Fixture(n + "_input.npy"),
            };
            if (File.Exists(input))
            {
                File.Copy(input, Path.Combine(folder, "calibration.npy"));
            }
        }

        string PathOf(int k) => Path.Combine(_dir, format, $"seed{k}", "model" + extension);
        return new FuzzTarget(format, cases, seeds, structured, PathOf, (k, path) =>
        [
            ["inspect", path, .. extra],
            ["compile", path, "--arch", "isaac", "-o", Path.Combine(_dir, format, $"seed{k}", "out"), .. extra],
        ]);
    }

    private FuzzTarget NpyTarget()
    {
        string model = TestPaths.Fixture("onnx_softmax.onnx");
        string output = Path.Combine(_dir, "y.npy");
        byte[][] seeds = [File.ReadAllBytes(TestPaths.Fixture("onnx_softmax_input.npy")), File.ReadAllBytes(TestPaths.Fixture("module_relu_input.npy"))];
        return new FuzzTarget("npy", 200, seeds, null, k => Path.Combine(_dir, $"x{k}.npy"), (k, path) =>
            [["infer", k == 0 ? model : TestPaths.Fixture("module_relu.pt"), "--input", path, "--output", output]]);
    }

    /// <summary>The first 20 Fashion-MNIST test images and labels as raw and gzip IDX files.</summary>
    private FuzzTarget IdxTarget()
    {
        byte[] images = Ungzip(Path.Combine(TestPaths.Examples, "fashion-mnist", "t10k-images-idx3-ubyte.gz"), 16 + (20 * 784));
        byte[] labels = Ungzip(Path.Combine(TestPaths.Examples, "fashion-mnist", "t10k-labels-idx1-ubyte.gz"), 8 + 20);
        images[7] = 20;
        images[4] = images[5] = images[6] = 0;
        labels[7] = 20;
        labels[4] = labels[5] = labels[6] = 0;
        string imagesPath = Path.Combine(_dir, "images.idx"), labelsPath = Path.Combine(_dir, "labels.idx");
        File.WriteAllBytes(imagesPath, images);
        File.WriteAllBytes(labelsPath, labels);
        string model = Path.Combine(TestPaths.Examples, "fashion-mnist", "mlp.onnx");
        byte[][] seeds = [images, Gzip(images), labels, Gzip(labels)];
        return new FuzzTarget("idx", 200, seeds, null, k => Path.Combine(_dir, $"fuzz{k}.idx"), (k, path) =>
            [["accuracy", model, "--images", k < 2 ? path : imagesPath, "--labels", k < 2 ? labelsPath : path, "--divide-by", "255"]]);
    }

    private FuzzTarget CsvTarget()
    {
        NdArray x = Npy.Read(TestPaths.Fixture("onnx_softmax_input.npy"));
        var rows = new StringBuilder();
        rows.AppendLine(string.Join(',', Enumerable.Range(0, x.RowLength).Select(i => $"f{i}")));
        for (int r = 0; r < x.Rows; r++)
        {
            rows.AppendLine(string.Join(',', x.Data.Skip(r * x.RowLength).Take(x.RowLength).Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture))));
        }

        string labels = string.Concat(Enumerable.Range(0, x.Rows).Select(r => $"{r % 2}\n"));
        string imagesPath = Path.Combine(_dir, "images.csv"), labelsPath = Path.Combine(_dir, "labels.csv");
        File.WriteAllText(imagesPath, rows.ToString());
        File.WriteAllText(labelsPath, labels);
        string model = TestPaths.Fixture("onnx_softmax.onnx");
        byte[][] seeds = [Encoding.UTF8.GetBytes(rows.ToString()), Encoding.UTF8.GetBytes(labels)];
        return new FuzzTarget("csv", 150, seeds, null, k => Path.Combine(_dir, $"fuzz{k}.csv"), (k, path) =>
            [["accuracy", model, "--images", k == 0 ? path : imagesPath, "--labels", k == 0 ? labelsPath : path]]);
    }

    /// <summary>`arch show`, then a compile for the mutated architecture.</summary>
    private FuzzTarget ArchitectureTarget()
    {
        string presets = Path.Combine(TestPaths.RepoRoot, "src", "Cimc", "Architecture", "Presets");
        byte[][] seeds = [File.ReadAllBytes(Path.Combine(presets, "isaac.json")), File.ReadAllBytes(Path.Combine(presets, "edge.json"))];
        string model = TestPaths.Fixture("onnx_softmax.onnx");
        string calibration = TestPaths.Fixture("onnx_softmax_input.npy");
        return new FuzzTarget("architecture", 200, seeds, JsonMutations.Any, k => Path.Combine(_dir, $"arch{k}.json"), (k, path) =>
        [
            ["arch", "show", path],
            ["compile", model, "--arch", path, "--calibration-data", calibration, "-o", Path.Combine(_dir, "arch-out")],
        ]);
    }

    /// <summary>A compiled folder whose program.bin or weights.bin is mutated: `disasm`, then `run`.</summary>
    private FuzzTarget ProgramTarget()
    {
        string folder = Path.Combine(_dir, "compiled");
        string model = TestPaths.Fixture("onnx_softmax.onnx");
        string input = TestPaths.Fixture("onnx_softmax_input.npy");
        (int exit, _, string error) = Cli.CliRunner.Run("compile", model, "--arch", "isaac", "--calibration-data", input, "-o", folder);
        Assert.True(exit == 0, error);
        string program = Path.Combine(folder, "program.bin"), weights = Path.Combine(folder, "weights.bin");
        byte[][] seeds = [File.ReadAllBytes(program), File.ReadAllBytes(weights)];
        string output = Path.Combine(_dir, "run.npy");
        return new FuzzTarget("program", 200, seeds, null, k => k == 0 ? program : weights, (k, path) =>
            k == 0
                ? [["disasm", path], ["run", folder, "--input", input, "--output", output]]
                : [["run", folder, "--input", input, "--output", output]]);
    }

    /// <summary>A compiled program's text form, mutated, through `asm` and back through `disasm`.</summary>
    private FuzzTarget AssemblyTarget()
    {
        string folder = Path.Combine(_dir, "compiled-asm");
        (int exit, _, string error) = Cli.CliRunner.Run("compile", TestPaths.Fixture("onnx_softmax.onnx"), "--arch", "edge",
            "--calibration-data", TestPaths.Fixture("onnx_softmax_input.npy"), "--emit", "asm", "-o", folder);
        Assert.True(exit == 0, error);
        string binary = Path.Combine(_dir, "fuzz.bin");
        return new FuzzTarget("assembly", 150, [File.ReadAllBytes(Path.Combine(folder, "program.asm"))], null, _ => Path.Combine(_dir, "fuzz.asm"), (_, path) =>
            [["asm", path, "-o", binary], ["disasm", binary]]);
    }

    private static byte[] Ungzip(string path, int count)
    {
        using var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        var buffer = new byte[count];
        gz.ReadExactly(buffer);
        return buffer;
    }

    private static byte[] Gzip(byte[] bytes)
    {
        var target = new MemoryStream();
        using (var gz = new GZipStream(target, CompressionLevel.Optimal, leaveOpen: true))
        {
            gz.Write(bytes);
        }

        return target.ToArray();
    }
}
