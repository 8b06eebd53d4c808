using Cimc.Diagnostics;
using Cimc.Ir;

namespace Cimc.Import.Torch;

/// <summary>
/// The layers a PyTorch importer found, in execution order, turned into a verified chain graph.
/// The input is [batch, in_features of the first dense layer]: a PyTorch file never records the
/// input shape, so a leading Flatten keeps its meaning only for inputs that are already flat. A
/// chain that starts with a convolution takes NCHW images [batch, in_channels, ?, ?].
/// </summary>
internal sealed class LayerChain(string graphName, string location)
{
    private readonly List<(string Name, Op Op)> _layers = [];

    public int Count => _layers.Count;

    public IReadOnlyList<(string Name, Op Op)> Layers => _layers;

    public void Add(string name, Op op) => _layers.Add((name, op));

    public void ReplaceLast(Op op) => _layers[^1] = (_layers[^1].Name, op);

    public Graph Build()
    {
        Op? first = _layers.Select(l => l.Op).FirstOrDefault(op => op is Dense or Conv2d);
        TensorType input = first switch
        {
            Dense d => TensorType.Float(TensorType.Dynamic, d.InFeatures),
            Conv2d c => TensorType.Float(TensorType.Dynamic, c.InChannels, TensorType.Dynamic, TensorType.Dynamic),
            _ => throw new CimcException("no-dense-layers", location, "the model has no linear layers; cimc maps dense layers onto crossbars"),
        };

        CheckChaining();
        var builder = new GraphBuilder(graphName, input);
        foreach ((string name, Op op) in _layers)
        {
            builder.Add(name, op);
        }

        return GraphVerifier.EnsureValid(builder.Build());
    }

    /// <summary>Names both layers when a dense layer does not take what the previous one gives.</summary>
    private void CheckChaining()
    {
        string? previous = null;
        int features = -1;
        foreach ((string name, Op op) in _layers)
        {
            if (op is Conv2d)
            {
                // The features after a convolution depend on the image size, which the file does not hold.
                previous = null;
                continue;
            }

            if (op is not Dense d)
            {
                continue;
            }

            if (previous is not null && d.InFeatures != features)
            {
                throw new CimcException("layer-mismatch", $"{location}: layer '{name}'",
                    $"takes {d.InFeatures} inputs but the previous layer '{previous}' gives {features} outputs");
            }

            if (d.Bias is { } b && b.Length != d.OutFeatures)
            {
                throw new CimcException("layer-mismatch", $"{location}: layer '{name}'",
                    $"bias has {b.Length} values for {d.OutFeatures} outputs");
            }

            previous = name;
            features = d.OutFeatures;
        }
    }
}
