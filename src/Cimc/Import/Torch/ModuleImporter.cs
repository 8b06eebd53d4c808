using Cimc.Diagnostics;
using Cimc.Import.Torch.Pickle;
using Cimc.Ir;

namespace Cimc.Import.Torch;

/// <summary>
/// torch.save(model) of an nn.Sequential: the pickle holds the module tree as inert objects
/// (class name + attribute dict). Children come from `_modules` in registration order, a Linear's
/// or Conv2d's tensors from `_parameters`, activation and window settings from plain attributes.
/// Nested Sequentials are flattened; Dropout and Identity do nothing at inference and add no layer;
/// a BatchNorm2d is folded into the convolution before it (ModuleLayers.cs has the NCHW layers).
/// </summary>
internal static class ModuleImporter
{
    public static Graph Import(TorchFile file, PyObject root, string graphName)
    {
        var chain = new LayerChain(graphName, file.Path);
        Visit(file, root, "", chain, depth: 0);
        return chain.Build();
    }

    private static void Visit(TorchFile file, PyObject module, string name, LayerChain chain, int depth)
    {
        string where = $"{file.Path}: module '{(name.Length == 0 ? "<root>" : name)}' ({module.ClassName})";
        if (depth > 64)
        {
            throw new CimcException("unsupported-layer", where, "modules nested more than 64 deep");
        }

        string layerName = name.Length == 0 ? module.Type.Name : name;
        switch (module.ClassName)
        {
            case "torch.nn.modules.container.Sequential":
                foreach ((string child, PyObject m) in Children(module, where))
                {
                    Visit(file, m, name.Length == 0 ? child : $"{name}.{child}", chain, depth + 1);
                }

                break;
            case "torch.nn.modules.linear.Linear":
                chain.Add(layerName, Linear(file, module, layerName, where));
                break;
            case "torch.nn.modules.activation.ReLU":
                chain.Add(layerName, new Relu());
                break;
            case "torch.nn.modules.activation.Sigmoid":
                chain.Add(layerName, new Sigmoid());
                break;
            case "torch.nn.modules.activation.Tanh":
                chain.Add(layerName, new Tanh());
                break;
            case "torch.nn.modules.activation.LeakyReLU":
                chain.Add(layerName, new LeakyRelu((float)Number(module.Attribute("negative_slope") ?? 0.01, where)));
                break;
            case "torch.nn.modules.activation.Softmax":
                // dim=None is PyTorch's deprecated implicit choice, which is 1 for a 2-D input.
                chain.Add(layerName, new Softmax(module.Attribute("dim") is long dim ? (int)dim : 1));
                break;
            case "torch.nn.modules.flatten.Flatten":
                chain.Add(layerName, Flatten(module, where));
                break;
            case "torch.nn.modules.conv.Conv2d":
                chain.Add(layerName, ModuleLayers.Conv(file, module, layerName, where));
                break;
            case "torch.nn.modules.batchnorm.BatchNorm2d":
                chain.ReplaceLast(ModuleLayers.FoldBatchNorm(file, module, chain, layerName, where));
                break;
            case "torch.nn.modules.pooling.MaxPool2d" or "torch.nn.modules.pooling.AvgPool2d" or "torch.nn.modules.pooling.AdaptiveAvgPool2d":
                chain.Add(layerName, ModuleLayers.Pool(module, where));
                break;
            case "torch.nn.modules.activation.ReLU6":
                chain.Add(layerName, new Clip(0f, 6f));
                break;
            case "torch.nn.modules.activation.Hardtanh":
                chain.Add(layerName, new Clip((float)Number(module.Attribute("min_val") ?? -1.0, where), (float)Number(module.Attribute("max_val") ?? 1.0, where)));
                break;
            case "torch.nn.modules.dropout.Dropout":
            case "torch.nn.modules.linear.Identity":
                break;
            default:
                throw new CimcException("unsupported-layer", where, $"unsupported module class '{module.ClassName}'");
        }
    }

    private static IEnumerable<(string Name, PyObject Module)> Children(PyObject module, string where)
    {
        if (module.Attribute("_modules") is not PyDict modules)
        {
            throw new CimcException("bad-module", where, "has no _modules dictionary");
        }

        foreach (KeyValuePair<object?, object?> kv in modules.Items)
        {
            if (kv.Key is not string child || kv.Value is not PyObject m)
            {
                throw new CimcException("bad-module", where, $"child {PickleText.Short(kv.Key)} is a {PickleText.TypeName(kv.Value)}, not a module");
            }

            yield return (child, m);
        }
    }

    private static Dense Linear(TorchFile file, PyObject module, string name, string where)
    {
        if (module.Attribute("_parameters") is not PyDict p || !p.TryGet("weight", out object? w) || w is not TorchTensor weight)
        {
            throw new CimcException("bad-module", where, "Linear has no weight parameter");
        }

        if (weight.Rank != 2)
        {
            throw new CimcException("bad-module", where, $"weight of shape {weight.ShapeText} is not [out, in]");
        }

        FloatTensor? bias = null;
        if (p.TryGet("bias", out object? b) && b is TorchTensor bt)
        {
            bias = file.ReadTensor(bt, $"{name}.bias");
        }

        return new Dense(file.ReadTensor(weight, $"{name}.weight"), bias);
    }

    private static Op Flatten(PyObject module, string where)
    {
        long start = module.Attribute("start_dim") as long? ?? 1;
        long end = module.Attribute("end_dim") as long? ?? -1;
        // The IR's Flatten is ONNX's ([batch, rest]); it equals torch's only for start_dim=1, end_dim=-1.
        if (start != 1 || end != -1)
        {
            throw new CimcException("unsupported-layer", where, $"Flatten(start_dim={start}, end_dim={end}) is not supported; only Flatten(1, -1)");
        }

        return new Flatten((int)start);
    }

    internal static double Number(object? v, string where) => v switch
    {
        double d => d,
        long l => l,
        _ => throw new CimcException("bad-module", where, $"expected a number, found {PickleText.TypeName(v)}"),
    };
}
