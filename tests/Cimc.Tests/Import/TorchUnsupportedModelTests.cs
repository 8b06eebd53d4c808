using Cimc.Diagnostics;
using Cimc.Import;
using Cimc.Import.Torch;
using Cimc.Ir;

namespace Cimc.Tests.Import;

/// <summary>Models cimc cannot map are refused with a diagnostic that says where and why.</summary>
public sealed class TorchUnsupportedModelTests
{
    private static string Extra(string file) => Path.Combine(TestPaths.Fixtures, "torch-extra", file);

    [Fact]
    public void A_state_dict_without_an_activation_asks_for_the_activation_option()
    {
        var e = Assert.Throws<CimcException>(() => TorchImporter.Import(TestPaths.Fixture("sd_relu.pt"), ImportOptions.Default));
        Assert.Contains("--activation relu|sigmoid|tanh|none", e.Message);
    }

    [Fact]
    public void A_state_dict_with_activation_none_chains_dense_layers_directly()
    {
        Graph g = TorchImporter.Import(TestPaths.Fixture("sd_relu.pt"), new ImportOptions(LayerActivation.None));
        Assert.All(g.Nodes, n => Assert.IsType<Dense>(n.Op));
    }

    [Fact]
    public void A_state_dict_with_batch_norm_is_an_unsupported_layer()
    {
        var e = Assert.Throws<CimcException>(() => TorchImporter.Import(Extra("unsupported_batchnorm_sd.pt"), new ImportOptions(LayerActivation.Relu)));
        Assert.Contains("unsupported layer", e.Message);
        Assert.Contains("'1'", e.Message);
    }

    [Fact]
    public void A_traced_convolution_imports_as_a_conv2d_on_nchw_input()
    {
        // Conv2d(1, 2, 3) traced on a 1 x 1 x 5 x 5 input; the file does not record the image size.
        Graph g = TorchImporter.Import(Extra("unsupported_conv_trace.pt"), ImportOptions.Default);
        Conv2d conv = Assert.IsType<Conv2d>(Assert.Single(g.Nodes).Op);
        Assert.Equal((2, 1, 3, 3), (conv.OutChannels, conv.InChannels, conv.Window.KernelH, conv.Window.KernelW));
        Assert.Equal(TensorType.Float(TensorType.Dynamic, 1, TensorType.Dynamic, TensorType.Dynamic), g.Inputs[0].Type);
    }

    [Fact]
    public void A_residual_connection_reads_the_input_twice()
    {
        // x + fc(x), scripted: the add reads the graph input and the dense layer's output.
        Graph g = TorchImporter.Import(Extra("unsupported_residual_script.pt"), ImportOptions.Default);
        Node add = Assert.Single(g.Nodes, n => n.Op is Add);
        Node dense = Assert.Single(g.Nodes, n => n.Op is Dense);
        Assert.Equal(new[] { g.Inputs[0].Name, dense.Output }.Order(), add.Inputs.Order());
        Assert.Equal(g.Inputs[0].Name, dense.Input);
    }

    [Fact]
    public void A_state_dict_whose_layers_do_not_chain_names_both_layers()
    {
        // sd_named has fc1, fc2, fc3; refusing a reordered dict is covered by the chaining check in LayerChain.
        var chain = new LayerChain("g", "file.pt");
        chain.Add("a", new Dense(FloatTensor.Matrix(3, 2, new float[6]), null));
        chain.Add("b", new Dense(FloatTensor.Matrix(1, 4, new float[4]), null));
        var e = Assert.Throws<CimcException>(chain.Build);
        Assert.Contains("layer 'b'", e.Message);
        Assert.Contains("'a' gives 3 outputs", e.Message);
    }
}
