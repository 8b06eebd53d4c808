using System.Collections.Immutable;
using Cimc.Isa;
using Cimc.Mapping;
using Cimc.Placement;
using Cimc.Quantization;

namespace Cimc.Codegen;

/// <summary>
/// The schedule + emit pass: one instruction stream per core, synchronized by send/receive, plus
/// the crossbar weight image. Per layer, every core receives the input vector, clears its
/// accumulators and runs an MVM per crossbar it holds; the other cores send their partial sums to
/// the lead, which adds them, applies the digital corrections and bias, requantizes (and looks up
/// the activation), then sends the result to every core of the next layer, or stores the network
/// output in its tile's buffer. Follows docs/quantization.md section 6 instruction by instruction.
/// </summary>
public static class CodeGenerator
{
    private const int PartialTag = 0x4000;

    public static (ProgramImage Program, WeightImage Weights) Generate(PlacedModel placed, ArchHeader arch)
    {
        MappedModel mapped = placed.Mapped;
        CrossbarGeometry g = mapped.Geometry;
        var code = new Dictionary<int, List<Instruction>>();
        var data = new Dictionary<int, List<DataSegment>>();
        List<Instruction> Stream(int core) => code.TryGetValue(core, out var list) ? list : code[core] = [];

        PlacedLayer first = placed.Layers[0], last = placed.Layers[^1];
        int inputTile = arch.TileOf(first.Lead), outputTile = arch.TileOf(last.Lead);
        int inputAddr = 0;
        int outputAddr = inputTile == outputTile ? first.Mapped.Layer.InFeatures : 0;
        CheckBuffer(arch, inputAddr + first.Mapped.Layer.InFeatures, outputAddr + last.Mapped.Layer.OutFeatures);

        for (int l = 0; l < placed.Layers.Length; l++)
        {
            PlacedLayer layer = placed.Layers[l];
            QuantizedLayer q = layer.Mapped.Layer;
            int inF = q.InFeatures, outF = q.OutFeatures;
            var mem = CoreMemoryLayout.For(inF, outF, q.Lut.Length, arch.LocalWords, q.Name);

            // 1. The input vector reaches every core of the layer.
            int lead = layer.Lead;
            if (l == 0)
            {
                Stream(lead).Add(Instruction.Load(mem.Input, inputAddr, inF));
                foreach (int core in layer.Cores.Skip(1))
                {
                    Stream(lead).Add(Instruction.Send(core, mem.Input, inF, l));
                    Stream(core).Add(Instruction.Recv(lead, mem.Input, inF, l));
                }
            }
            else
            {
                int previousLead = placed.Layers[l - 1].Lead;
                foreach (int core in layer.Cores)
                {
                    Stream(core).Add(Instruction.Recv(previousLead, mem.Input, inF, l));
                }
            }

            // 2. Each core runs its crossbars into its own accumulators.
            foreach (int core in layer.Cores)
            {
                Stream(core).Add(Instruction.VClear(mem.Acc, outF));
            }

            foreach (PlacedBlock pb in layer.Blocks)
            {
                CrossbarBlock b = pb.Block;
                Stream(pb.Core).Add(Instruction.Mvm(pb.Crossbar, mem.Input + b.RowStart, mem.Acc + b.ColStart,
                    b.RowCount, b.ColCount, layer.Mapped.InputBits, b.Shift, b.Polarity < 0, q.RowsPerRead, q.AdcShift));
            }

            // 3. Partial sums travel to the lead, which adds them.
            foreach (int core in layer.Cores.Skip(1))
            {
                var mine = layer.Blocks.Where(pb => pb.Core == core).Select(pb => pb.Block).ToList();
                int start = mine.Min(b => b.ColStart), end = mine.Max(b => b.ColStart + b.ColCount);
                Stream(core).Add(Instruction.Send(lead, mem.Acc + start, end - start, PartialTag + l));
                Stream(lead).Add(Instruction.Recv(core, mem.Partials, end - start, PartialTag + l));
                Stream(lead).Add(Instruction.VAdd(mem.Acc + start, mem.Acc + start, mem.Partials, end - start));
            }

            // 4. Digital corrections and bias, then the output stage.
            List<Instruction> leadCode = Stream(lead);
            var segments = new List<DataSegment> { new(mem.Bias, layer.Mapped.EffectiveBias) };
            if (mapped.Encoding == SignedWeightEncoding.Offset)
            {
                leadCode.Add(Instruction.VSum(mem.InputSum, mem.Input, inF));
                leadCode.Add(Instruction.VAxpy(mem.Acc, mem.InputSum, -q.WeightMax, outF));
            }

            leadCode.Add(Instruction.VAdd(mem.Acc, mem.Acc, mem.Bias, outF));
            int result = mem.Acc;
            if (!q.OutputsAccumulator)
            {
                ActivationQuant target = q.PreActivation ?? q.Output!;
                long lo = q.Activation == ActivationKind.Relu ? target.ZeroPoint : 0;
                segments.Add(new DataSegment(mem.Params, [target.ZeroPoint, lo, target.Max, .. q.Requant.SelectMany(r => new[] { r.Multiplier, (long)r.Shift })]));
                leadCode.Add(Instruction.VRequant(mem.Result, mem.Acc, mem.Params, outF));
                if (q.PreActivation is not null)
                {
                    segments.Add(new DataSegment(mem.Table, [0, q.Lut.Length, .. q.Lut]));
                    leadCode.Add(Instruction.VLut(mem.Result, mem.Result, mem.Table, outF));
                }

                result = mem.Result;
            }

            data[lead] = segments;

            // 5. The result goes to the next layer's cores, or out to the tile buffer.
            if (l == placed.Layers.Length - 1)
            {
                leadCode.Add(Instruction.Store(outputAddr, result, outF));
            }
            else
            {
                foreach (int core in placed.Layers[l + 1].Cores)
                {
                    leadCode.Add(Instruction.Send(core, result, outF, l + 1));
                }
            }
        }

        var cores = code.OrderBy(kv => kv.Key).Select(kv => new CoreProgram(
            kv.Key,
            [.. kv.Value, Instruction.Halt()],
            data.TryGetValue(kv.Key, out var segs) ? [.. segs] : [])).ToImmutableArray();

        QuantizedModel model = mapped.Model;
        ActivationQuant input = model.Input;
        (ImmutableArray<double> scales, ImmutableArray<long> zeros) = model.OutputDequantization();
        var program = new ProgramImage(
            arch,
            new InputSpec(inputTile, inputAddr, first.Mapped.Layer.InFeatures, input.Scale, input.ZeroPoint, 0, input.Max),
            new OutputSpec(outputTile, outputAddr, last.Mapped.Layer.OutFeatures, scales, zeros),
            cores);
        program.Validate();

        var crossbars = placed.Layers.SelectMany(l => l.Blocks)
            .Select(pb => new KeyValuePair<CrossbarId, byte[]>(new CrossbarId(pb.Core, pb.Crossbar), pb.Block.Levels));
        return (program, new WeightImage(g.Rows, g.Cols, g.CellBits, crossbars));
    }

    private static void CheckBuffer(ArchHeader arch, int inputEnd, int outputEnd)
    {
        int needed = Math.Max(inputEnd, outputEnd);
        if (needed > arch.BufferWords)
        {
            throw new Diagnostics.CimcException("does-not-fit", "tile buffer",
                $"the network's input and output need {needed} words of tile buffer but a tile has {arch.BufferWords}");
        }
    }
}
