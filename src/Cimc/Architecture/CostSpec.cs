using System.Collections.Immutable;

namespace Cimc.Architectures;

/// <summary>
/// The energy, latency, area and leakage of each component, as data (the `costs` object of an
/// architecture file; docs/cost-model.md gives every formula that uses them). Units are in the
/// names: pJ per event, ns, mm^2, mW. Every preset cites a source for each entry in `sources`.
/// </summary>
public sealed record CostSpec(
    CrossbarCost Crossbar,
    AdcCostTable Adc,
    UnitCost Dac,
    UnitCost SampleHold,
    UnitCost ShiftAdd,
    LocalMemoryCost LocalMemory,
    TileBufferCost TileBuffer,
    UnitCost TileBus,
    AluCost Alu,
    NocCost Noc);

/// <summary>One physical crossbar: one read = one input slice applied to all its rows and columns.</summary>
public sealed record CrossbarCost(double ReadEnergyPj, double ReadLatencyNs, double AreaMm2, double LeakageMw);

/// <summary>
/// A component charged per event with an area and a leakage per instance: a 1-bit DAC (per row
/// drive), a sample-and-hold (per column sample), a shift-and-add (per column per slice), the tile
/// bus (EnergyPj is per bit moved).
/// </summary>
public sealed record UnitCost(double EnergyPj, double AreaMm2, double LeakageMw);

/// <summary>One ADC resolution: energy and time of one conversion, area and leakage of one converter.</summary>
public sealed record AdcCost(int Bits, double EnergyPj, double LatencyNs, double AreaMm2, double LeakageMw);

/// <summary>The ADC by resolution (a table because energy and area grow faster than linearly with bits).</summary>
public sealed class AdcCostTable(ImmutableArray<AdcCost> entries) : IEquatable<AdcCostTable>
{
    public ImmutableArray<AdcCost> Entries { get; } = [.. entries.OrderBy(e => e.Bits)];

    /// <summary>
    /// The entry for <paramref name="bits"/>, or the next larger resolution in the table (a
    /// converter of more bits can serve; it never under-charges); null when the table has none.
    /// </summary>
    public AdcCost? For(int bits) => Entries.FirstOrDefault(e => e.Bits >= bits);

    public bool Equals(AdcCostTable? other) => other is not null && Entries.SequenceEqual(other.Entries);

    public override bool Equals(object? obj) => Equals(obj as AdcCostTable);

    public override int GetHashCode() => Entries.Length;
}

/// <summary>Core local memory: per 64-bit word accessed; area and leakage per 1024 words.</summary>
public sealed record LocalMemoryCost(double AccessEnergyPj, double AccessLatencyNs, double AreaMm2PerKword, double LeakageMwPerKword);

/// <summary>The tile's shared buffer: one access moves <see cref="AccessBits"/> bits.</summary>
public sealed record TileBufferCost(double AccessEnergyPj, int AccessBits, double AccessLatencyNs, double AreaMm2, double LeakageMw);

/// <summary>The core's vector ALU, per element operation, and its area and leakage per lane.</summary>
public sealed record AluCost(double AddEnergyPj, double MulEnergyPj, double LookupEnergyPj, double AreaMm2PerLane, double LeakageMwPerLane);

/// <summary>The mesh: energy per bit through one router and over one link; area and leakage per router.</summary>
public sealed record NocCost(double RouterEnergyPjPerBit, double LinkEnergyPjPerBit, double RouterAreaMm2, double RouterLeakageMw);
