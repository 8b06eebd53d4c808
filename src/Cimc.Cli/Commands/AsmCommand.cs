using System.CommandLine;
using Cimc.Isa;

namespace Cimc.Cli.Commands;

/// <summary>`cimc asm FILE.asm -o FILE.bin`: assembles text into program.bin.</summary>
internal static class AsmCommand
{
    public static Command Create(CliContext context)
    {
        var file = new Argument<string>("FILE") { Description = "assembly text (.asm)" };
        var output = new Option<string>("--output", "-o") { Description = "where to write the binary program (program.bin format)", Required = true };
        var command = new Command("asm", "Assemble a text program into the binary program format.") { file, output };
        command.SetAction(parse =>
        {
            ProgramImage program = Assembler.AssembleFile(parse.GetValue(file)!);
            program.Save(parse.GetValue(output)!);
            int instructions = program.Cores.Sum(c => c.Code.Length);
            context.Output.WriteLine($"wrote {parse.GetValue(output)}: {program.Cores.Length} cores, {instructions} instructions");
            return 0;
        });
        return command;
    }
}
