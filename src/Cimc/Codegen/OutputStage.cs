using Cimc.Isa;
using Cimc.Mapping;
using Cimc.Quantization;

namespace Cimc.Codegen;

/// <summary>
/// The digital side of a layer (docs/quantization.md sections 4 and 6), split by who can do it:
/// the offset encoding's input-sum correction is linear, so each core applies it for the row blocks
/// whose first crossbar it holds, before the reduction; the bias, requantization and activation
/// (the special-function unit, <c>vact</c>) run on a column block's root after the reduction, over
/// that block's columns only, in place over its accumulators.
/// </summary>
internal static class OutputStage
{
    /// <summary>
    /// acc[o] -= Qw * sum of the inputs of the row blocks this core owns in each column block it holds
    /// (owner: the core of the block's first crossbar of that row block), so that the owners together
    /// subtract Qw * sum of all inputs exactly once per column.
    /// </summary>
    public static void OffsetCorrection(Emitter em, LayerCores layer, IReadOnlyDictionary<int, CoreMemoryLayout> memory)
    {
        long qw = layer.Layer.Mapped.Layer.WeightMax;
        var owners = layer.Layer.Blocks.GroupBy(pb => (pb.Block.ColBlock, pb.Block.RowBlock)).Select(g => g.First());
        foreach (var perCoreAndColumn in owners.GroupBy(pb => (pb.Core, pb.Block.ColBlock)).OrderBy(g => g.Key))
        {
            List<Instruction> code = em[perCoreAndColumn.Key.Core];
            CoreMemoryLayout mem = memory[perCoreAndColumn.Key.Core];
            CrossbarBlock first = perCoreAndColumn.First().Block;
            foreach ((int lo, int hi) in Runs(perCoreAndColumn.Select(pb => (pb.Block.RowStart, pb.Block.RowStart + pb.Block.RowCount))))
            {
                code.Add(Instruction.VSum(mem.InputSum, mem.InputAddr(lo), hi - lo));
                code.Add(Instruction.VAxpy(mem.AccAddr(first.ColStart), mem.InputSum, -qw, first.ColCount));
            }
        }
    }

    /// <summary>The vact function field for a layer's activation.</summary>
    public static ActivationFunction FunctionOf(ActivationKind kind) => kind switch
    {
        ActivationKind.Sigmoid => ActivationFunction.Sigmoid,
        ActivationKind.Tanh => ActivationFunction.Tanh,
        ActivationKind.LeakyRelu => ActivationFunction.LeakyRelu,
        _ => throw new InvalidOperationException($"codegen: {kind} does not run on the special-function unit"),
    };

    /// <summary>
    /// Bias, requantization and activation of one column block on its root (<paramref name="mem"/>);
    /// returns where its results are. <paramref name="biasAdded"/>: the accumulators started at the
    /// bias (the fold-bias pass), so no add here.
    /// </summary>
    public static int Emit(Emitter em, LayerCores layer, ColumnBlock block, CoreMemoryLayout mem, bool activationLoaded, bool biasAdded = false)
    {
        MappedLayer mapped = layer.Layer.Mapped;
        QuantizedLayer q = mapped.Layer;
        int root = block.Root, c0 = block.ColStart, n = block.ColCount, acc = mem.AccAddr(c0);
        (int bias, int parameters) = mem.ConstantsOf(block.Index);
        List<Instruction> code = em[root];
        em.Data(root, bias, mapped.EffectiveBias.Skip(c0).Take(n));
        if (!biasAdded)
        {
            code.Add(Instruction.VAdd(acc, acc, bias, n));
        }

        if (q.OutputsAccumulator)
        {
            return acc;
        }

        ActivationQuant target = q.PreActivation ?? q.Output!;
        long lo = q.Activation == ActivationKind.Relu ? target.ZeroPoint : 0;
        em.Data(root, parameters, [target.ZeroPoint, lo, target.Max, .. q.Requant.Skip(c0).Take(n).SelectMany(r => new[] { r.Multiplier, (long)r.Shift })]);
        code.Add(Instruction.VRequant(acc, acc, parameters, n));
        if (q.PreActivation is { } pre)
        {
            if (!activationLoaded)
            {
                ActivationQuant y = q.Output!;
                em.Data(root, mem.Activation, new ActivationParams(pre.ZeroPoint, pre.Max, pre.Scale, y.ZeroPoint, y.Max, y.Scale, q.Alpha).ToWords());
            }

            code.Add(Instruction.VAct(acc, acc, mem.Activation, n, (long)FunctionOf(q.Activation)));
        }

        return acc;
    }

    /// <summary>Merges row ranges that touch into contiguous runs, ascending.</summary>
    private static IEnumerable<(int Lo, int Hi)> Runs(IEnumerable<(int Lo, int Hi)> ranges)
    {
        (int Lo, int Hi)? run = null;
        foreach ((int lo, int hi) in ranges.OrderBy(r => r.Lo))
        {
            if (run is { } r && r.Hi == lo)
            {
                run = (r.Lo, hi);
                continue;
            }

            if (run is { } done)
            {
                yield return done;
            }

            run = (lo, hi);
        }

        if (run is { } last)
        {
            yield return last;
        }
    }
}
