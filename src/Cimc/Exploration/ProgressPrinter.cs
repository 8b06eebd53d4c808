using System.Diagnostics;
using System.Globalization;

namespace Cimc.Exploration;

/// <summary>
/// Progress of a study on stderr: points done of total, points per second and the time left. On a
/// terminal one line redrawn in place (at most 10 times a second); otherwise (a log, a Slurm
/// output file) a plain line at most every <c>plainEvery</c>, and always the last one.
/// </summary>
public sealed class ProgressPrinter(TextWriter writer, bool terminal, TimeSpan? plainEvery = null)
{
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly Lock gate = new();
    private TimeSpan? last;
    private bool open;

    public void Report(int done, int total)
    {
        lock (gate)
        {
            TimeSpan now = clock.Elapsed;
            TimeSpan every = terminal ? TimeSpan.FromMilliseconds(100) : plainEvery ?? TimeSpan.FromSeconds(5);
            if (done < total && last is { } previous && now - previous < every)
            {
                return;
            }

            last = now;
            string line = Line(done, total, now);
            if (terminal)
            {
                writer.Write($"\r{line}\u001b[K");
                open = done < total;
                if (!open)
                {
                    writer.WriteLine();
                }
            }
            else
            {
                writer.WriteLine(line);
            }

            writer.Flush();
        }
    }

    /// <summary>Ends a redrawn line (after a cancel) so the next message starts on its own line.</summary>
    public void Finish()
    {
        lock (gate)
        {
            if (open)
            {
                writer.WriteLine();
                open = false;
            }
        }
    }

    public static string Line(int done, int total, TimeSpan elapsed)
    {
        double rate = elapsed.TotalSeconds > 0 ? done / elapsed.TotalSeconds : 0;
        string eta = rate > 0 && total > done ? Duration((total - done) / rate) : done >= total ? "done" : "?";
        int width = 24, filled = total > 0 ? (int)((long)width * done / total) : 0;
        return string.Create(CultureInfo.InvariantCulture,
            $"explore [{new string('#', filled)}{new string('.', width - filled)}] {done}/{total} points, {rate:0.#} points/s, ETA {eta}");
    }

    private static string Duration(double seconds) =>
        seconds < 60 ? string.Create(CultureInfo.InvariantCulture, $"{seconds:0} s")
        : seconds < 3600 ? string.Create(CultureInfo.InvariantCulture, $"{seconds / 60:0.#} min")
        : string.Create(CultureInfo.InvariantCulture, $"{seconds / 3600:0.#} h");
}
