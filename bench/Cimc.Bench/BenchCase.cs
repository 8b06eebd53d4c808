namespace Cimc.Bench;

/// <summary>
/// One numbered case of the bench: its heading and its run, which returns the markdown table the case
/// makes, or null when its rows go into <see cref="Report.Markdown"/> instead (cases 1-3).
/// </summary>
public sealed record BenchCase(int Number, string Title, Func<string?> Run)
{
    /// <summary>Whether a plain run (no --only) runs it; case 11 runs only when asked.</summary>
    public bool InPlainRun { get; init; } = true;

    /// <summary>Whether --only prints its table after the case's own lines (case 7's lines already give its figures).</summary>
    public bool PrintedAlone { get; init; } = true;
}
