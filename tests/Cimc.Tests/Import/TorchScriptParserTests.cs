using Cimc.Diagnostics;
using Cimc.Import.Torch.TorchScript;

namespace Cimc.Tests.Import;

/// <summary>The TorchScript code parser reads torch's printed forms and bounds hostile ones.</summary>
public sealed class TorchScriptParserTests
{
    [Fact]
    public void A_scripted_module_class_parses_with_its_methods_and_final_constants()
    {
        const string code = """
            class Linear(Module):
              __parameters__ = ["weight", "bias", ]
              weight : Tensor
              in_features : Final[int] = 6
              __annotations__["0"] = __torch__.torch.nn.modules.linear.Linear
              def forward(self: __torch__.Linear,
                input: Tensor) -> Tensor:
                weight = self.weight
                if torch.__is__(weight, None):
                  _0 = uninitialized(Tensor)
                else:
                  _0 = torch.linear(input, weight, None)
                return _0
            def relu(input: Tensor, inplace: bool=False) -> Tensor:
              return torch.relu(input)
            """;
        CodeFile file = Parser.Parse(code, "code.py");
        ClassDef c = Assert.Single(file.Classes);
        Assert.Equal("Linear", c.Name);
        Assert.True(c.Methods.ContainsKey("forward"));
        Assert.Equal(6L, Assert.IsType<ConstExpr>(c.Constants["in_features"]).Value);
        Assert.Equal("relu", Assert.Single(file.Functions).Name);
        Assert.IsType<IfStmt>(c.Methods["forward"].Body[1]);
    }

    [Fact]
    public void Deeply_nested_parentheses_are_refused_not_overflowing_the_stack()
    {
        string code = "def f(x):\n  return " + new string('(', 100_000) + "x" + new string(')', 100_000) + "\n";
        var e = Assert.Throws<CimcException>(() => Parser.Parse(code, "code.py"));
        Assert.Contains("nesting deeper", e.Message);
    }

    [Theory]
    [InlineData("def f(x:\n  return x\n")]
    [InlineData("def f(x):\n  return \"abc\n")]
    [InlineData("class A(Module):\n  def f(self):\n    return $\n")]
    public void Malformed_code_is_a_diagnostic_with_file_and_line(string code)
    {
        var e = Assert.Throws<CimcException>(() => Parser.Parse(code, "code.py"));
        Assert.StartsWith("code.py:", e.Message);
    }
}
