using System.Collections.Immutable;
using Cimc.Diagnostics;
using Cimc.Isa;
using Cimc.Simulation;

namespace Cimc.Tests.Isa;

/// <summary>
/// The ISA table's operand semantics against the reference simulator, the executable definition of
/// each instruction: for random instructions on random memories, the simulator changes only the
/// words the table says the instruction writes, overwrites every one of them, and computes them from
/// the words the table says it reads and nothing else. A simulator case (or a table row) that
/// disagreed would fail here.
/// </summary>
public sealed class OperandSemanticsTests
{
    private const int Words = 64;
    private static readonly ArchHeader Arch = new(1, 1, 2, 4, 4, 2, 1, 8, Words, Words);

    public static TheoryData<Opcode> SingleCoreOpcodes() =>
        [.. Enum.GetValues<Opcode>().Where(o => MemoryAccesses.ChannelOf(Instruction.Create(o, new long[InstructionSet.Get(o).Fields.Length])) is null)];

    [Theory]
    [MemberData(nameof(SingleCoreOpcodes))]
    public void The_reference_simulator_touches_exactly_the_words_the_table_declares(Opcode opcode)
    {
        int ran = 0;
        for (int seed = 0; seed < 400; seed++)
        {
            var rng = new Random((seed * 31) + (int)opcode);
            Instruction i = RandomInstruction(InstructionSet.Get(opcode), rng);
            long[] memA = [.. Enumerable.Range(0, Words).Select(_ => (long)rng.Next(4))];
            long[] bufA = [.. Enumerable.Range(0, Words).Select(_ => (long)rng.Next(4))];
            if (opcode == Opcode.VAct && i["params"] + ActivationParams.Words <= Words)
            {
                new ActivationParams(rng.Next(2), 3, 0.5, 0, 7, 0.25, 0.1).ToWords().CopyTo(memA, i["params"]);
            }

            // Run B differs from run A in every word the table does not say is read.
            (bool[] readMem, bool[] readBuf) = Declared(i, memA, a => a.Reads);
            long[] memB = [.. memA.Select((v, w) => readMem[w] ? v : v + 1 + rng.Next(4))];
            long[] bufB = [.. bufA.Select((v, w) => readBuf[w] ? v : v + 1 + rng.Next(4))];
            var a = Run(i, memA, bufA, seed);
            var b = Run(i, memB, bufB, seed);
            string what = $"{i} (seed {seed})";
            Assert.True(a.Fault == b.Fault, $"{what}: faults in one run only ({a.Fault ?? b.Fault}), so it reads words the table does not declare");
            if (a.Fault is not null)
            {
                continue;
            }

            ran++;
            (bool[] writeMem, bool[] writeBuf) = Declared(i, memA, a => a.Writes);
            Compare(what, "mem", writeMem, memA, memB, a.Mem, b.Mem);
            Compare(what, "buffer", writeBuf, bufA, bufB, a.Buf, b.Buf);
        }

        Assert.True(ran >= 40, $"only {ran} of 400 random {opcode} instructions ran without a fault");
    }

    [Fact]
    public void The_simulators_fault_exactly_when_the_tables_operand_checks_fail()
    {
        var rng = new Random(7);
        int faults = 0;
        for (int k = 0; k < 2000; k++)
        {
            OpcodeSpec spec = InstructionSet.All[rng.Next(InstructionSet.All.Length)];
            if (spec.Fields.Any(f => f.Role == FieldRole.Channel) || spec.Opcode is Opcode.VLut or Opcode.VAct or Opcode.VRequant or Opcode.Mvm)
            {
                continue; // data-dependent checks of their own (covered above)
            }

            Instruction i = RandomInstruction(spec, rng, reach: 80);
            string? violation = OperandChecks.Violation(i, Arch);
            string? fault = Run(i, new long[Words], new long[Words], 0).Fault;
            Assert.Equal(violation is not null, fault is not null);
            if (violation is not null)
            {
                faults++;
                Assert.Contains(violation, fault);
            }
        }

        Assert.True(faults > 100);
    }

    [Fact]
    public void A_message_carries_exactly_the_words_send_declares_read_into_exactly_the_words_recv_declares_written()
    {
        var arch = Arch with { CoresPerTile = 2 };
        for (int seed = 0; seed < 200; seed++)
        {
            var rng = new Random(seed);
            int len = rng.Next(0, 11), src = rng.Next(Words - len + 1), dst = rng.Next(Words - len + 1);
            Instruction send = Instruction.Send(1, src, len, 5), recv = Instruction.Recv(0, dst, len, 5);
            Assert.Equal(new ChannelAccess(true, 1, 5, len), MemoryAccesses.ChannelOf(send));
            Assert.Equal(new ChannelAccess(false, 0, 5, len), MemoryAccesses.ChannelOf(recv));
            long[] sender = [.. Enumerable.Range(0, Words).Select(_ => rng.NextInt64())];
            long[] receiver = [.. Enumerable.Range(0, Words).Select(_ => rng.NextInt64())];
            var program = new ProgramImage(arch,
                new InputSpec(0, 0, 0, 1, 0, long.MinValue, long.MaxValue), new OutputSpec(0, 0, 1, [1.0], [0]),
                [new CoreProgram(0, [send, Instruction.Halt()], [new DataSegment(0, [.. sender])]),
                 new CoreProgram(1, [recv, Instruction.Halt()], [new DataSegment(0, [.. receiver])])]);
            var machine = new Machine(new CompiledProgram(program, new WeightImage(arch.Rows, arch.Cols, arch.CellBits, []), 100));
            machine.Run([]);

            // Expected from the table alone: the sender's declared reads land on the receiver's declared writes.
            MemoryAccess read = MemoryAccesses.Of(send).Single(), written = MemoryAccesses.Of(recv).Single();
            Assert.True(read.Kind == AccessKind.Read && written.Kind == AccessKind.Write && read.Len == written.Len);
            long[] expected = [.. receiver];
            Array.Copy(sender, read.Addr, expected, written.Addr, read.Len);
            Assert.Equal(sender, machine.LocalMemory(0).AsSpan(0, Words).ToArray());
            Assert.Equal(expected, machine.LocalMemory(1).AsSpan(0, Words).ToArray());
        }
    }

    private static void Compare(string what, string space, bool[] written, long[] initA, long[] initB, long[] finalA, long[] finalB)
    {
        for (int w = 0; w < Words; w++)
        {
            if (written[w])
            {
                Assert.True(finalA[w] == finalB[w], $"{what}: {space}[{w}] is declared written but its value depends on words not declared read");
            }
            else
            {
                Assert.True(finalA[w] == initA[w] && finalB[w] == initB[w], $"{what}: {space}[{w}] changed but the table does not declare it written");
            }
        }
    }

    /// <summary>Words the table declares (reads or writes), plus the data-indexed reads a range declares (a vlut's table entries).</summary>
    private static (bool[] Mem, bool[] Buf) Declared(Instruction i, long[] mem, Func<MemoryAccess, bool> which)
    {
        bool[] m = new bool[Words], b = new bool[Words];
        foreach (MemoryAccess a in MemoryAccesses.Of(i).Where(which))
        {
            bool[] target = a.Space == MemorySpace.Local ? m : b;
            for (long w = a.Addr; w < Math.Min(a.End, Words); w++)
            {
                target[w] = true;
            }
        }

        foreach ((FieldSpec f, long addr) in i.Spec.Fields.Zip(i.Fields).Where(p => p.First.Gathers is not null && p.First.Access == AccessKind.Read))
        {
            // Entries follow the table's header; its second word is their count (docs/isa.md, vlut).
            if (which(new MemoryAccess(MemorySpace.Local, 0, 1, AccessKind.Read)) && addr + 1 < Words)
            {
                for (long w = addr + 2; w < Math.Min(Words, addr + 2 + Math.Max(0, mem[addr + 1])); w++)
                {
                    m[w] = true;
                }
            }
        }

        return (m, b);
    }

    private static Instruction RandomInstruction(OpcodeSpec spec, Random rng, int reach = Words) =>
        new(spec.Opcode, [.. spec.Fields.Select(f => f.Role switch
        {
            FieldRole.Address => (long)rng.Next(reach),
            FieldRole.Length => rng.Next(11),
            FieldRole.Crossbar => rng.Next(3),
            FieldRole.CrossbarRows or FieldRole.CrossbarCols => rng.Next(6),
            _ => f.Name switch
            {
                "ibits" => rng.Next(2, 9),
                "shift" => rng.Next(11),
                "group" => rng.Next(5),
                "ashift" => rng.Next(4),
                "fn" => rng.Next(3),
                "neg" or "lower" => rng.Next(2),
                "ilo" => rng.Next(4),
                _ => rng.Next(-5, 6),
            },
        })]);

    private static (string? Fault, long[] Mem, long[] Buf) Run(Instruction i, long[] mem, long[] buf, int seed)
    {
        var program = new ProgramImage(Arch,
            new InputSpec(0, 0, Words, 1, 0, long.MinValue, long.MaxValue),
            new OutputSpec(0, 0, 1, [1.0], [0]),
            [new CoreProgram(0, [i, Instruction.Halt()], [new DataSegment(0, [.. mem])])]);
        var levels = new Random(seed);
        var weights = new WeightImage(Arch.Rows, Arch.Cols, Arch.CellBits,
            Enumerable.Range(0, Arch.CrossbarsPerCore).Select(x => KeyValuePair.Create(new CrossbarId(0, x),
                Enumerable.Range(0, Arch.Rows * Arch.Cols).Select(_ => (byte)levels.Next(1 << Arch.CellBits)).ToArray())));
        var machine = new Machine(new CompiledProgram(program, weights, 100));
        try
        {
            machine.Run(buf);
            return (null, [.. machine.LocalMemory(0).AsSpan(0, Words)], [.. machine.TileBuffer(0).AsSpan(0, Words)]);
        }
        catch (CimcException e) when (e.Diagnostic.Code == "simulation-fault")
        {
            return (e.Message, [], []);
        }
    }
}
