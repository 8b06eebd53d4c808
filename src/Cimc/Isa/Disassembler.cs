using System.Collections.Immutable;
using System.Globalization;
using System.Text;

namespace Cimc.Isa;

/// <summary>
/// <see cref="ProgramImage"/> to text assembly, in the canonical form the assembler reads back to
/// the same image: fields in table order, doubles in round-trip ("R") format, invariant culture.
/// </summary>
public static class Disassembler
{
    public static string Disassemble(ProgramImage program)
    {
        var sb = new StringBuilder();
        sb.Append(".arch");
        foreach ((string name, int value) in program.Arch.Items())
        {
            sb.Append(' ').Append(name).Append('=').Append(Int(value));
        }

        sb.Append('\n');
        InputSpec i = program.Input;
        sb.Append($".input tile={Int(i.Tile)} addr={Int(i.Addr)} len={Int(i.Len)} scale={Real(i.Scale)} zero_point={Int(i.ZeroPoint)} qmin={Int(i.QMin)} qmax={Int(i.QMax)}\n");
        AppendParts(sb, ".input_part", i.Parts);
        if (i.Image is { } image)
        {
            sb.Append($".input_image channels={Int(image.Channels)} height={Int(image.Height)} width={Int(image.Width)}\n");
        }

        OutputSpec o = program.Output;
        sb.Append($".output tile={Int(o.Tile)} addr={Int(o.Addr)} len={Int(o.Len)}\n");
        AppendParts(sb, ".output_part", o.Parts);
        sb.Append(".output_scale");
        foreach (double s in o.Scales)
        {
            sb.Append(' ').Append(Real(s));
        }

        sb.Append("\n.output_zero_point");
        foreach (long z in o.ZeroPoints)
        {
            sb.Append(' ').Append(Int(z));
        }

        sb.Append('\n');
        for (int j = 1; j < program.Period; j++)
        {
            SlotIo io = program.IoOf(j);
            sb.Append($".slot {Int(j)} input_tile={Int(io.InputTile)} input_addr={Int(io.InputAddr)} output_tile={Int(io.OutputTile)} output_addr={Int(io.OutputAddr)}\n");
        }

        foreach (CoreProgram core in program.Cores)
        {
            sb.Append($"\n.core {Int(core.Core)}\n");
            foreach (DataSegment segment in core.Data)
            {
                sb.Append($".data {Int(core.Core)} addr={Int(segment.Addr)}\n");
                sb.AppendJoin(", ", segment.Values.Select(Int)).Append('\n');
            }

            // A replicated program marks each slot's run of instructions with .sample (docs/isa.md).
            int[] slots = core.SlotsByPc();
            int current = -1;
            for (int pc = 0; pc < core.Code.Length; pc++)
            {
                if (slots[pc] != current)
                {
                    current = slots[pc];
                    sb.Append(current < 0 ? ".sample all\n" : $".sample {Int(current)}\n");
                }

                sb.Append(core.Code[pc].ToString()).Append('\n');
            }
        }

        return sb.ToString();
    }

    private static string Int(long v) => v.ToString(CultureInfo.InvariantCulture);

    private static string Real(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    private static void AppendParts(StringBuilder sb, string directive, ImmutableArray<IoPart> parts)
    {
        foreach (IoPart p in parts)
        {
            sb.Append($"{directive} tile={Int(p.Tile)} addr={Int(p.Addr)} start={Int(p.Start)} len={Int(p.Len)}\n");
        }
    }
}
