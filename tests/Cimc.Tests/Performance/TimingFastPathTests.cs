using Cimc.Architectures;
using Cimc.Diagnostics;
using Cimc.Ir;
using Cimc.Performance;
using CsCheck;

namespace Cimc.Tests.Performance;

/// <summary>
/// The timing simulation's shortcuts give exactly what the plain way gives: the calendar's binary
/// search and skipped head against a scan of every interval ever reserved, and a run that keeps no
/// events (no critical path) against one that keeps them, and the objectives an exploration stores
/// against the full report's figures.
/// </summary>
public sealed class TimingFastPathTests
{
    [Fact]
    public void The_calendar_gives_every_reservation_the_gap_a_scan_of_all_intervals_gives()
    {
        Gen.Int[0, int.MaxValue].Sample(seed =>
        {
            var rng = new Random(seed);
            int resources = rng.Next(1, 4);
            var calendar = new ResourceCalendar(resources);
            var plain = Enumerable.Range(0, resources).Select(_ => new List<(double Start, double End)>()).ToArray();
            var busy = new double[resources];
            bool whole = rng.Next(2) == 0; // whole nanoseconds make ties and back-to-back intervals common
            double Draw(double scale) => whole ? rng.Next((int)scale + 1) : rng.NextDouble() * scale;
            double floor = 0; // no request starts before it, as in the simulation: the calendar may forget what ends by then
            for (int step = 0; step < 400; step++)
            {
                if (rng.Next(20) == 0)
                {
                    floor += Draw(30);
                    calendar.Forget(floor);
                }

                int r = rng.Next(resources);
                double earliest = floor + Draw(60), hold = Draw(8), until = rng.Next(3) == 0 ? earliest + Draw(12) : 0;
                (double Start, double End) expected = PlainReserve(plain[r], earliest, hold, until);
                busy[r] += hold;
                (double Start, double End) got = calendar.Reserve(r, earliest, hold, until);
                Assert.True(expected == got, $"seed {seed}, step {step}: reserved {got} where a scan of every interval finds {expected}");
            }

            Assert.Equal(busy, calendar.BusyNs);
        }, iter: 200);
    }

    [Fact]
    public void A_run_that_keeps_no_events_has_every_figure_of_one_that_does_but_the_critical_path()
    {
        int compared = 0;
        Gen.Int[0, int.MaxValue].Sample(seed =>
        {
            var rng = new Random(seed);
            Architecture arch = TimingBoundTests.RandomChip(rng);
            int[] widths = [.. Enumerable.Range(0, rng.Next(2, 5)).Select(_ => rng.Next(1, 160))];
            var settings = Passes.CompileSettings.Default with { Level = (Passes.OptLevel)rng.Next(3) };
            Compilation c;
            try
            {
                c = PerformanceFixtures.Compile(settings, arch, Compiler.OptionsFor(arch), seed, rng.Next(2) == 0 ? () => new Relu() : null, widths);
            }
            catch (CimcException)
            {
                return; // a network this chip cannot hold: nothing to time
            }

            PerformanceInput input = PerformanceInputs.For(c, rng.Next(1, 17));
            var analysis = ProgramAnalysis.Of(input);
            var plan = new TimingPlan(input, analysis);
            foreach (TimingSimulator.Mode mode in Enum.GetValues<TimingSimulator.Mode>())
            {
                TimingResult traced = TimingSimulator.Run(input, analysis, plan, mode, criticalPath: true);
                TimingResult lean = TimingSimulator.Run(input, analysis, plan, mode, criticalPath: false);
                string where = $"seed {seed}, {mode}, batch {input.Batch}";
                Assert.True(traced.LatencyNs == lean.LatencyNs && traced.MakespanNs == lean.MakespanNs && traced.ThroughputPerS == lean.ThroughputPerS, where);
                Assert.True(traced.FinishNs.SequenceEqual(lean.FinishNs) && traced.CoreFinishNs.SequenceEqual(lean.CoreFinishNs), where);
                Assert.True(traced.BusiestResource == lean.BusiestResource && traced.BusiestUtilization == lean.BusiestUtilization, where);
                Assert.True(traced.CrossbarBusyNs == lean.CrossbarBusyNs, where);
                Assert.True(traced.FirstUse!.Network.SequenceEqual(lean.FirstUse!.Network), where);
                Assert.True(traced.FirstUse.Crossbar.Cast<double>().SequenceEqual(lean.FirstUse.Crossbar.Cast<double>()), where);
                Assert.True(traced.FirstUse.AdcGroup.Cast<double>().SequenceEqual(lean.FirstUse.AdcGroup.Cast<double>()), where);
                Assert.NotEmpty(traced.CriticalPath);
                Assert.Empty(lean.CriticalPath);
            }

            Interlocked.Increment(ref compared);
        }, iter: 30, threads: 1);
        Assert.True(compared >= 10, $"only {compared} of 30 random networks fitted their chips");
    }

    [Fact]
    public void The_objectives_an_exploration_stores_are_the_full_reports_figures()
    {
        int compared = 0;
        Gen.Int[0, int.MaxValue].Sample(seed =>
        {
            var rng = new Random(seed);
            Architecture arch = TimingBoundTests.RandomChip(rng);
            int[] widths = [.. Enumerable.Range(0, rng.Next(2, 5)).Select(_ => rng.Next(1, 160))];
            var settings = Passes.CompileSettings.Default with { Level = (Passes.OptLevel)rng.Next(4) };
            Compilation c;
            try
            {
                c = PerformanceFixtures.Compile(settings, arch, Compiler.OptionsFor(arch), seed, rng.Next(2) == 0 ? () => new Relu() : null, widths);
            }
            catch (CimcException)
            {
                return; // a network this chip cannot hold: nothing to price
            }

            PerformanceInput input = PerformanceInputs.For(c, rng.Next(1, 17));
            PerformanceReport full = PerformanceReport.Evaluate(input, "m");
            PerformanceObjectives lean = PerformanceReport.Objectives(input);
            var expected = new PerformanceObjectives(new Estimate(full.LatencyNs, full.ThroughputPerS, full.EnergyNj, full.AreaMm2, full.CrossbarsUsed, full.CoresUsed,
                full.TopsPerW, full.TopsPerMm2), full.LowerBoundLatencyNs);
            Assert.True(expected == lean, $"seed {seed}, batch {input.Batch}, period {input.Program.Period}: {lean} where the report says {expected}");
            Interlocked.Increment(ref compared);
        }, iter: 30, threads: 1);
        Assert.True(compared >= 10, $"only {compared} of 30 random networks fitted their chips");
    }

    /// <summary>The calendar's rule written plainly: scan every interval ever reserved, in time order, for the first gap that holds the transfer.</summary>
    private static (double Start, double End) PlainReserve(List<(double Start, double End)> list, double earliest, double hold, double until)
    {
        double start = earliest;
        int k = 0;
        while (k < list.Count && list[k].End <= start)
        {
            k++;
        }

        while (k < list.Count && Math.Max(start + hold, until) > list[k].Start)
        {
            start = Math.Max(start, list[k].End);
            k++;
        }

        double end = Math.Max(start + hold, until);
        list.Insert(k, (start, end));
        return (start, end);
    }
}
