using System.Collections.Concurrent;
using Cimc.Data;
using Cimc.Diagnostics;
using Cimc.Isa;

namespace Cimc.Simulation;

/// <summary>
/// Runs a <see cref="ProgramImage"/> with a <see cref="WeightImage"/> bit-exactly: the executable
/// definition of the ISA (docs/isa.md). Each sample starts from fresh memories (zeros plus the data
/// segments), gets its input codes in the input tile's buffer, and runs all cores round-robin until
/// every core has halted; a deadlock, a fault or more than <see cref="InstructionLimit"/>
/// instructions is a CimcException. Thread-safe: <see cref="Run"/> runs samples in parallel, each
/// worker with its own machine state.
/// </summary>
public sealed class FunctionalSimulator
{
    public const long DefaultInstructionLimit = 100_000_000;

    private readonly CompiledProgram _compiled;
    private readonly ConcurrentBag<Machine> _machines = [];

    public FunctionalSimulator(ProgramImage program, WeightImage weights, long instructionLimit = DefaultInstructionLimit)
    {
        _compiled = new CompiledProgram(program, weights, instructionLimit);
    }

    public ProgramImage Program => _compiled.Program;

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

    /// <summary>The host's quantization of one float sample per the .input spec.</summary>
    public long[] Quantize(ReadOnlySpan<float> sample)
    {
        InputSpec spec = Program.Input;
        var codes = new long[sample.Length];
        for (int i = 0; i < codes.Length; i++)
        {
            codes[i] = spec.Quantize(sample[i]);
        }

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
    /// quantize, run, dequantize, samples in parallel.
    /// </summary>
    public NdArray Run(NdArray inputs)
    {
        int n = inputs.Rows;
        int inLen = Program.Input.Len;
        int outLen = Program.Output.Len;
        if (inputs.Rank == 0 || inputs.RowLength != inLen)
        {
            throw new CimcException("bad-input", "input",
                $"the program takes {inLen} values per sample, the inputs have shape [{string.Join(", ", inputs.Shape)}]");
        }

        var result = new float[(long)n * outLen];
        try
        {
            Parallel.For(0, n, Rent, (i, _, machine) =>
            {
                long[] codes = Quantize(inputs.Row(i));
                long[] output;
                try
                {
                    output = machine.Run(codes);
                }
                catch (CimcException e)
                {
                    throw new CimcException(e.Diagnostic.Code, $"sample {i}: {e.Diagnostic.Location}", e.Diagnostic.Message);
                }

                for (int o = 0; o < outLen; o++)
                {
                    result[((long)i * outLen) + o] = Program.Output.Dequantize(o, output[o]);
                }

                return machine;
            }, _machines.Add);
        }
        catch (AggregateException e) when (e.InnerExceptions.OfType<CimcException>().FirstOrDefault() is { } first)
        {
            throw first;
        }

        return new NdArray([n, outLen], result);
    }

    private Machine Rent() => _machines.TryTake(out Machine? m) ? m : new Machine(_compiled);
}
