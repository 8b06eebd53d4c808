using System.Text;

namespace Cimc.Isa;

/// <summary>
/// The instruction table of docs/isa.md, generated from <see cref="InstructionSet"/>; a test checks
/// the document holds exactly this text between its markers, so the two cannot drift.
/// </summary>
public static class IsaDocs
{
    public const string BeginMarker = "<!-- BEGIN GENERATED: instruction table -->";
    public const string EndMarker = "<!-- END GENERATED: instruction table -->";

    public static string InstructionTable()
    {
        var sb = new StringBuilder();
        sb.Append("| opcode | mnemonic | fields (LSB first, after the opcode byte) | bits used | latency class | operands | meaning |\n");
        sb.Append("|---:|---|---|---:|---|---|---|\n");
        foreach (OpcodeSpec spec in InstructionSet.All)
        {
            string fields = spec.Fields.Length == 0 ? "(none)" : string.Join(", ", spec.Fields.Select(f => $"`{f.Describe()}`"));
            string operands = string.Join("; ", spec.Fields.Where(f => f.Semantics() is not null).Select(f => $"`{f.Name}`: {f.Semantics()}"));
            sb.Append($"| {spec.Code} | `{spec.Mnemonic}` | {fields} | {spec.EncodedBits} | {spec.LatencyClass} | {(operands.Length == 0 ? "(none)" : operands)} | {spec.Description} |\n");
        }

        return sb.ToString();
    }
}
