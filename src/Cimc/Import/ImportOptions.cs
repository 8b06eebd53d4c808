namespace Cimc.Import;

/// <summary>The activation placed between the layers of a file that stores only weights (a state_dict).</summary>
public enum LayerActivation
{
    Relu,
    Sigmoid,
    Tanh,
    None,
}

/// <summary>What an importer cannot learn from the file itself.</summary>
/// <param name="Activation">Activation between dense layers of a state_dict; null means the file must carry it.</param>
public sealed record ImportOptions(LayerActivation? Activation = null)
{
    public static ImportOptions Default { get; } = new();

    public static LayerActivation ParseActivation(string text) => text.ToLowerInvariant() switch
    {
        "relu" => LayerActivation.Relu,
        "sigmoid" => LayerActivation.Sigmoid,
        "tanh" => LayerActivation.Tanh,
        "none" or "identity" => LayerActivation.None,
        _ => throw new Diagnostics.CimcException("bad-option", "--activation", $"unknown activation '{text}'; expected relu, sigmoid, tanh or none"),
    };
}
