using Cimc.Diagnostics;
using Cimc.Import.Torch.Pickle;
using Cimc.Ir;

namespace Cimc.Import.Torch;

/// <summary>
/// torch.save(model.state_dict()): an ordered name -> tensor map. Each 2-D `&lt;layer&gt;.weight`
/// (with its `&lt;layer&gt;.bias`) becomes a dense layer in the dict's insertion order, which is the
/// order the modules were registered. The file holds no activations, so the user names the one
/// placed between layers (none after the last). Layers cimc cannot map (batch norm, convolutions)
/// are refused rather than silently dropped.
/// </summary>
internal static class StateDictImporter
{
    private static readonly string[] NormBuffers = [".running_mean", ".running_var", ".num_batches_tracked"];

    /// <summary>Checkpoints often wrap the state_dict: {"model_state_dict": {...}, "epoch": ...}.</summary>
    public static PyDict Unwrap(PyDict root)
    {
        foreach (string key in new[] { "state_dict", "model_state_dict", "model" })
        {
            if (root.TryGet(key, out object? inner) && inner is PyDict d && d.Items.Any(kv => kv.Value is TorchTensor))
            {
                return d;
            }
        }

        return root;
    }

    public static Graph Import(TorchFile file, PyDict dict, ImportOptions options, string graphName)
    {
        var tensors = new Dictionary<string, TorchTensor>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (KeyValuePair<object?, object?> kv in dict.Items)
        {
            if (kv.Key is string name && kv.Value is TorchTensor t)
            {
                tensors[name] = t;
                order.Add(name);
            }
        }

        if (order.Count == 0)
        {
            throw new CimcException("unsupported-format", file.Path, "the file holds a dictionary without tensors; expected a state_dict");
        }

        // A convolution's place in the network (stride, padding, pooling, residual adds) is code, not data.
        if (order.FirstOrDefault(k => tensors[k].Rank == 4 && k.EndsWith("weight", StringComparison.Ordinal)) is { } conv)
        {
            throw new CimcException("conv-state-dict", $"{file.Path}: '{conv}'",
                $"is a convolution weight {tensors[conv].ShapeText}; a state_dict cannot carry a convolutional network's structure (strides, padding, pooling, residual adds): save it with torch.onnx.export or torch.jit.trace/script");
        }

        string? norm = order.FirstOrDefault(k => NormBuffers.Any(b => k.EndsWith(b, StringComparison.Ordinal)));
        if (norm is not null)
        {
            string layer = norm[..norm.LastIndexOf('.')];
            throw new CimcException("unsupported-layer", $"{file.Path}: layer '{layer}'",
                "unsupported layer: normalisation layers (running statistics) cannot be mapped; fold them into the linear layers before saving");
        }

        var dense = new List<(string Layer, Dense Op)>();
        foreach (string key in order.Where(k => k.EndsWith(".weight", StringComparison.Ordinal) || k == "weight"))
        {
            string layer = key == "weight" ? "weight" : key[..^".weight".Length];
            TorchTensor w = tensors[key];
            if (w.Rank != 2)
            {
                throw new CimcException("unsupported-layer", $"{file.Path}: layer '{layer}'",
                    $"unsupported layer: weight of shape {w.ShapeText} is not a linear layer's [out, in] matrix");
            }

            // Large weight matrices are read again from the file when needed rather than all held (docs/scale.md).
            FloatTensor weight = file.ReadTensor(w, key, onDemand: true);
            FloatTensor? bias = null;
            string biasKey = key == "weight" ? "bias" : layer + ".bias";
            if (tensors.TryGetValue(biasKey, out TorchTensor? b))
            {
                if (b.Rank != 1)
                {
                    throw new CimcException("layer-mismatch", $"{file.Path}: layer '{layer}'", $"bias of shape {b.ShapeText} is not a vector");
                }

                bias = file.ReadTensor(b, biasKey);
            }

            dense.Add((layer, new Dense(weight, bias)));
        }

        if (dense.Count > 1 && options.Activation is null)
        {
            throw new CimcException("missing-activation", file.Path,
                "a state_dict stores only weights, not the activation between layers; pass --activation relu|sigmoid|tanh|none");
        }

        var chain = new LayerChain(graphName, file.Path);
        for (int i = 0; i < dense.Count; i++)
        {
            chain.Add(dense[i].Layer, dense[i].Op);
            if (i < dense.Count - 1 && Activation(options.Activation!.Value) is { } act)
            {
                chain.Add($"{dense[i].Layer}.act", act);
            }
        }

        return chain.Build();
    }

    private static Op? Activation(LayerActivation a) => a switch
    {
        LayerActivation.Relu => new Relu(),
        LayerActivation.Sigmoid => new Sigmoid(),
        LayerActivation.Tanh => new Tanh(),
        _ => null,
    };
}
