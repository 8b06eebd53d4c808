using System.CommandLine;
using Cimc.Isa;

namespace Cimc.Cli.Commands;

/// <summary>`cimc disasm FILE.bin [-o FILE.asm]`: prints a binary program as assembly text.</summary>
internal static class DisasmCommand
{
    public static Command Create(CliContext context)
    {
        var file = new Argument<string>("FILE") { Description = "binary program (program.bin format)" };
        var output = new Option<string?>("--output", "-o") { Description = "write the text here instead of standard output" };
        var command = new Command("disasm", "Print a binary program as assembly text.") { file, output };
        command.SetAction(parse =>
        {
            string text = Disassembler.Disassemble(ProgramImage.Load(parse.GetValue(file)!));
            if (parse.GetValue(output) is { } path)
            {
                File.WriteAllText(path, text);
            }
            else
            {
                context.Output.Write(text);
            }

            return 0;
        });
        return command;
    }
}
