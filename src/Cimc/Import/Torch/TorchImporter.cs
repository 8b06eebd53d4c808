using Cimc.Diagnostics;
using Cimc.Ir;

namespace Cimc.Import.Torch;

/// <summary>Placeholder until the PyTorch importer lands.</summary>
public static class TorchImporter
{
    public static Graph Import(string path, ImportOptions options) =>
        throw new CimcException("unsupported-format", path, "PyTorch import is not available yet");
}
