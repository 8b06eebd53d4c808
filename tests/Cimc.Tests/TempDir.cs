namespace Cimc.Tests;

/// <summary>
/// A fresh folder under the system temp directory, deleted with everything in it on Dispose, so that
/// a test run leaves nothing behind: <c>using var dir = new TempDir();</c>.
/// </summary>
internal sealed class TempDir : IDisposable
{
    public TempDir(string prefix = "cimc-test-") => Path = Directory.CreateTempSubdirectory(prefix).FullName;

    public string Path { get; }

    /// <summary>A path inside the folder.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }

    public override string ToString() => Path;
}
