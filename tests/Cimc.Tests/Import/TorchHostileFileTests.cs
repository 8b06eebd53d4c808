using System.Diagnostics;
using Cimc.Diagnostics;
using Cimc.Import;
using Cimc.Import.Torch;

namespace Cimc.Tests.Import;

/// <summary>Hostile and broken PyTorch files are refused quickly with one clear diagnostic.</summary>
public sealed class TorchHostileFileTests
{
    [Theory]
    [InlineData("os_system.pt", "'os.system'")]
    [InlineData("eval.pt", "'builtins.eval'")]
    [InlineData("os_system.pkl", "'os.system'")]
    [InlineData("nested_os_system.pt", "'os.system'")]
    [InlineData("unknown_class.pt", "'__main__.EvilNet'")]
    public void A_pickle_naming_a_forbidden_global_is_refused_naming_it(string file, string global)
    {
        CimcException e = Refuse(file);
        Assert.Contains($"refused to load {global}", e.Message);
        Assert.Contains("pickles can run code", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData("huge_tensor.pt")]
    [InlineData("truncated.pt")]
    [InlineData("random.pt")]
    [InlineData("empty.pt")]
    public void A_broken_or_oversized_file_is_refused_quickly(string file)
    {
        var clock = Stopwatch.StartNew();
        CimcException e = Refuse(file);
        Assert.True(clock.ElapsedMilliseconds < 2000, $"took {clock.ElapsedMilliseconds} ms");
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_tensor_claiming_a_trillion_elements_names_its_shape()
    {
        CimcException e = Refuse("huge_tensor.pt");
        Assert.Contains("1000000", e.Message);
    }

    [Fact]
    public void The_model_loader_refuses_a_raw_pickle_that_names_os_system()
    {
        var e = Assert.Throws<CimcException>(() => ModelLoader.Load(Path.Combine(TestPaths.Hostile, "os_system.pkl")));
        Assert.Contains("'os.system'", e.Message);
    }

    private static CimcException Refuse(string file)
    {
        string path = Path.Combine(TestPaths.Hostile, file);
        Assert.True(File.Exists(path), $"missing {path}");
        return Assert.Throws<CimcException>(() => TorchImporter.Import(path, new ImportOptions(LayerActivation.Relu)));
    }
}
