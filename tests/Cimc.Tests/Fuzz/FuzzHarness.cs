using System.Diagnostics;
using Cimc.Cli;

namespace Cimc.Tests.Fuzz;

/// <summary>
/// One shipped format under fuzzing: seed files, a structure-aware mutation (or none), and the
/// commands a user would run on the file. A command runs only if the one before it succeeded, so
/// a mutated model that still imports is also compiled.
/// </summary>
internal sealed record FuzzTarget(
    string Name,
    int Cases,
    IReadOnlyList<byte[]> Seeds,
    Func<Random, byte[], (byte[] Bytes, string What)>? Structured,
    Func<int, string> PathOf,
    Func<int, string, IReadOnlyList<string[]>> Commands);

/// <summary>What a fuzz run saw: how many cases ended with exit 0 and exit 1, and every failure.</summary>
internal sealed record FuzzOutcome(int Cases, int Accepted, int Refused, long MaxAllocatedBytes, TimeSpan MaxCaseTime, IReadOnlyList<string> Failures, IReadOnlyList<string> SampleRefusals);

/// <summary>
/// Runs the cases of a <see cref="FuzzTarget"/> in-process through <see cref="CliApp"/> and checks
/// the contract for any input file: exit 0, or exit 1 with exactly one line on stderr starting
/// "cimc: error:"; no control bytes (terminal escapes, NUL) in anything printed; each case within
/// <see cref="MaxCaseTime"/> and <see cref="MaxCaseBytes"/> allocated on the test's thread.
/// Case i of a target uses the seed file i mod the number of seeds and Random(i), so a failure is
/// reproduced from its number.
/// </summary>
internal static class FuzzHarness
{
    public static readonly TimeSpan MaxCaseTime = TimeSpan.FromSeconds(10);

    public const long MaxCaseBytes = 256L * 1024 * 1024;

    public static FuzzOutcome Run(FuzzTarget target)
    {
        var failures = new List<string>();
        var refusals = new List<string>();
        int accepted = 0, refused = 0;
        long maxBytes = 0;
        TimeSpan maxTime = TimeSpan.Zero;
        for (int i = 0; i < target.Cases; i++)
        {
            int seedIndex = i % target.Seeds.Count;
            var rng = new Random(i);
            byte[] seed = target.Seeds[seedIndex];
            (byte[] bytes, string what) = target.Structured is not null && rng.Next(2) == 0
                ? target.Structured(rng, seed)
                : ByteMutations.Any(rng, seed);
            string path = target.PathOf(seedIndex);
            File.WriteAllBytes(path, bytes);
            int lastExit = 0;
            foreach (string[] args in target.Commands(seedIndex, path))
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                var clock = Stopwatch.StartNew();
                var output = new StringWriter();
                var error = new StringWriter();
                int exit = CliApp.Run(args, output, error);
                clock.Stop();
                long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                maxBytes = Math.Max(maxBytes, allocated);
                maxTime = clock.Elapsed > maxTime ? clock.Elapsed : maxTime;
                string? problem = Problem(exit, output.ToString(), error.ToString(), clock.Elapsed, allocated);
                if (problem is not null)
                {
                    failures.Add($"{target.Name} case {i} (seed {seedIndex}, {what}), cimc {string.Join(' ', args.Take(1))}: {problem}");
                }

                lastExit = exit;
                if (exit != 0)
                {
                    if (refusals.Count < 8)
                    {
                        refusals.Add($"{what}: {error.ToString().Trim()}");
                    }

                    break;
                }
            }

            // Seeds that share a folder (a compiled program and its weights) see one mutation at a time.
            File.WriteAllBytes(path, seed);

            if (lastExit == 0)
            {
                accepted++;
            }
            else
            {
                refused++;
            }
        }

        return new FuzzOutcome(target.Cases, accepted, refused, maxBytes, maxTime, failures, refusals);
    }

    private static string? Problem(int exit, string output, string error, TimeSpan time, long allocated)
    {
        if (exit is not (0 or CliApp.UserError))
        {
            return $"exit {exit}: {error.Trim()}";
        }

        if (exit == CliApp.UserError && (error.TrimEnd('\n').Contains('\n') || !error.StartsWith("cimc: error: ", StringComparison.Ordinal)))
        {
            return $"not one error line: {Visible(error)}";
        }

        if (HasControl(output) || HasControl(error))
        {
            return $"control bytes printed: {Visible(error + output)}";
        }

        if (time > MaxCaseTime)
        {
            return $"took {time.TotalSeconds:F1} s";
        }

        return allocated > MaxCaseBytes ? $"allocated {allocated / (1 << 20)} MiB" : null;
    }

    /// <summary>C0 controls other than line breaks and tabs, DEL and the C1 controls (0x9B is a one-byte CSI).</summary>
    public static bool HasControl(string s) => s.Any(c => (char.IsControl(c) && c is not ('\n' or '\r' or '\t')) || c is >= '\u202A' and <= '\u202E' or >= '\u2066' and <= '\u2069');

    private static string Visible(string s) =>
        string.Concat(s.Take(400).Select(c => char.IsControl(c) && c != '\n' ? $"\\u{(int)c:X4}" : c.ToString()));
}
