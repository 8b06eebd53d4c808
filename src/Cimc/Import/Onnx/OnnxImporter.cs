using Cimc.Diagnostics;
using Cimc.Ir;

namespace Cimc.Import.Onnx;

/// <summary>Placeholder until the ONNX importer lands.</summary>
public static class OnnxImporter
{
    public static Graph Import(string path) =>
        throw new CimcException("unsupported-format", path, "ONNX import is not available yet");
}
