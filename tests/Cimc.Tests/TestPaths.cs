namespace Cimc.Tests;

/// <summary>Locates the repository's folders from the test binary, whatever the working directory.</summary>
internal static class TestPaths
{
    public static string RepoRoot { get; } = FindRoot();

    public static string Fixtures => Path.Combine(RepoRoot, "tests", "fixtures");

    public static string Hostile => Path.Combine(Fixtures, "hostile");

    public static string Examples => Path.Combine(RepoRoot, "examples");

    public static string Fixture(string name) => Path.Combine(Fixtures, name);

    private static string FindRoot()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "Cimc.slnx")))
        {
            dir = Path.GetDirectoryName(dir);
        }

        return dir ?? throw new InvalidOperationException("cannot find Cimc.slnx above the test binary");
    }
}
