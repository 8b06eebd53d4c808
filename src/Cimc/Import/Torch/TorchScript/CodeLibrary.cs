using Cimc.Diagnostics;

namespace Cimc.Import.Torch.TorchScript;

/// <summary>
/// The classes and functions of a TorchScript archive's `code/` folder, by qualified name: the file
/// `code/__torch__/torch/nn/modules/linear.py` defines module `__torch__.torch.nn.modules.linear`,
/// so its class Linear is `__torch__.torch.nn.modules.linear.Linear`, the name data.pkl uses.
/// </summary>
internal sealed class CodeLibrary
{
    private const int MaxFiles = 10_000;

    private readonly Dictionary<string, ClassDef> _classes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FunctionDef> _functions = new(StringComparer.Ordinal);

    public static CodeLibrary Load(TorchArchive archive)
    {
        var library = new CodeLibrary();
        string[] files = [.. archive.EntriesUnder("code/").Where(e => e.EndsWith(".py", StringComparison.Ordinal))];
        if (files.Length > MaxFiles)
        {
            throw new CimcException("bad-torchscript", archive.Path, $"the archive holds more than {MaxFiles} code files");
        }

        foreach (string entry in files)
        {
            string display = $"{archive.Path}: {archive.Prefix}{entry}";
            string module = entry["code/".Length..^".py".Length].Replace('/', '.');
            CodeFile code = Parser.Parse(archive.ReadText(entry, display), display);
            foreach (ClassDef c in code.Classes)
            {
                library._classes[$"{module}.{c.Name}"] = c;
            }

            foreach (FunctionDef f in code.Functions)
            {
                library._functions[$"{module}.{f.Name}"] = f;
            }
        }

        return library;
    }

    public ClassDef? Class(string qualifiedName) => _classes.GetValueOrDefault(qualifiedName);

    public FunctionDef? Function(string qualifiedName) => _functions.GetValueOrDefault(qualifiedName);
}
