using System.CommandLine;
using Cimc.Diagnostics;
using Cimc.Simulation.Devices;

namespace Cimc.Cli.Commands;

/// <summary>
/// Device non-ideality options (docs/nonidealities.md), shared by compile, run, simulate and
/// accuracy: --variation, --variation-model, --stuck-at, --read-noise, --conductance-levels, --seed,
/// --seeds.
/// </summary>
internal sealed class DeviceOptionsBinder
{
    public Option<double?> Variation { get; } = new("--variation") { Description = "programming variation sigma, relative to the top conductance (gaussian) or log-normal sigma" };

    public Option<string?> Model { get; } = new("--variation-model") { Description = "variation model: gaussian (default) or lognormal" };

    public Option<string?> StuckAt { get; } = new("--stuck-at") { Description = "rates of cells stuck at low and at high conductance: P0,P1" };

    public Option<double?> ReadNoise { get; } = new("--read-noise") { Description = "read noise sigma per crossbar read, relative to each cell's current" };

    public Option<int?> Levels { get; } = new("--conductance-levels") { Description = "conductance levels a cell can hold (default: 2^cell_bits)" };

    public Option<ulong> Seed { get; } = new("--seed") { Description = "seed of the device's randomness", DefaultValueFactory = _ => 1 };

    public Option<int> Seeds { get; } = new("--seeds") { Description = "repeat with N seeds (seed, seed+1, ...) and report mean and standard deviation", DefaultValueFactory = _ => 1 };

    public void AddTo(Command command, bool withSeeds)
    {
        foreach (Option option in new Option[] { Variation, Model, StuckAt, ReadNoise, Levels, Seed })
        {
            command.Options.Add(option);
        }

        if (withSeeds)
        {
            command.Options.Add(Seeds);
        }
    }

    /// <summary>True when any device option was given on the command line.</summary>
    public bool AnyGiven(ParseResult parse) =>
        parse.GetValue(Variation) is not null || parse.GetValue(StuckAt) is not null || parse.GetValue(ReadNoise) is not null || parse.GetValue(Levels) is not null;

    /// <summary>The first device option given on the command line (even at its default value), or null.</summary>
    public string? FirstGiven(ParseResult parse) =>
        new Option[] { Variation, Model, StuckAt, ReadNoise, Levels, Seed, Seeds }.FirstOrDefault(o => parse.GetResult(o) is { Implicit: false })?.Name;

    public DeviceModel Device(ParseResult parse)
    {
        (double low, double high) = parse.GetValue(StuckAt) is { } s ? DeviceModel.ParseStuckAt(s) : (0, 0);
        return new DeviceModel(
            parse.GetValue(Variation) ?? 0,
            parse.GetValue(Model) is { } m ? DeviceModel.ParseModel(m) : VariationModel.Gaussian,
            low,
            high,
            parse.GetValue(ReadNoise) ?? 0,
            parse.GetValue(Levels) ?? 0,
            parse.GetValue(Seed)).Validate();
    }

    /// <summary>Checks every device option, so that a mistake is reported before any work.</summary>
    public void Validate(ParseResult parse)
    {
        Device(parse);
        SeedList(parse);
    }

    /// <summary>The seeds to run: --seed, --seed + 1, ... (--seeds of them).</summary>
    public IReadOnlyList<ulong> SeedList(ParseResult parse)
    {
        int n = parse.GetValue(Seeds);
        if (n is < 1 or > 1000)
        {
            throw new CimcException("bad-option", "--seeds", $"must be between 1 and 1000 (got {n})");
        }

        ulong first = parse.GetValue(Seed);
        return [.. Enumerable.Range(0, n).Select(i => first + (ulong)i)];
    }
}
