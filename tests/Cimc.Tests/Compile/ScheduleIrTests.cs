using System.Collections.Immutable;
using Cimc.Architectures;
using Cimc.Ir;
using Cimc.Isa;
using Cimc.Passes;
using Cimc.Quantization;
using Cimc.Scheduling;
using Cimc.Tests.Performance;

namespace Cimc.Tests.Compile;

/// <summary>The schedule IR: allocated tags, explicit dependences, its verifier and its lowering to the ISA.</summary>
public sealed class ScheduleIrTests
{
    private static Compilation Puma(OptLevel level, params int[] widths)
    {
        Architecture puma = ArchitectureCatalog.Preset("puma");
        var options = Compiler.OptionsFor(puma) with { SignedWeights = SignedWeightEncoding.Differential };
        return PerformanceFixtures.Compile(new CompileSettings { Level = level }, puma, options, 5, () => new Sigmoid(), widths);
    }

    [Fact]
    public void Every_message_has_a_tag_of_its_own_between_two_cores_and_the_program_carries_it()
    {
        Compilation c = Puma(OptLevel.O1, 1024, 512, 10);
        Schedule s = c.Schedule!;
        Assert.All(s.Messages.GroupBy(m => (m.From, m.To)), pair => Assert.Equal(pair.Count(), pair.Select(m => m.Tag).Distinct().Count()));
        Assert.Contains(s.Messages.GroupBy(m => (m.From, m.To)), pair => pair.Count() > 1); // the property is not vacuous

        // Lowering: one instruction per operation, in order, the send and receive of a message with its tag; a halt per core.
        foreach (CoreSchedule core in s.Cores)
        {
            ImmutableArray<Instruction> code = c.Program!.FindCore(core.Core)!.Code;
            Assert.Equal(core.Ops.Length + 1, code.Length);
            Assert.Equal(Opcode.Halt, code[^1].Opcode);
            for (int k = 0; k < core.Ops.Length; k++)
            {
                Assert.Equal(core.Ops[k].Instruction.Opcode, code[k].Opcode);
                if (core.Ops[k].IsMessage)
                {
                    Assert.Equal(s.Messages[core.Ops[k].Message].Tag, code[k]["tag"]);
                }
            }
        }
    }

    [Fact]
    public void Dependences_follow_the_data_an_mvm_after_its_inputs_and_the_output_stage_after_the_mvms()
    {
        Compilation c = Puma(OptLevel.O1, 300, 40, 10);
        CoreSchedule core = c.Schedule!.Cores[0];
        var byId = core.Ops.ToDictionary(o => o.Id);
        ScheduledOp mvm = core.Ops.First(o => o.Instruction.Opcode == Opcode.Mvm);
        Assert.Contains(mvm.After, a => byId[a].Instruction.Opcode is Opcode.Load or Opcode.Recv); // its input rows
        Assert.Contains(mvm.After, a => byId[a].Instruction.Opcode == Opcode.VClear);             // its accumulators
        Assert.DoesNotContain(mvm.After, a => byId[a].Instruction.Opcode == Opcode.Mvm);          // accumulations commute
        ScheduledOp requant = core.Ops.First(o => o.Instruction.Opcode == Opcode.VRequant);
        Assert.Contains(requant.After, a => byId[a].Instruction.Opcode == Opcode.Mvm);
    }

    [Fact]
    public void The_verifier_catches_a_shared_tag_a_receive_without_its_send_and_an_operation_before_its_dependence()
    {
        Compilation c = Puma(OptLevel.O1, 1024, 512, 10);
        Schedule s = c.Schedule!;
        string Problem(Schedule broken) => Assert.Throws<InvalidOperationException>(() => Verifier.Check(c with { Schedule = broken }, IrStage.Scheduled, "test")).Message;

        var pair = s.Messages.GroupBy(m => (m.From, m.To)).First(g => g.Count() > 1).ToList();
        Assert.Contains("share tag", Problem(s with { Messages = s.Messages.SetItem(pair[1].Id, pair[1] with { Tag = pair[0].Tag }) }));

        CoreSchedule sender = s.Cores.First(core => core.Ops.Any(o => o.IsMessage && o.Instruction.Opcode == Opcode.Send));
        ScheduledOp send = sender.Ops.First(o => o.IsMessage && o.Instruction.Opcode == Opcode.Send);
        Assert.Contains("sent 0 and received 1", Problem(s with { Cores = s.Cores.Replace(sender, sender with { Ops = sender.Ops.Remove(send) }) }));

        CoreSchedule core = s.Cores.First(x => x.Ops.Any(o => !o.After.IsEmpty));
        int late = core.Ops.IndexOf(core.Ops.First(o => !o.After.IsEmpty));
        ImmutableArray<ScheduledOp> swapped = core.Ops.RemoveAt(late).Insert(0, core.Ops[late]);
        Assert.Contains("runs before operation", Problem(s with { Cores = s.Cores.Replace(core, core with { Ops = swapped }) }));
    }

    [Fact]
    public void An_explicit_list_that_emits_straight_after_placement_is_scheduled_first()
    {
        Assert.Equal(["quantize", "map", "place-greedy", "schedule", "emit"], Pipelines.Parse("quantize,map,place-greedy,emit").Select(p => p.Name).ToArray());
    }
}
