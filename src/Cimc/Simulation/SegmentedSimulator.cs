using System.Collections.Immutable;
using Cimc.Data;
using Cimc.Diagnostics;
using Cimc.Isa;

namespace Cimc.Simulation;

/// <summary>
/// Runs a weight-reloading program (docs/isa.md, "Segmented programs"): each segment on its own
/// simulator over its own weight image (the crossbars as that segment programs them), the codes one
/// segment writes handed unchanged to the next. Both paths of <see cref="FunctionalSimulator"/>
/// follow: <see cref="RunCodes"/> chains the reference interpreter sample by sample,
/// <see cref="RunBatchCodes"/> the batched machine segment by segment (a batch of B inferences
/// through each segment before the next, as the hardware amortizes its writes).
/// </summary>
public sealed class SegmentedSimulator : IProgramRunner
{
    private readonly ImmutableArray<FunctionalSimulator> _segments;

    public SegmentedSimulator(SegmentedProgram program, IReadOnlyList<WeightImage> weights, Devices.DeviceModel? device = null,
        long instructionLimit = FunctionalSimulator.DefaultInstructionLimit)
    {
        program.Validate();
        if (weights.Count != program.Segments.Length)
        {
            throw new CimcException("bad-weights", "weights", $"{weights.Count} weight images for {program.Segments.Length} segments");
        }

        Program = program;
        _segments = [.. program.Segments.Select((p, k) => new FunctionalSimulator(p, weights[k], device, instructionLimit))];
    }

    public SegmentedProgram Program { get; }

    public InputSpec Input => Program.First.Input;

    /// <summary>One sample through every segment on the reference interpreter: input codes in, the last segment's output codes out.</summary>
    public long[] RunCodes(ReadOnlySpan<long> inputCodes)
    {
        long[] codes = inputCodes.ToArray();
        foreach (FunctionalSimulator segment in _segments)
        {
            codes = segment.RunCodes(codes);
        }

        return codes;
    }

    /// <summary>n samples through every segment on the batched path, segment after segment.</summary>
    public long[] RunBatchCodes(ReadOnlySpan<long> codes, int n)
    {
        long[] current = codes.ToArray();
        foreach (FunctionalSimulator segment in _segments)
        {
            current = segment.RunBatchCodes(current, n);
        }

        return current;
    }

    /// <summary>
    /// Float inputs [N, .input len of the first segment] to float outputs [N, .output len of the last]:
    /// the first segment's host quantization, every segment, the last one's dequantization.
    /// </summary>
    public NdArray Run(NdArray inputs)
    {
        InputSpec spec = Program.First.Input;
        InputQuantizer.CheckShape(spec, inputs);

        int n = inputs.Rows;
        var codes = new long[(long)n * spec.Len];
        Parallel.For(0, n, i => InputQuantizer.QuantizeRow(spec, inputs.Row(i), codes.AsSpan(i * spec.Len, spec.Len)));
        long[] output = RunBatchCodes(codes, n);
        OutputSpec o = Program.Last.Output;
        var result = new float[(long)n * o.Len];
        for (long i = 0; i < result.Length; i++)
        {
            result[i] = o.Dequantize((int)(i % o.Len), output[i]);
        }

        return new NdArray([n, o.Len], result);
    }
}
