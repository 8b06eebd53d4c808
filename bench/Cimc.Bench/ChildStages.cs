using System.Diagnostics;
using System.Globalization;
using Cimc.Diagnostics;

namespace Cimc.Bench;

/// <summary>One stage run in a child process: wall-clock and CPU seconds (all threads) it took and the process's peak resident memory once it ended.</summary>
public sealed record ScaleStage(string Name, double Seconds, double CpuSeconds, double PeakGiB);

/// <summary>What a child process measured: its stages, and cimc's one-line refusal if it refused the model.</summary>
public sealed record ChildRun(IReadOnlyList<ScaleStage> Stages, string? Refusal);

/// <summary>
/// Runs this program again with some arguments in a child process, so that each measurement's peak
/// memory (VmHWM) is its own, and reads back the stage lines its <see cref="StageClock"/> printed
/// ("stage seconds cpuSeconds peakGiB"). A cimc diagnostic in the child (a model cimc does not
/// compile, or one too large for the chip) comes back as its one-line message, not as a crash.
/// </summary>
public static class ChildStages
{
    private const string RefusedPrefix = "refused ";

    /// <summary>Exit code of a child that cimc refused (it printed the diagnostic).</summary>
    private const int RefusedExit = 3;

    public static ChildRun Run(params string[] args)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, UseShellExecute = false };
        // Under `dotnet Cimc.Bench.dll` the host needs the dll again; the apphost (what `dotnet run` starts) does not.
        string entry = Environment.GetCommandLineArgs()[0];
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" && entry.EndsWith(".dll", StringComparison.Ordinal))
        {
            start.ArgumentList.Add(entry);
        }

        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        using Process child = Process.Start(start)!;
        var stages = new List<ScaleStage>();
        string? refusal = null;
        string? line;
        while ((line = child.StandardOutput.ReadLine()) is not null)
        {
            string[] parts = line.Split(' ');
            if (line.StartsWith(RefusedPrefix, StringComparison.Ordinal))
            {
                refusal = line[RefusedPrefix.Length..];
            }
            else if (parts.Length == 4)
            {
                double[] v = [.. parts.Skip(1).Select(p => double.Parse(p, CultureInfo.InvariantCulture))];
                stages.Add(new ScaleStage(parts[0], v[0], v[1], v[2]));
            }
        }

        child.WaitForExit();
        if (child.ExitCode == RefusedExit && refusal is not null)
        {
            return new ChildRun(stages, refusal);
        }

        if (child.ExitCode != 0)
        {
            throw new InvalidOperationException($"the child '{string.Join(' ', args)}' failed (exit {child.ExitCode}) after {string.Join(", ", stages.Select(s => s.Name))}");
        }

        return new ChildRun(stages, null);
    }

    /// <summary>The child's side: runs the stages, and turns a cimc diagnostic into one "refused" line and exit 3.</summary>
    public static int ChildMain(Action<StageClock> stages)
    {
        try
        {
            stages(new StageClock());
            return 0;
        }
        catch (CimcException e)
        {
            Console.WriteLine(RefusedPrefix + e.Message);
            return RefusedExit;
        }
    }
}

/// <summary>In a child process: prints each stage's wall-clock and CPU seconds and the peak memory so far when it ends.</summary>
public sealed class StageClock
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Process _self = Process.GetCurrentProcess();
    private TimeSpan _cpu;

    public StageClock() => _cpu = _self.TotalProcessorTime;

    public void Done(string stage)
    {
        _self.Refresh();
        Console.WriteLine(FormattableString.Invariant($"{stage} {_clock.Elapsed.TotalSeconds:F3} {(_self.TotalProcessorTime - _cpu).TotalSeconds:F3} {PeakGiB():F3}"));
        _cpu = _self.TotalProcessorTime;
        _clock.Restart();
    }

    /// <summary>Peak resident memory of this process so far (VmHWM), in GiB.</summary>
    private static double PeakGiB()
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / (double)(1 << 20);
            }
        }

        return double.NaN;
    }
}
