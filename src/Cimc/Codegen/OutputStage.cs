using Cimc.Isa;
using Cimc.Mapping;
using Cimc.Quantization;

namespace Cimc.Codegen;

/// <summary>
/// The digital side of a layer (docs/quantization.md sections 4 and 6), split by who can do it:
/// the offset encoding's input-sum correction is linear, so each core applies it for the row blocks
/// whose first crossbar it holds, before the reduction; the bias, requantization and lookup table
/// run on a column block's root after the reduction, over that block's columns only.
/// </summary>
internal static class OutputStage
{
    /// <summary>
    /// acc[o] -= Qw * sum of the inputs of the row blocks this core owns in each column block it holds
    /// (owner: the core of the block's first crossbar of that row block), so that the owners together
    /// subtract Qw * sum of all inputs exactly once per column.
    /// </summary>
    public static void OffsetCorrection(Emitter em, LayerCores layer, CoreMemoryLayout mem)
    {
        long qw = layer.Layer.Mapped.Layer.WeightMax;
        var owners = layer.Layer.Blocks.GroupBy(pb => (pb.Block.ColBlock, pb.Block.RowBlock)).Select(g => g.First());
        foreach (var perCoreAndColumn in owners.GroupBy(pb => (pb.Core, pb.Block.ColBlock)).OrderBy(g => g.Key))
        {
            List<Instruction> code = em[perCoreAndColumn.Key.Core];
            CrossbarBlock first = perCoreAndColumn.First().Block;
            foreach ((int lo, int hi) in Runs(perCoreAndColumn.Select(pb => (pb.Block.RowStart, pb.Block.RowStart + pb.Block.RowCount))))
            {
                code.Add(Instruction.VSum(mem.InputSum, mem.Input + lo, hi - lo));
                code.Add(Instruction.VAxpy(mem.Acc + first.ColStart, mem.InputSum, -qw, first.ColCount));
            }
        }
    }

    /// <summary>Bias, requantization and activation of one column block on its root; returns where its results are.</summary>
    public static int Emit(Emitter em, LayerCores layer, ColumnBlock block, CoreMemoryLayout mem, bool tableLoaded)
    {
        MappedLayer mapped = layer.Layer.Mapped;
        QuantizedLayer q = mapped.Layer;
        int root = block.Root, c0 = block.ColStart, n = block.ColCount;
        List<Instruction> code = em[root];
        em.Data(root, mem.Bias + c0, mapped.EffectiveBias.Skip(c0).Take(n));
        code.Add(Instruction.VAdd(mem.Acc + c0, mem.Acc + c0, mem.Bias + c0, n));
        if (q.OutputsAccumulator)
        {
            return mem.Acc + c0;
        }

        ActivationQuant target = q.PreActivation ?? q.Output!;
        long lo = q.Activation == ActivationKind.Relu ? target.ZeroPoint : 0;
        int parameters = mem.ParamsOf(block.Index, c0);
        em.Data(root, parameters, [target.ZeroPoint, lo, target.Max, .. q.Requant.Skip(c0).Take(n).SelectMany(r => new[] { r.Multiplier, (long)r.Shift })]);
        code.Add(Instruction.VRequant(mem.Result + c0, mem.Acc + c0, parameters, n));
        if (q.PreActivation is not null)
        {
            if (!tableLoaded)
            {
                em.Data(root, mem.Table, [0, q.Lut.Length, .. q.Lut]);
            }

            code.Add(Instruction.VLut(mem.Result + c0, mem.Result + c0, mem.Table, n));
        }

        return mem.Result + c0;
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
