using System.Globalization;
using System.Text.Json.Serialization;
using Cimc.Diagnostics;

namespace Cimc.Simulation.Devices;

/// <summary>How programming variation perturbs a cell's conductance (docs/nonidealities.md).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<VariationModel>))]
public enum VariationModel
{
    /// <summary>g' = g + sigma * gmax * N(0,1), at least 0: the same spread for every level.</summary>
    Gaussian,

    /// <summary>g' = g * exp(sigma * N(0,1)): a spread proportional to the level; an off cell stays off.</summary>
    LogNormal,
}

/// <summary>
/// Device non-idealities the functional simulator applies to crossbar reads, all seeded and
/// reproducible: programming variation, stuck-at-low/high cells, read noise per read, and a finite
/// number of conductance levels. Conductances are in units of one level (an ideal cell of level L
/// conducts L), so with every figure at zero the analog read equals the digital one bit for bit.
/// </summary>
public sealed record DeviceModel(
    double Variation = 0,
    VariationModel Model = VariationModel.Gaussian,
    double StuckLow = 0,
    double StuckHigh = 0,
    double ReadNoise = 0,
    int ConductanceLevels = 0,
    ulong Seed = 0)
{
    public static DeviceModel Ideal { get; } = new();

    /// <summary>True when nothing perturbs the cells or the reads.</summary>
    [JsonIgnore]
    public bool IsIdeal => Variation == 0 && StuckLow == 0 && StuckHigh == 0 && ReadNoise == 0 && ConductanceLevels == 0;

    public DeviceModel Validate()
    {
        if (!(Variation >= 0) || double.IsInfinity(Variation))
        {
            throw new CimcException("bad-option", "--variation", $"must be a non-negative number (got {Variation})");
        }

        if (!(ReadNoise >= 0) || double.IsInfinity(ReadNoise))
        {
            throw new CimcException("bad-option", "--read-noise", $"must be a non-negative number (got {ReadNoise})");
        }

        if (!(StuckLow >= 0) || !(StuckHigh >= 0) || StuckLow + StuckHigh > 1)
        {
            throw new CimcException("bad-option", "--stuck-at", $"rates must be non-negative and sum to at most 1 (got {StuckLow},{StuckHigh})");
        }

        if (ConductanceLevels is 1 or < 0)
        {
            throw new CimcException("bad-option", "--conductance-levels", $"must be at least 2 (got {ConductanceLevels})");
        }

        return this;
    }

    public DeviceModel WithSeed(ulong seed) => this with { Seed = seed };

    /// <summary>Parses "P0,P1" for --stuck-at.</summary>
    public static (double Low, double High) ParseStuckAt(string text)
    {
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length == 2
            && double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double low)
            && double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double high))
        {
            return (low, high);
        }

        throw new CimcException("bad-option", "--stuck-at", $"expected two rates P0,P1 (stuck at low, stuck at high), got '{text}'");
    }

    public static VariationModel ParseModel(string text) => text.ToLowerInvariant() switch
    {
        "gaussian" => VariationModel.Gaussian,
        "lognormal" or "log-normal" => VariationModel.LogNormal,
        _ => throw new CimcException("bad-option", "--variation-model", $"unknown model '{text}'; expected gaussian or lognormal"),
    };
}
