using System.Diagnostics;
using System.Globalization;

namespace Cimc.Cli;

/// <summary>
/// Progress of long work (accuracy runs, sweeps, the precision search) on stderr: one line redrawn in
/// place on a terminal, at most five times a second; when stderr is a file or a pipe, a plain line
/// each time another tenth is done, so logs stay readable. Silent with --quiet. Nothing is printed
/// before the first unit of work is done, so an early error stays the only line on stderr. With an
/// unknown total (0), it counts: a plain line every <see cref="UnknownTotalStep"/> units.
/// </summary>
/// <param name="after">seconds of work before anything is shown: work that ends sooner stays silent</param>
internal sealed class ProgressLine(CliContext context, string label, long total, string unit, double after = 0) : IDisposable
{
    private const int UnknownTotalStep = 5;

    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _done;
    private long _lastTenth;
    private long _lastDrawMs = -1000;
    private bool _drawn;

    public void Advance(long count = 1)
    {
        _done = total > 0 ? Math.Min(total, _done + count) : _done + count;
        if (context.Quiet || _clock.Elapsed.TotalSeconds < after)
        {
            return;
        }

        if (context.ErrorIsTerminal)
        {
            if (_clock.ElapsedMilliseconds - _lastDrawMs >= 200 || _done == total)
            {
                _lastDrawMs = _clock.ElapsedMilliseconds;
                context.Error.Write($"\r{Text()}\u001b[K");
                _drawn = true;
            }

            return;
        }

        long tenth = total > 0 ? _done * 10 / total : _done / UnknownTotalStep;
        if (tenth > _lastTenth)
        {
            _lastTenth = tenth;
            context.Error.WriteLine($"cimc: {Text()}");
        }
    }

    private string Text() => total > 0
        ? string.Create(CultureInfo.InvariantCulture, $"{label}: {_done}/{total} {unit} ({(double)_done / total:P0}, {_clock.Elapsed.TotalSeconds:0.0} s)")
        : string.Create(CultureInfo.InvariantCulture, $"{label}: {_done} {unit} ({_clock.Elapsed.TotalSeconds:0.0} s)");

    /// <summary>Ends the redrawn line so that what follows starts on its own line; a second call does nothing.</summary>
    public void Dispose()
    {
        if (_drawn)
        {
            _drawn = false;
            context.Error.WriteLine();
        }
    }
}
