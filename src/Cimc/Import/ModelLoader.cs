using Cimc.Diagnostics;
using Cimc.Import.Onnx;
using Cimc.Import.Torch;
using Cimc.Ir;

namespace Cimc.Import;

/// <summary>
/// Reads any supported model file into a verified float <see cref="Graph"/>, choosing the importer
/// from the file's first bytes (<see cref="ModelFormats"/>), never from its name.
/// </summary>
public static class ModelLoader
{
    public static Graph Load(string path, ImportOptions? options = null)
    {
        options ??= ImportOptions.Default;
        if (!File.Exists(path))
        {
            throw new CimcException("file-not-found", path, "no such file");
        }

        var info = new FileInfo(path);
        if (info.Length == 0)
        {
            throw new CimcException("empty-file", path, "the file is empty");
        }

        // No cap on the file's size here: ONNX and legacy PyTorch files are read whole and bounded by
        // their importers; a zip archive is read entry by entry, within a budget that grows with the file.
        Graph graph = ModelFormats.Detect(path) switch
        {
            ModelFormat.TorchZip or ModelFormat.TorchPickle => TorchImporter.Import(path, options),
            ModelFormat.Onnx => OnnxImporter.Import(path),
            ModelFormat.Npy => throw new CimcException("unsupported-format", path, "this is a NumPy array (.npy), not a model; give it with --input, --images or --calibration-data"),
            ModelFormat.Gzip => throw new CimcException("unsupported-format", path, "this is a gzip file, not a model (IDX data sets go with --images or --labels)"),
            _ => throw new CimcException("unsupported-format", path,
                "not a model file cimc recognises: it is neither an ONNX protobuf nor a PyTorch file (zip archive or pickle)"),
        };

        // Exporters name graphs generically ("torch_jit", "main_graph"); the file name says more.
        return GraphVerifier.EnsureValid(graph with { Name = Path.GetFileNameWithoutExtension(path) });
    }
}
