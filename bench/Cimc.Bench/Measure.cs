using System.Diagnostics;

namespace Cimc.Bench;

/// <summary>Median and minimum of several timed repetitions, in seconds.</summary>
public sealed record Timing(double Median, double Min, int Repetitions)
{
    public static Timing Of(IReadOnlyList<double> seconds)
    {
        double[] sorted = [.. seconds.Order()];
        int n = sorted.Length;
        double median = n % 2 == 1 ? sorted[n / 2] : (sorted[(n / 2) - 1] + sorted[n / 2]) / 2;
        return new Timing(median, sorted[0], n);
    }
}

/// <summary>
/// A plain Stopwatch harness: warm-up runs (JIT, tiering, caches) that are not counted, then timed
/// repetitions, each preceded by a full GC so one repetition's garbage is not charged to the next.
/// On a shared, noisy machine the minimum is the least disturbed run and the median the typical one;
/// compare figures from the same run as ratios rather than across runs.
/// </summary>
public static class Measure
{
    public static Timing Time(Action action, int warmups, int repetitions)
    {
        for (int i = 0; i < warmups; i++)
        {
            action();
        }

        var seconds = new List<double>(repetitions);
        for (int i = 0; i < repetitions; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            long start = Stopwatch.GetTimestamp();
            action();
            seconds.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
        }

        return Timing.Of(seconds);
    }

    /// <summary>Times one call and returns its result, for stage splits measured inside one repetition.</summary>
    public static T Lap<T>(Func<T> action, out double seconds)
    {
        long start = Stopwatch.GetTimestamp();
        T result = action();
        seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return result;
    }
}
