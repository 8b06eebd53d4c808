using Cimc.Diagnostics;
using Cimc.Ir;

namespace Cimc.Import.Torch.TorchScript;

/// <summary>Placeholder: TorchScript support lands with the interpreter.</summary>
internal static class ScriptImporter
{
    public static Graph Import(TorchArchive archive, string graphName) =>
        throw new CimcException("unsupported-format", archive.Path, $"TorchScript import of '{graphName}' is not available yet");
}
