using Cimc.Diagnostics;
using Cimc.Import.Torch.Pickle;
using Cimc.Import.Torch.TorchScript;
using Cimc.Ir;

namespace Cimc.Import.Torch;

/// <summary>
/// Reads a PyTorch file into a float graph. Three kinds are recognised from the content:
/// a TorchScript archive (torch.jit.save; code/ next to the data), a whole module (torch.save(model);
/// the root is an nn module object) and a state_dict (an ordered name -> tensor map). Pickles are
/// read by cimc's own data-only machine: no file can run code.
/// </summary>
public static class TorchImporter
{
    public static Graph Import(string path, ImportOptions options)
    {
        string graphName = Path.GetFileNameWithoutExtension(path);
        using TorchFile file = ModelFormats.Detect(path) == ModelFormat.TorchZip ? TorchArchive.Open(path) : LegacyTorchFile.Open(path);
        if (file is TorchArchive { IsTorchScript: true } archive)
        {
            return ScriptImporter.Import(archive, graphName);
        }

        return file.Root switch
        {
            PyDict dict => StateDictImporter.Import(file, StateDictImporter.Unwrap(dict), options, graphName),
            PyObject module => ModuleImporter.Import(file, module, graphName),
            var other => throw new CimcException("unsupported-format", path,
                $"the file holds a {PickleText.TypeName(other)}; expected a state_dict, an nn.Sequential or a TorchScript module"),
        };
    }
}
