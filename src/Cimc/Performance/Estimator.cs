using Cimc.Architectures;
using Cimc.Diagnostics;
using Cimc.Quantization;

namespace Cimc.Performance;

/// <summary>
/// Latency, throughput, energy and area of a quantized model on a chip from the layers' shapes alone:
/// no weight is cut into crossbars, no code is generated, nothing is simulated; microseconds where
/// compiling and simulating take tens of milliseconds (the screening fidelity of `cimc explore`).
/// It walks the schedule the compiler would emit (Codegen/CodeGenerator.cs, linear placement) layer
/// by layer, with the timing model's durations and the cost model's energies
/// (<see cref="CostModel"/>, <see cref="ComponentCosts"/>, so the two cannot drift):
/// <list type="number">
/// <item>each core clears its accumulators and gets its input rows: the first layer loads them from
///   the input tile; later layers' hubs receive chunks of the previous layer's outputs around the
///   ring of tiles (or straight from each producer), store what their tile shares and signal their
///   peers, which load their rows;</item>
/// <item>each core issues one mvm per crossbar it holds; crossbars run at once, an ADC group's
///   crossbars take turns on its converters (the simulator's pipeline rule);</item>
/// <item>per column block, partial sums meet in a binomial tree (or a chain) at the root, which adds
///   the bias, requantizes, applies the activation and sends the codes on.</item>
/// </list>
/// What it leaves out: contention on links and between messages (a tile's bus is queued), the
/// placement passes other than linear (-O3's search, --placement), and memory or tile-buffer
/// overflow (a point that fits the crossbars but not the memories is found out by simulation).
/// Crossbars, cores and chip area are exact. EstimatorTests measures the agreement.
/// </summary>
public static class Estimator
{
    /// <summary>Inferences of a batch walked one after another; the rest keep the pace of the last two.</summary>
    public const int StreamedInferences = 2;

    /// <param name="ring">The broadcast-ring pass is on (-O1 and up).</param>
    /// <param name="tree">The reduce-tree pass is on (-O1 and up).</param>
    public static Estimate Of(QuantizedModel model, Architecture arch, int batch = 1, bool ring = true, bool tree = true)
    {
        if (arch.Costs is null)
        {
            throw new CimcException(PerformanceInput.Code, "--arch", $"architecture '{arch.Name}' has no costs object, so it has no energy, latency or area figures");
        }

        var layers = new List<EstimatedLayer>(model.Layers.Length);
        int next = 0;
        for (int l = 0; l < model.Layers.Length; l++)
        {
            EstimatedLayer e = EstimatedLayer.Of(model.Layers[l], arch, model.Options.SignedWeights, next, Mapping.RowCut.PositionRows(model, l));
            layers.Add(e);
            next += e.Slots;
        }

        if (next > arch.TotalCores)
        {
            int crossbars = layers.Sum(l => l.Blocks);
            throw new CimcException("does-not-fit", "placement",
                $"the network needs {crossbars} crossbars ({next} cores of {arch.Core.Crossbars}, one layer per core) but {(arch.Chips == 1 ? "the chip" : $"the node of {arch.Chips} chips")} has {arch.TotalCrossbars} crossbars ({arch.TotalCores} cores); it needs {Placement.Placer.ChipsFor(next, arch.CoresPerChip)} chips (--chips {Placement.Placer.ChipsFor(next, arch.CoresPerChip)} or --chips auto)");
        }

        var walk = new EstimateWalk(arch, layers, model.Options.SignedWeights, ring, tree);
        walk.Run(Math.Min(batch, StreamedInferences));
        return walk.Result(batch, model.Layers.Sum(l => (long)l.InFeatures * l.OutFeatures));
    }
}
