using Cimc.Ir;

namespace Cimc.Import.Torch.TorchScript;

/// <summary>
/// torch.jit.save archives (traced or scripted): the module tree comes from data.pkl, the
/// computation from the serialized code, which <see cref="Interpreter"/> runs abstractly.
/// </summary>
internal static class ScriptImporter
{
    public static Graph Import(TorchArchive archive, string graphName) => Interpreter.Run(archive, graphName);
}
