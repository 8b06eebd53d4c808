namespace Cimc.Simulation;

/// <summary>
/// What the reference interpreter (<see cref="Machine"/>) and the batched one
/// (<see cref="Batched.BatchMachine"/>) share: each core's program counter and state, the count of
/// executed instructions and the round-robin that runs the cores. A subclass is one way of executing
/// a core's instructions (<see cref="Step"/>); the scheduling, and so the order in which cores see
/// each other's messages, is written once, which is what lets the batched path stand in for the
/// reference.
/// </summary>
internal abstract class CoreScheduler
{
    private protected enum CoreState : byte
    {
        Ready,
        Blocked,
        Halted,
    }

    private protected readonly CompiledProgram _p;
    private protected readonly int[] _pc;
    private protected readonly CoreState[] _state;
    private protected long _executed;

    private protected CoreScheduler(CompiledProgram program)
    {
        _p = program;
        _pc = new int[program.SlotCount];
        _state = new CoreState[program.SlotCount];
    }

    /// <summary>
    /// Runs the core in this slot from its program counter until it halts (<see cref="Halt"/>) or
    /// blocks in a recv whose message has not been sent (<see cref="Block"/>).
    /// </summary>
    private protected abstract void Step(int slot);

    /// <summary>What to throw when no core can progress.</summary>
    private protected abstract Exception Deadlock();

    /// <summary>Every core back at pc 0 and ready, nothing executed.</summary>
    private protected void ResetCores()
    {
        _executed = 0;
        Array.Clear(_pc);
        Array.Fill(_state, CoreState.Ready);
    }

    /// <summary>
    /// Round-robin: each core runs until it halts or blocks on recv. Sends never block, so a full
    /// round in which no core executes anything while some have not halted is a deadlock.
    /// </summary>
    private protected void Schedule()
    {
        while (true)
        {
            bool progress = false;
            bool allHalted = true;
            for (int s = 0; s < _state.Length; s++)
            {
                if (_state[s] == CoreState.Halted)
                {
                    continue;
                }

                long before = _executed;
                Step(s);
                progress |= _executed != before;
                allHalted &= _state[s] == CoreState.Halted;
            }

            if (allHalted)
            {
                return;
            }

            if (!progress)
            {
                throw Deadlock();
            }
        }
    }

    /// <summary>The core stops at its halt for good.</summary>
    private protected void Halt(int slot, int pc)
    {
        _pc[slot] = pc;
        _state[slot] = CoreState.Halted;
    }

    /// <summary>The core waits at this recv for its message; the recv has not executed yet.</summary>
    private protected void Block(int slot, int pc)
    {
        _executed--;
        _pc[slot] = pc;
        _state[slot] = CoreState.Blocked;
    }

    /// <summary>A channel (sender, receiver, tag) as one dictionary key: the core and tag fields are 16 bits wide.</summary>
    private protected static long ChannelKey(long from, long to, long tag) => (from << 32) | (to << 16) | tag;
}
