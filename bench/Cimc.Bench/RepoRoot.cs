namespace Cimc.Bench;

/// <summary>The checkout the benchmark belongs to: the first folder upwards holding Cimc.slnx.</summary>
public static class RepoRoot
{
    public static string Find()
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (DirectoryInfo? d = new(start); d is not null; d = d.Parent)
            {
                if (File.Exists(Path.Combine(d.FullName, "Cimc.slnx")))
                {
                    return d.FullName;
                }
            }
        }

        throw new DirectoryNotFoundException("cimc-bench: run it inside the cimc checkout (no Cimc.slnx found above the current folder)");
    }
}
