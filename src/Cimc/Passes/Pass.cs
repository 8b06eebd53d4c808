using Cimc.Architectures;
using Cimc.Quantization;

namespace Cimc.Passes;

/// <summary>The IRs a compile goes through, in order; each pass reads one and produces the same or the next.</summary>
public enum IrStage
{
    Graph,
    Quantized,
    Mapped,
    Placed,
    Scheduled,
    Program,
}

/// <summary>What every pass may read besides the IR: the chip, the quantization scheme, calibration samples and a seed for searches.</summary>
public sealed record PassContext(Architecture Architecture, QuantizationOptions Options, CalibrationSource? Calibration, int Seed = 1)
{
    /// <summary>The crossbars the replicate passes may fill (default: the whole chip).</summary>
    public Mapping.ReplicationBudget ReplicationBudget { get; init; } = Mapping.ReplicationBudget.WholeChip;

    /// <summary>Copies per crossbar block for the split-slices pass (--slice-split); auto when the pass is named without it.</summary>
    public Mapping.SliceSplitChoice SliceSplit { get; init; } = Mapping.SliceSplitChoice.Auto;

    /// <summary>Whether emit builds the weight image; cost-only flows (estimates, `simulate MODEL`) need only the program.</summary>
    public bool WeightImage { get; init; } = true;
}

/// <summary>
/// A pass: a pure function from one stage of the compilation to the next (or the same stage,
/// rewritten), with its contract. <see cref="Needs"/> is the IR it reads (the latest stage the
/// compilation holds when it runs); <see cref="Produces"/> the IR it leaves; <see cref="Guarantees"/>
/// says in words what holds afterwards (and the verifier of <see cref="Produces"/> checks it).
/// </summary>
public sealed record Pass(string Name, IrStage Needs, IrStage Produces, string Does, string Guarantees, Func<Compilation, PassContext, Compilation> Apply);

/// <summary>
/// One pass as it ran: how long it took and, once cores are placed, the placement's traffic on the
/// mesh and (when estimates are asked for) the timing model's latency and throughput of the
/// program so far, each beside its bound. summary.json lists these under "passes".
/// </summary>
public sealed record AppliedPass(string Name, double Milliseconds)
{
    /// <summary>Words x hops per inference of the placed model after this pass (null before placement).</summary>
    public long? TrafficHops { get; init; }

    /// <summary>Words per inference on the busiest mesh link after this pass (null before placement).</summary>
    public long? BusiestLinkWords { get; init; }

    /// <summary>Single-inference latency after this pass, from the timing model (null before placement or without estimates).</summary>
    public double? LatencyNs { get; init; }

    /// <summary>Streamed throughput of the program after this pass, inferences per second (null before placement or without estimates).</summary>
    public double? InferencesPerSecond { get; init; }

    /// <summary>The timing model's lower bound on the latency, beside <see cref="LatencyNs"/>.</summary>
    public double? LowerBoundLatencyNs { get; init; }

    /// <summary>The timing model's upper bound on the throughput, beside <see cref="InferencesPerSecond"/>.</summary>
    public double? UpperBoundInferencesPerSecond { get; init; }

    /// <summary>After a replicate pass: the replica count of each layer (null for other passes).</summary>
    public System.Collections.Immutable.ImmutableArray<int>? Replicas { get; init; }

    /// <summary>After the split-slices pass: each layer's copies per crossbar block (null for other passes).</summary>
    public System.Collections.Immutable.ImmutableArray<int>? SliceCopies { get; init; }

    /// <summary>After a replicate pass: the throughput its balance estimates (1 / slowest stage), inferences per second.</summary>
    public double? EstimatedInferencesPerSecond { get; init; }
}
