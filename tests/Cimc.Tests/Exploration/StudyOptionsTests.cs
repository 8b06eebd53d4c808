using Cimc.Diagnostics;
using Cimc.Exploration;

namespace Cimc.Tests.Exploration;

public sealed class StudyOptionsTests
{
    private static readonly PointResult Row = new("k", "{}", true, null, LatencyNs: 100, ThroughputPerS: 5e5, EnergyNj: 20, AreaMm2: 150, Accuracy: 0.8);

    [Fact]
    public void Constraints_parse_every_operator_and_measure_how_far_a_point_misses_them()
    {
        Assert.Equal(0, Constraint.Parse("area_mm2<=150").Violation(Row));
        Assert.Equal(0.5, Constraint.Parse("area_mm2 <= 100").Violation(Row), 12);
        Assert.Equal(0, Constraint.Parse("accuracy>=0.8").Violation(Row));
        Assert.True(Constraint.Parse("accuracy>0.8").Violation(Row) > 0);
        Assert.Equal(0, Constraint.Parse("latency_ns<101").Violation(Row));
        Assert.Equal(1, Constraint.Parse("tops_per_w>1").Violation(Row)); // a missing figure counts as a miss
        Assert.Throws<CimcException>(() => Constraint.Parse("area_mm2=100"));
        Assert.Throws<CimcException>(() => Constraint.Parse("area_mm2<=big"));
    }

    [Fact]
    public void Maximised_objectives_are_negated_so_that_every_cost_is_minimised()
    {
        var objectives = Objective.ParseList("throughput_per_s,latency_ns,accuracy");
        Assert.Equal([-5e5, 100, -0.8], objectives.Select(o => o.Cost(Row)!.Value));
        Assert.Throws<CimcException>(() => Objective.ParseList("speed"));
        Assert.Contains(Objective.Defaults(true), o => o.Name == "accuracy");
        Assert.DoesNotContain(Objective.Defaults(false), o => o.Name == "accuracy");
    }

    [Fact]
    public void Shards_split_the_positions_without_overlap_and_refuse_bad_forms()
    {
        Shard[] shards = [Shard.Parse("0/3"), Shard.Parse("1/3"), Shard.Parse("2/3")];
        for (long p = 0; p < 30; p++)
        {
            Assert.Single(shards, s => s.Owns(p));
        }

        foreach (string bad in new[] { "3/3", "1", "-1/2", "a/b", "0/0" })
        {
            Assert.Throws<CimcException>(() => Shard.Parse(bad));
        }
    }

    [Fact]
    public void Progress_off_a_terminal_is_plain_lines_with_the_count_the_rate_and_the_time_left()
    {
        var writer = new StringWriter();
        var progress = new ProgressPrinter(writer, terminal: false, plainEvery: TimeSpan.Zero);
        progress.Report(1, 4);
        progress.Report(4, 4);
        string[] lines = writer.ToString().TrimEnd().Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.DoesNotContain('\r', writer.ToString());
        Assert.Contains("1/4 points", lines[0]);
        Assert.Contains("points/s, ETA", lines[0]);
        Assert.EndsWith("ETA done", lines[1].TrimEnd());
        Assert.Equal("explore [############............] 2/4 points, 1 points/s, ETA 2 s", ProgressPrinter.Line(2, 4, TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public void A_space_file_with_mistakes_is_refused_with_the_place_named()
    {
        Assert.Contains("params", Assert.Throws<CimcException>(() => DesignSpace.Parse("""{ "arch": "isaac" }""")).Message);
        Assert.Contains("unknown key", Assert.Throws<CimcException>(() => DesignSpace.Parse("""{ "arch": "isaac", "parms": {} }""")).Message);
        Assert.Contains("params.weight-bits", Assert.Throws<CimcException>(() => DesignSpace.Parse("""{ "arch": "isaac", "params": { "weight-bits": [[4]] } }""")).Message);
        Assert.Contains("unknown architecture", Assert.Throws<CimcException>(() => DesignSpace.Parse("""{ "arch": "nope", "params": { "weight-bits": [4] } }""")).Message);
        Assert.Contains("invalid JSON", Assert.Throws<CimcException>(() => DesignSpace.Parse("{ arch")).Message);
        DesignSpace s = DesignSpace.Parse("""{ "arch": "isaac", "params": { "a.b": [1, 2, 2], "c": "x" } }""");
        Assert.Equal(2, s.Parameters[0].Values.Length); // duplicates dropped
        Assert.Equal(2, s.Size);
        Assert.Equal(s.PointAt(1).Key, s.Point([1, 0]).Key);
        Assert.NotEqual(s.PointAt(0).Key, s.PointAt(1).Key);
    }
}
