using Cimc.Diagnostics;
using Cimc.Import.Onnx;
using Cimc.Import.Torch;
using Cimc.Ir;

namespace Cimc.Import;

/// <summary>
/// Reads any supported model file into a verified float <see cref="Graph"/>, choosing the importer
/// from the file's first bytes: a zip archive or a pickle is a PyTorch file, anything else is tried
/// as ONNX.
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

        if (info.Length > Limits.MaxFileBytes)
        {
            throw new CimcException("file-too-large", path, $"the file is {info.Length} bytes; cimc reads model files up to {Limits.MaxFileBytes} bytes");
        }

        Span<byte> head = stackalloc byte[4];
        int read;
        using (FileStream stream = File.OpenRead(path))
        {
            read = stream.ReadAtLeast(head, 4, throwOnEndOfStream: false);
        }

        bool isZip = read >= 4 && head[0] == (byte)'P' && head[1] == (byte)'K' && head[2] == 3 && head[3] == 4;
        bool isPickle = read >= 2 && head[0] == 0x80 && head[1] <= 5;
        Graph graph = isZip || isPickle
            ? TorchImporter.Import(path, options)
            : OnnxImporter.Import(path);
        // Exporters name graphs generically ("torch_jit", "main_graph"); the file name says more.
        return GraphVerifier.EnsureValid(graph with { Name = Path.GetFileNameWithoutExtension(path) });
    }
}
