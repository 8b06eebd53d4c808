using Cimc.Isa;

namespace Cimc.Tests.Isa;

public sealed class IsaDocsTests
{
    [Fact]
    public void Docs_isa_md_holds_the_instruction_table_generated_from_the_isa_table()
    {
        string doc = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "docs", "isa.md")).ReplaceLineEndings("\n");
        string expected = IsaDocs.BeginMarker + "\n" + IsaDocs.InstructionTable() + IsaDocs.EndMarker;
        Assert.True(doc.Contains(expected, StringComparison.Ordinal),
            "docs/isa.md is out of date; replace its generated section with:\n" + expected);
        foreach (OpcodeSpec spec in InstructionSet.All)
        {
            Assert.Contains($"| {spec.Code} | `{spec.Mnemonic}` |", doc);
        }
    }
}
