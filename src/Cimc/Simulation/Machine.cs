using Cimc.Diagnostics;
using Cimc.Isa;

namespace Cimc.Simulation;

/// <summary>
/// The mutable state of one simulated chip (local memories, tile buffers, channels, program
/// counters) and the interpreter: the executable definition of each instruction's semantics
/// (docs/isa.md). One instance per worker thread; <see cref="Run"/> resets it, so it is reused
/// across samples. Memories are cleared only up to the highest word written, which keeps the reset
/// cheap for large memories.
/// </summary>
internal sealed partial class Machine : CoreScheduler
{
    private readonly long[][] _mem;
    private readonly int[] _memHigh;
    private readonly long[]?[] _buffers;
    private readonly int[] _bufferHigh;
    private readonly Dictionary<long, Queue<long[]>> _channels = [];
    private readonly long[] _mvmAcc;
    private readonly ulong[] _mvmPlanes;

    /// <summary>An mvm's input window (bits [ilo, ilo+ibits) of each input) when it converts only part of its inputs.</summary>
    private long[]? _mvmWindow;
    private readonly float[] _analogSums;
    private readonly float[] _analogSquares;

    /// <summary>Reads of each crossbar (slot * crossbars per core + crossbar) so far in this sample: the occurrence word of the read-noise key.</summary>
    private readonly int[] _analogReads;
    private ulong _sample;

    public Machine(CompiledProgram program)
        : base(program)
    {
        ArchHeader arch = program.Arch;
        _mem = new long[program.SlotCount][];
        for (int s = 0; s < _mem.Length; s++)
        {
            // Addresses are in the instructions, so a core's memory need only hold the words its
            // program reaches, not the chip's whole local memory (1,000 cores of 1 Mi words would be
            // 8 GB); a vlut's data-indexed table can reach any word, so a core with one gets them all.
            bool lookups = program.Instructions[s].Any(i => i.Opcode == Opcode.VLut);
            _mem[s] = new long[lookups ? arch.LocalWords : Math.Min(arch.LocalWords, Batched.BatchPlan.LocalExtent(program, s))];
        }

        _memHigh = new int[program.SlotCount];
        _buffers = new long[]?[arch.Tiles];
        _bufferHigh = new int[arch.Tiles];
        _mvmAcc = new long[arch.Cols];
        _mvmPlanes = new ulong[MvmKernel.ScratchWords(arch.Rows)];
        _analogSums = new float[arch.Cols + 16];
        _analogSquares = new float[arch.Cols + 16];
        _analogReads = new int[program.Analog is null ? 0 : program.SlotCount * arch.CrossbarsPerCore];
    }

    /// <summary>A core's local memory after the last <see cref="Run"/> (for tests that compare it with the ISA table).</summary>
    internal long[] LocalMemory(int slot) => _mem[slot];

    /// <summary>A tile's buffer after the last <see cref="Run"/>.</summary>
    internal long[] TileBuffer(int tile) => Buffer(tile);

    /// <summary>Instructions executed by the last <see cref="Run"/>.</summary>
    public long Executed => _executed;

    /// <summary>
    /// Runs one sample from a fresh state and returns the output codes. The sample index keys the
    /// read noise of a non-ideal device, so that a sample's noise does not depend on the batching.
    /// </summary>
    public long[] Run(ReadOnlySpan<long> inputCodes, long sampleIndex = 0)
    {
        _sample = (ulong)sampleIndex;
        InputSpec input = _p.Program.Input;
        if (inputCodes.Length != input.Len)
        {
            throw new CimcException("bad-input", "input", $"expected {input.Len} input codes, got {inputCodes.Length}");
        }

        Reset();
        foreach (IoPart part in input.Regions)
        {
            inputCodes.Slice(part.Start, part.Len).CopyTo(Buffer(part.Tile).AsSpan(part.Addr));
            TouchBuffer(part.Tile, part.Addr + part.Len);
        }

        Schedule();
        OutputSpec output = _p.Program.Output;
        var result = new long[output.Len];
        foreach (IoPart part in output.Regions)
        {
            Buffer(part.Tile).AsSpan(part.Addr, part.Len).CopyTo(result.AsSpan(part.Start));
        }

        return result;
    }

    private void Reset()
    {
        ResetCores();
        _channels.Clear();
        Array.Clear(_analogReads);
        for (int s = 0; s < _mem.Length; s++)
        {
            _mem[s].AsSpan(0, _memHigh[s]).Clear();
            _memHigh[s] = 0;
            foreach (DataSegment segment in _p.Data[s])
            {
                segment.Values.AsSpan().CopyTo(_mem[s].AsSpan(segment.Addr));
                Touch(s, segment.Addr + segment.Values.Length);
            }
        }

        for (int t = 0; t < _buffers.Length; t++)
        {
            _buffers[t]?.AsSpan(0, _bufferHigh[t]).Clear();
            _bufferHigh[t] = 0;
        }
    }

    private protected override CimcException Deadlock()
    {
        var waits = new List<string>();
        for (int s = 0; s < _state.Length; s++)
        {
            if (_state[s] == CoreState.Blocked)
            {
                DecodedOp op = _p.Code[s][_pc[s]];
                waits.Add($"core {_p.CoreIds[s]} pc {_pc[s]} waits in recv for {op.F2} words from core {op.F0} tag {op.F3}");
            }
        }

        return new CimcException("simulation-deadlock", "simulation",
            $"no core can progress: {string.Join("; ", waits)}");
    }

    private long[] Buffer(int tile) => _buffers[tile] ??= new long[_p.Arch.BufferWords];

    private void Touch(int slot, long end)
    {
        if (end > _memHigh[slot])
        {
            _memHigh[slot] = (int)end;
        }
    }

    private void TouchBuffer(int tile, long end)
    {
        if (end > _bufferHigh[tile])
        {
            _bufferHigh[tile] = (int)end;
        }
    }

    private CimcException Fault(int slot, int pc, string message) =>
        new("simulation-fault", $"core {_p.CoreIds[slot]} pc {pc} ({(pc < _p.Instructions[slot].Length ? _p.Instructions[slot][pc].Mnemonic : "end of code")})", message);
}
