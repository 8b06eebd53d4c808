using System.Collections.Immutable;
using Cimc.Architectures;
using Cimc.Diagnostics;
using Cimc.Isa;

namespace Cimc.Performance;

/// <summary>A layer as the reports name it: its shape (for MACs) and the cores that hold it (for the lower bound).</summary>
public sealed record LayerSpan(string Name, int InFeatures, int OutFeatures, ImmutableArray<int> Cores)
{
    /// <summary>Output pixels per inference: a convolution runs its crossbars once per window (1 for a dense layer).</summary>
    public int Windows { get; init; } = 1;

    /// <summary>The crossbar layers it reads (<see cref="LayerInputs"/>); null in a chain of dense layers, where it reads all of the layer before.</summary>
    public ImmutableArray<LayerInput>? Inputs { get; init; }

    public long Macs => (long)InFeatures * OutFeatures * Windows;
}

/// <summary>
/// What the performance model needs: a compiled program, the architecture with its costs (the
/// program's header must match it), the layers (from the compile or summary.json), and how many
/// inferences stream through (--batch).
/// </summary>
public sealed record PerformanceInput(ProgramImage Program, Architecture Arch, ImmutableArray<LayerSpan> Layers, int Batch = 1)
{
    public const string Code = "cannot-simulate";

    public CostSpec Costs => Arch.Costs ?? throw new CimcException(Code, "--arch",
        $"architecture '{Arch.Name}' has no costs object, so it has no energy, latency or area figures: add one (docs/cost-model.md; `cimc arch show puma --json` prints a complete example)");

    /// <summary>The float network's multiply-accumulates per inference (2 ops each for TOPS).</summary>
    public long Macs => Layers.Sum(l => l.Macs);

    /// <summary>Refuses a program compiled for another chip, a batch out of range or an ADC resolution the cost table lacks.</summary>
    public void Validate()
    {
        ArchHeader expected = Compiler.Header(Arch);
        if (Program.Arch != expected)
        {
            throw new CimcException(Code, "--arch",
                $"the program was compiled for a different chip than '{Arch.Name}' ({Describe(Program.Arch)} vs {Describe(expected)}): pass the --arch it was compiled with");
        }

        if (Batch is < 1 or > 100_000)
        {
            throw new CimcException(Code, "--batch", $"must be between 1 and 100000 (got {Batch})");
        }

        _ = Costs; // an architecture without costs is refused here, in one line
    }

    private static string Describe(ArchHeader h) =>
        $"{h.Tiles} tiles x {h.CoresPerTile} cores x {h.CrossbarsPerCore} crossbars of {h.Rows}x{h.Cols}, {h.AdcBits}-bit ADC, {h.LocalWords} local words";
}

/// <summary>Building the input from a finished compile.</summary>
public static class PerformanceInputs
{
    /// <summary>Each segment of a weight-reloading compile (or the one program) as the performance model takes it (<see cref="ReloadReport"/>).</summary>
    public static ImmutableArray<PerformanceInput> Segments(Compilation c, int batch = 1) =>
        c.IsSegmented ? [.. c.Segments.Select(s => For(s, batch))] : [For(c, batch)];

    public static PerformanceInput For(Compilation c, int batch = 1) =>
        For(c.Program ?? throw new InvalidOperationException("performance needs a compiled program"), c.Architecture, c.Placed!, batch);

    /// <summary>A program compiled from <paramref name="placed"/>: its layers with their cores, windows and producers.</summary>
    public static PerformanceInput For(ProgramImage program, Architecture arch, Placement.PlacedModel placed, int batch = 1)
    {
        var graph = placed.Mapped.Model.Graph is { } g ? LayerInputs.Of(g, placed.Layers.Length) : default;
        return new(program, arch, [.. placed.Layers.Select((l, i) => new LayerSpan(l.Mapped.Layer.Name, l.Mapped.Layer.InFeatures, l.Mapped.Layer.OutFeatures, l.Cores)
        {
            Windows = graph.IsDefault ? 1 : graph[i].Windows,
            Inputs = graph.IsDefault ? null : graph[i].Inputs,
        })], batch);
    }
}
