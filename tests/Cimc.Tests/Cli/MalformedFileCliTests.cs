using Cimc.Cli;
using Cimc.Diagnostics;
using Cimc.Import.Onnx.Proto;
using Cimc.Tests.Import;
using Google.Protobuf;

namespace Cimc.Tests.Cli;

/// <summary>
/// Files that used to crash cimc (exit 70) or take gigabytes: each now ends with one error line and
/// exit 1, allocating little. Allocation is measured on the test's thread, where the import runs.
/// </summary>
public sealed class MalformedFileCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cimc-malformed-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static (string Error, long Allocated) Refused(params string[] args)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        (int exit, string output, string error) = CliRunner.Run(args);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(exit == CliApp.UserError, $"exit {exit}: {error}");
        Assert.Equal("", output);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.StartsWith("cimc: error: ", error);
        return (error, allocated);
    }

    [Fact]
    public void A_zip_whose_end_of_central_directory_miscounts_its_entries_is_a_user_error()
    {
        byte[] zip = File.ReadAllBytes(TestPaths.Fixture("sd_relu.pt"));
        int eocd = zip.AsSpan().LastIndexOf("PK\u0005\u0006"u8);
        zip[eocd + 10]++;
        zip[eocd + 8]++;
        (string error, _) = Refused("inspect", Write("miscounted.pt", zip), "--activation", "relu");
        Assert.Contains("not a readable PyTorch zip archive", error);
    }

    [Fact]
    public void A_deflated_tensor_over_the_file_budget_is_refused_before_its_storage_is_inflated()
    {
        // The case: 20000 x 26000 float32 (2.08 GB) in a small file. Here the entry only
        // declares that size; the element budget refuses the tensor before the entry is opened.
        const long rows = 20000, cols = 26000;
        byte[] file = TorchArchives.StateDict([new ArchiveTensor("0.weight", [rows, cols], [cols, 1])], rows * cols, TorchArchives.Zeros(1024), declaredBytes: rows * cols * 4);
        (string error, long allocated) = Refused("inspect", Write("huge.pt", file), "--activation", "relu");
        Assert.Contains($"more than {ReadBudget.MaxElements} values", error);
        Assert.True(allocated < 64L << 20, $"allocated {allocated >> 20} MiB");
    }

    [Fact]
    public void Views_of_one_shared_storage_count_once_for_bytes_but_each_for_values()
    {
        // Four views of one 40 M-value storage: the storage (160 MB) is read once and fits the byte
        // budget, but the views would gather 160 M values, over the value budget.
        const long n = 40_000_000;
        ArchiveTensor[] views = [.. Enumerable.Range(0, 4).Select(i => new ArchiveTensor($"{i}.weight", [n / 4000, 4000], [4000, 1]))];
        byte[] file = TorchArchives.StateDict(views, n, TorchArchives.Zeros(n));
        Assert.True(file.Length < 2 << 20, $"the archive is {file.Length} bytes");
        (string error, long allocated) = Refused("inspect", Write("shared.pt", file), "--activation", "relu");
        Assert.Contains("'3.weight'", error);
        Assert.Contains($"more than {ReadBudget.MaxElements} values", error);

        // One storage and three views, not four storages and four views (7.9 GB before).
        Assert.True(allocated < 900L << 20, $"allocated {allocated >> 20} MiB");
    }

    [Fact]
    public void A_deflated_entry_declaring_more_than_its_compressed_bytes_can_hold_is_refused_before_allocating()
    {
        const long n = 16_000_000;
        byte[] file = TorchArchives.StateDict([new ArchiveTensor("0.weight", [4000, 4000], [4000, 1])], n, TorchArchives.Zeros(1000), declaredBytes: n * 4);
        (string error, long allocated) = Refused("inspect", Write("lying.pt", file), "--activation", "relu");
        Assert.Contains("cannot expand to that", error);
        Assert.True(allocated < 32L << 20, $"allocated {allocated >> 20} MiB");
    }

    [Theory]
    [InlineData(float.NaN, "NaN")]
    [InlineData(float.PositiveInfinity, "Infinity")]
    public void A_non_finite_weight_in_a_state_dict_is_refused_naming_the_tensor_and_index(float bad, string shown)
    {
        float[] w = [.. Enumerable.Range(0, 12).Select(i => i * 0.1f)];
        w[7] = bad;
        byte[] file = TorchArchives.StateDict([new ArchiveTensor("0.weight", [3, 4], [4, 1])], 12, TorchArchives.Values(w));
        (string error, _) = Refused("inspect", Write("nan.pt", file), "--activation", "relu");
        Assert.Contains("'0.weight'", error);
        Assert.Contains($"contains {shown} at [1,3]", error);
    }

    [Fact]
    public void An_onnx_weight_with_a_zero_dimension_is_refused_at_import()
    {
        ModelProto model = OnnxModels.Model(
            [OnnxModels.Node("MatMul", ["x", "w"], ["y"], "fc")],
            [OnnxModels.Floats("w", [12, 0], [], raw: true)],
            [-1, 12]);
        string path = Write("empty.onnx", model.ToByteArray());
        File.Copy(TestPaths.Fixture("onnx_softmax_input.npy"), Path.Combine(_dir, "calibration.npy"));
        (int exit, _, string error) = CliRunner.Run("compile", path, "--arch", "isaac", "-o", Path.Combine(_dir, "out"));
        Assert.True(exit == CliApp.UserError, $"exit {exit}: {error}");
        Assert.Contains("node 'fc'", error);
    }

    [Fact]
    public void An_empty_data_set_is_an_error_not_an_accuracy_of_zero()
    {
        string images = Path.Combine(_dir, "none.npy"), labels = Path.Combine(_dir, "no-labels.npy");
        Cimc.Data.Npy.Write(images, new Cimc.Data.NdArray([0, 12], []));
        Cimc.Data.Npy.Write(labels, new Cimc.Data.NdArray([0], []));
        (string error, _) = Refused("accuracy", TestPaths.Fixture("onnx_softmax.onnx"), "--images", images, "--labels", labels);
        Assert.Contains("holds no samples", error);
    }

    [Fact]
    public void An_axis_attribute_beyond_32_bits_is_a_user_error()
    {
        ModelProto model = OnnxModels.Model(
            [OnnxModels.Node("Gemm", ["x", "w"], ["h"], "fc"), OnnxModels.Node("Softmax", ["h"], ["y"], "head", OnnxModels.Int("axis", long.MinValue))],
            [OnnxModels.Floats("w", [4, 3], new float[12])],
            [-1, 4]);
        (string error, _) = Refused("inspect", Write("axis.onnx", model.ToByteArray()));
        Assert.Contains("attribute 'axis' is -9223372036854775808, out of range", error);
    }

    [Theory]
    [InlineData("random.pt")]
    [InlineData("random.onnx")]
    public void Random_bytes_are_not_called_an_invalid_onnx_model_whatever_the_extension(string name)
    {
        (string error, _) = Refused("inspect", Path.Combine(TestPaths.Hostile, name));
        Assert.Contains("not a model file cimc recognises", error);
    }

    [Fact]
    public void An_onnx_model_named_pt_is_read_as_onnx_and_a_pytorch_archive_named_onnx_as_pytorch()
    {
        string onnx = Write("model.pt", File.ReadAllBytes(TestPaths.Fixture("onnx_softmax.onnx")));
        string torch = Write("model.onnx", File.ReadAllBytes(TestPaths.Fixture("sd_relu.pt")));
        Assert.Equal(0, CliRunner.Run("inspect", onnx).Exit);
        Assert.Equal(0, CliRunner.Run("inspect", torch, "--activation", "relu").Exit);
    }

    [Fact]
    public void A_pickle_global_with_terminal_escapes_is_named_escaped()
    {
        byte[] pickle = [0x80, 2, (byte)'c', .. "os\u001b[2J\nsystem\u0007\n"u8, (byte)')', (byte)'R', (byte)'.'];
        (string error, _) = Refused("inspect", Write("escape.pkl", pickle));
        Assert.Contains("os\\x1b[2J.system\\x07", error);
    }

    [Fact]
    public void Control_bytes_in_names_from_a_file_are_printed_escaped()
    {
        ModelProto model = OnnxModels.Model(
            [OnnxModels.Node("\u001b[2JConv\0", ["x"], ["y"], "n\u009b31m")],
            [],
            [-1, 4]);
        (string error, _) = Refused("inspect", Write("escapes.onnx", model.ToByteArray()));
        Assert.Contains("\\x1b[2JConv\\x00", error);
        Assert.Contains("n\\x9b31m", error);
    }
}
