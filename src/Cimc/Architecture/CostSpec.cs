namespace Cimc.Architectures;

/// <summary>
/// The `costs` object of an architecture file: for each component a published figure at an
/// <em>anchor</em> (the design point the source measured: array size, ADC bits, memory size, ...)
/// and the parameters of the documented function that carries it to the architecture's own
/// parameters (docs/cost-model.md section 1; <see cref="Performance.ComponentCosts"/> evaluates them).
/// At the anchor every function returns the published figure exactly. Units are in the names:
/// pJ per event, ns, mm^2, mW. Every preset cites a source for each group in `sources`.
/// </summary>
public sealed record CostSpec(
    CrossbarCost Crossbar,
    AdcCurve Adc,
    DacCost Dac,
    SampleHoldCost SampleHold,
    ShiftAddCost ShiftAdd,
    LocalMemoryCost LocalMemory,
    TileBufferCost TileBuffer,
    TileBusCost TileBus,
    AluCost Alu,
    NocCost Noc,
    OffChipCost OffChip);

/// <summary>
/// One physical crossbar, published at <see cref="AnchorRows"/> x <see cref="AnchorCols"/> cells
/// of <see cref="AnchorCellBits"/> bits driven by <see cref="AnchorDacBits"/>-bit DACs: one read
/// (one input slice on all rows and columns) costs <see cref="ReadEnergyPj"/> and takes
/// <see cref="ReadLatencyNs"/>.
/// </summary>
public sealed record CrossbarCost(
    int AnchorRows,
    int AnchorCols,
    int AnchorCellBits,
    int AnchorDacBits,
    double ReadEnergyPj,
    double ReadLatencyNs,
    double AreaMm2,
    double LeakageMw);

/// <summary>The figures of one ADC resolution: energy and time of one conversion, area and leakage of one converter.</summary>
public sealed record AdcCost(int Bits, double EnergyPj, double LatencyNs, double AreaMm2, double LeakageMw);

/// <summary>
/// The ADC as a figure-of-merit curve through one published converter (<see cref="Anchor"/>):
/// energy per conversion and area go as <c>b + k * g^(b - k)</c> in the resolution b (linear
/// below the knee k, growing g-fold per bit above it; Walden g = 2, Schreier/thermal g = 4), and
/// a successive-approximation conversion takes <c>b + overhead_cycles</c> steps of the anchor's clock.
/// </summary>
public sealed record AdcCurve(
    AdcCost Anchor,
    double EnergyKneeBits,
    double EnergyGrowthPerBit,
    double AreaKneeBits,
    double AreaGrowthPerBit,
    double OverheadCycles);

/// <summary>
/// A row driver published at <see cref="AnchorBits"/> bits driving a read pulse of
/// <see cref="AnchorPulseNs"/>: <see cref="EnergyPj"/> per drive (its power over the pulse).
/// </summary>
public sealed record DacCost(int AnchorBits, double AnchorPulseNs, double EnergyPj, double AreaMm2, double LeakageMw);

/// <summary>One column's sample-and-hold, published behind an <see cref="AnchorAdcBits"/>-bit ADC: per sample.</summary>
public sealed record SampleHoldCost(int AnchorAdcBits, double EnergyPj, double AreaMm2, double LeakageMw);

/// <summary>A shift-and-add unit published at <see cref="AnchorWidthBits"/> bits: per operation (one column, one slice).</summary>
public sealed record ShiftAddCost(int AnchorWidthBits, double EnergyPj, double AreaMm2, double LeakageMw);

/// <summary>
/// Core local memory, published at <see cref="AnchorWords"/> entries: energy per entry accessed at
/// that size; area and leakage per 1024 physical entries (they scale with the entries the core has).
/// </summary>
public sealed record LocalMemoryCost(int AnchorWords, double AccessEnergyPj, double AccessLatencyNs, double AreaMm2PerKword, double LeakageMwPerKword);

/// <summary>
/// The tile's shared buffer, published at <see cref="AnchorBytes"/> with a <see cref="AnchorAccessBits"/>-bit
/// port; this design's port is <see cref="AccessBits"/> wide.
/// </summary>
public sealed record TileBufferCost(
    long AnchorBytes,
    int AnchorAccessBits,
    double AccessEnergyPj,
    int AccessBits,
    double AccessLatencyNs,
    double AreaMm2,
    double LeakageMw);

/// <summary>The tile bus, published at <see cref="AnchorBusBits"/> wires: energy per bit moved, area and leakage of the bus.</summary>
public sealed record TileBusCost(int AnchorBusBits, double EnergyPj, double AreaMm2, double LeakageMw);

/// <summary>The core's vector ALU, per element operation, and its area and leakage per lane.</summary>
public sealed record AluCost(double AddEnergyPj, double MulEnergyPj, double LookupEnergyPj, double AreaMm2PerLane, double LeakageMwPerLane);

/// <summary>The mesh, published at <see cref="AnchorLinkBits"/>-bit links: energy per bit through one router and over one link; area and leakage per router.</summary>
public sealed record NocCost(int AnchorLinkBits, double RouterEnergyPjPerBit, double LinkEnergyPjPerBit, double RouterAreaMm2, double RouterLeakageMw);

/// <summary>
/// Chip-to-chip links (ISAAC's and PUMA's HyperTransport): part of the published chip's area and
/// power, so part of <c>area_mm2</c> and the peak power; cimc models one chip, so no traffic crosses them.
/// </summary>
public sealed record OffChipCost(int Links, double PowerMwPerLink, double AreaMm2PerLink);
