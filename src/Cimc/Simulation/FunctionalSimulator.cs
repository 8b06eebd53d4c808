using System.Collections.Concurrent;
using Cimc.Data;
using Cimc.Diagnostics;
using Cimc.Isa;
using Cimc.Simulation.Batched;

namespace Cimc.Simulation;

/// <summary>
/// Runs a <see cref="ProgramImage"/> with a <see cref="WeightImage"/> bit-exactly: the executable
/// definition of the ISA (docs/isa.md). Each sample starts from fresh memories (zeros plus the data
/// segments), gets its input codes in the input tile's buffer, and runs all cores round-robin until
/// every core has halted; a deadlock, a fault or more than <see cref="InstructionLimit"/>
/// instructions is a CimcException. <see cref="RunCodes(ReadOnlySpan{long})"/> is the reference
/// interpreter, one sample at a time; <see cref="Run"/> and <see cref="RunBatchCodes"/> take the
/// batched path (Simulation/Batched), which must agree with it bit for bit. Thread-safe: each worker
/// has its own machine state. A replicated program (period P above 1, docs/isa.md "Replicated
/// programs") runs sample n on its slot view <see cref="ProgramImage.ForSlot"/> (n mod P): one
/// simulator per slot, each keying read noise by the global sample index.
/// </summary>
public sealed class FunctionalSimulator : IProgramRunner
{
    public const long DefaultInstructionLimit = 100_000_000;

    private readonly CompiledProgram _compiled;
    private readonly ConcurrentBag<Machine> _machines = [];
    private readonly ConcurrentBag<BatchMachine> _batchMachines = [];
    private readonly Lazy<BatchPlan> _batchPlan;
    private readonly ProgramImage _program;
    private readonly FunctionalSimulator[]? _slots;
    private readonly int _sampleStride = 1;
    private readonly int _sampleOffset;
    private int _fallbacks;

    public FunctionalSimulator(ProgramImage program, WeightImage weights, long instructionLimit = DefaultInstructionLimit)
        : this(program, weights, null, instructionLimit)
    {
    }

    /// <summary>
    /// A simulator whose crossbars go through a non-ideal device (docs/nonidealities.md); with an
    /// ideal or null device it is the plain bit-exact simulator.
    /// </summary>
    public FunctionalSimulator(ProgramImage program, WeightImage weights, Devices.DeviceModel? device, long instructionLimit = DefaultInstructionLimit)
    {
        _program = program;
        if (!program.IsPlain)
        {
            program.Validate();
            _slots = [.. Enumerable.Range(0, program.Period).Select(j => new FunctionalSimulator(SlotView(program, j), weights, device, instructionLimit, program.Period, j))];
        }

        // A replicated program's single samples (sample 0) run on slot 0's read-only part, shared.
        _compiled = _slots?[0]._compiled ?? new CompiledProgram(program, weights, instructionLimit, device);
        _batchPlan = new Lazy<BatchPlan>(() => new BatchPlan(_compiled));
    }

    /// <summary>The simulator of one slot view: its n-th sample is sample n x stride + offset of the batch.</summary>
    private FunctionalSimulator(ProgramImage view, WeightImage weights, Devices.DeviceModel? device, long instructionLimit, int stride, int offset)
        : this(view, weights, device, instructionLimit)
    {
        (_sampleStride, _sampleOffset) = (stride, offset);
    }

    /// <summary>Slot <paramref name="slot"/>'s program without the cores that only halt for it (the other slots' replicas), so their crossbars are not built.</summary>
    private static ProgramImage SlotView(ProgramImage program, int slot)
    {
        ProgramImage view = program.ForSlot(slot);
        return view with { Cores = [.. view.Cores.Where(c => c.Code.Any(i => i.Opcode != Opcode.Halt))] };
    }

    /// <summary>The program as given (for a replicated one, the whole period).</summary>
    public ProgramImage Program => _program;

    public InputSpec Input => _program.Input;

    public long InstructionLimit => _compiled.InstructionLimit;

    /// <summary>One sample: input codes in, output codes out.</summary>
    public long[] RunCodes(ReadOnlySpan<long> inputCodes) => RunCodes(inputCodes, out _);

    /// <summary>One sample, also reporting how many instructions all cores executed.</summary>
    public long[] RunCodes(ReadOnlySpan<long> inputCodes, out long instructionsExecuted)
    {
        Machine machine = Rent();
        try
        {
            long[] output = machine.Run(inputCodes);
            instructionsExecuted = machine.Executed;
            return output;
        }
        finally
        {
            _machines.Add(machine);
        }
    }

    /// <summary>The host's quantization of one float sample per the .input spec, in the chip's order (an NCHW image's codes HWC).</summary>
    public long[] Quantize(ReadOnlySpan<float> sample)
    {
        var codes = new long[sample.Length];
        InputQuantizer.QuantizeRow(Program.Input, sample, codes);
        return codes;
    }

    /// <summary>The host's dequantization of one sample's output codes per the .output spec.</summary>
    public float[] Dequantize(ReadOnlySpan<long> codes)
    {
        OutputSpec spec = Program.Output;
        var values = new float[codes.Length];
        for (int o = 0; o < values.Length; o++)
        {
            values[o] = spec.Dequantize(o, codes[o]);
        }

        return values;
    }

    /// <summary>
    /// Float inputs [N, ...] (each row of .input len values) to float outputs [N, .output len]:
    /// quantize, run on the batched path (<see cref="RunBatchCodes"/>), dequantize.
    /// </summary>
    public NdArray Run(NdArray inputs)
    {
        int n = inputs.Rows;
        int inLen = Program.Input.Len;
        int outLen = Program.Output.Len;
        InputSpec spec = Program.Input;
        InputQuantizer.CheckShape(spec, inputs);
        long[] output;
        if (_compiled.Device is null && _slots is null)
        {
            // Each batch quantizes its own rows into its machine's scratch: quantizing the whole set
            // first wrote, and then copied, an n x len array of longs that no cache holds.
            output = RunBatches(n, (first, count, machine) =>
            {
                Span<long> codes = machine.InputScratch(count * inLen);
                for (int b = 0; b < count; b++)
                {
                    InputQuantizer.QuantizeRow(spec, inputs.Row(first + b), codes.Slice(b * inLen, inLen));
                }

                return codes;
            });
        }
        else
        {
            var codes = new long[(long)n * inLen];
            Parallel.For(0, n, i => InputQuantizer.QuantizeRow(spec, inputs.Row(i), codes.AsSpan(i * inLen, inLen)));
            output = RunBatchCodes(codes, n);
        }

        var result = new float[(long)n * outLen];
        for (int i = 0; i < n; i++)
        {
            for (int o = 0; o < outLen; o++)
            {
                result[((long)i * outLen) + o] = Program.Output.Dequantize(o, output[((long)i * outLen) + o]);
            }
        }

        return new NdArray([n, outLen], result);
    }

    /// <summary>
    /// n samples of input codes (row-major, .input len each) to n rows of output codes, bit for bit
    /// what <see cref="RunCodes(ReadOnlySpan{long})"/> gives each sample. Samples run in batches on
    /// the batched machine, batches in parallel; a batch in which the batched machine meets anything
    /// the reference would report (a fault, a deadlock, the limit) reruns sample by sample on the
    /// reference, which raises the error for the first failing sample.
    /// </summary>
    public long[] RunBatchCodes(ReadOnlySpan<long> codes, int n)
    {
        int inLen = Program.Input.Len, outLen = Program.Output.Len;
        if (n < 0 || codes.Length != (long)n * inLen)
        {
            throw new CimcException("bad-input", "input", $"expected {n} x {inLen} input codes, got {codes.Length}");
        }

        if (_slots is not null)
        {
            return RunSlots(codes, n);
        }

        long[] inputs = codes.ToArray();
        if (_compiled.Device is not null)
        {
            // Analog reads run on the reference interpreter, sample by sample, in parallel.
            var output = new long[(long)n * outLen];
            RunAnalog(inputs, n, output);
            return output;
        }

        return RunBatches(n, (first, count, _) => inputs.AsSpan(first * inLen, count * inLen));
    }

    /// <summary>A replicated program: sample n runs on slot n mod P's simulator, which sees the samples of its slot in order.</summary>
    private long[] RunSlots(ReadOnlySpan<long> codes, int n)
    {
        int inLen = Program.Input.Len, outLen = Program.Output.Len, period = _slots!.Length;
        var output = new long[(long)n * outLen];
        for (int j = 0; j < period && j < n; j++)
        {
            int count = ((n - 1 - j) / period) + 1;
            var mine = new long[(long)count * inLen];
            for (int i = 0; i < count; i++)
            {
                codes.Slice(((i * period) + j) * inLen, inLen).CopyTo(mine.AsSpan(i * inLen, inLen));
            }

            long[] result = _slots[j].RunBatchCodes(mine, count);
            for (int i = 0; i < count; i++)
            {
                result.AsSpan(i * outLen, outLen).CopyTo(output.AsSpan(((i * period) + j) * outLen, outLen));
            }
        }

        return output;
    }

    /// <summary>The input codes of samples [first, first + count), possibly in the machine's scratch.</summary>
    private delegate ReadOnlySpan<long> BatchInputs(int first, int count, BatchMachine machine);

    /// <summary>Runs n samples in batches on the batched machines, in parallel; see <see cref="RunBatchCodes"/>.</summary>
    private long[] RunBatches(int n, BatchInputs batchInputs)
    {
        int outLen = Program.Output.Len;
        var output = new long[(long)n * outLen];
        int batch = BatchCapacity;
        int batches = (n + batch - 1) / batch;
        try
        {
            Parallel.For(0, batches, RentBatch, (c, _, machine) =>
            {
                int first = c * batch, count = Math.Min(batch, n - first);
                ReadOnlySpan<long> input = batchInputs(first, count, machine);
                Span<long> result = output.AsSpan(first * outLen, count * outLen);
                try
                {
                    machine.Run(input, count, result);
                }
                catch (BatchFallbackException)
                {
                    Interlocked.Increment(ref _fallbacks);
                    RunOnReference(input, count, first, result);
                }

                return machine;
            }, _batchMachines.Add);
        }
        catch (AggregateException e) when (e.InnerExceptions.OfType<CimcException>().FirstOrDefault() is { } first)
        {
            throw first;
        }

        return output;
    }

    /// <summary>Batches that went back to the reference interpreter (tests check compiled programs never do).</summary>
    internal int FallbackBatches => _slots?.Sum(s => s.FallbackBatches) ?? _fallbacks;

    /// <summary>How the batched path runs this program's mvm blocks, for benchmarks: "mvm blocks: 17 exact (3 corrected), 0 serial; 0 fallbacks".</summary>
    public string BatchPathSummary()
    {
        var blocks = BatchPlan.Blocks.SelectMany(b => b).OfType<MvmBlock>().ToList();
        int exact = blocks.Count(b => b.HasExactPart), corrected = blocks.Count(b => b.HasCorrections);
        return $"batch {BatchCapacity}; mvm blocks: {exact} exact ({corrected} corrected), {blocks.Count - exact} serial; {FallbackBatches} fallback batches";
    }

    /// <summary>The plan of the batched path: memory footprints and mvm blocks (internal: tests and the benchmark look at it).</summary>
    internal BatchPlan BatchPlan => _batchPlan.Value;

    /// <summary>
    /// Samples per batch: as many as keep the batch's memory (every touched word times the batch)
    /// near 4 MB, a multiple of the GEMM's 16-sample strips, 32 to 256. Measured on Fashion-MNIST
    /// (isaac, ~60 samples): 8 MB ran about 2x faster than 32 MB or 64 MB, whose [len x n] tiles
    /// fall out of the L2 cache between instructions. Once the GEMM and the vector instructions
    /// were vectorized further, 4 MB (32 samples) ran about 7 % faster than 8 MB (80) and 48; at
    /// least 32 samples keep the AVX-512 GEMM on its two-strip kernel.
    /// </summary>
    private int BatchCapacity
    {
        get
        {
            long words = Math.Max(1, BatchPlan.MemWords.Sum(w => (long)w) + BatchPlan.BufferWords.Sum(w => (long)w));
            return (int)Math.Clamp((1L << 19) / words / 16 * 16, 32, 256);
        }
    }

    private void RunOnReference(ReadOnlySpan<long> inputs, int count, int first, Span<long> result)
    {
        int inLen = Program.Input.Len, outLen = Program.Output.Len;
        Machine machine = Rent();
        try
        {
            for (int b = 0; b < count; b++)
            {
                long[] output;
                try
                {
                    output = machine.Run(inputs.Slice(b * inLen, inLen), Sample(first + b));
                }
                catch (CimcException e)
                {
                    throw new CimcException(e.Diagnostic.Code, $"sample {Sample(first + b)}: {e.Diagnostic.Location}", e.Diagnostic.Message);
                }

                output.CopyTo(result.Slice(b * outLen, outLen));
            }
        }
        finally
        {
            _machines.Add(machine);
        }
    }

    private void RunAnalog(long[] inputs, int n, long[] output)
    {
        int inLen = Program.Input.Len, outLen = Program.Output.Len;
        const int Chunk = 64;
        try
        {
            Parallel.For(0, (n + Chunk - 1) / Chunk, c =>
            {
                int first = c * Chunk, count = Math.Min(Chunk, n - first);
                RunOnReference(inputs.AsSpan(first * inLen, count * inLen), count, first, output.AsSpan(first * outLen, count * outLen));
            });
        }
        catch (AggregateException e) when (e.InnerExceptions.OfType<CimcException>().FirstOrDefault() is { } first)
        {
            throw first;
        }
    }

    /// <summary>The batch index of this simulator's i-th sample (a slot view sees every P-th sample).</summary>
    private long Sample(long i) => (i * _sampleStride) + _sampleOffset;

    private BatchMachine RentBatch() =>
        _batchMachines.TryTake(out BatchMachine? m) ? m : new BatchMachine(_compiled, BatchPlan, BatchCapacity);

    private Machine Rent() => _machines.TryTake(out Machine? m) ? m : new Machine(_compiled);
}
