using System.Collections.Immutable;
using Cimc.Diagnostics;

namespace Cimc.Import.Torch.TorchScript;

/// <summary>
/// Recursive-descent parser for the Python subset torch.jit.save prints: top-level `def`s and
/// `class X(Module):` bodies of annotations, constants and methods; statements are assignments,
/// `return`, `if/elif/else`, `pass` and expression statements; expressions follow Python's
/// precedence. Loops and other statements parse as <see cref="UnsupportedStmt"/>. Nesting is
/// bounded so a hostile file cannot exhaust the stack.
/// </summary>
internal sealed class Parser
{
    private const int MaxDepth = 200;

    private readonly List<Token> _tokens;
    private readonly string _file;
    private int _pos;
    private int _depth;

    private Parser(List<Token> tokens, string file)
    {
        _tokens = tokens;
        _file = file;
    }

    public static CodeFile Parse(string source, string file)
    {
        var p = new Parser(Lexer.Tokenize(source, file), file);
        return p.ParseFile();
    }

    private Token Current => _tokens[_pos];

    private CimcException Error(string message) => new("bad-torchscript", $"{_file}:{Current.Line}", message);

    private Token Next() => _tokens[_pos < _tokens.Count - 1 ? _pos++ : _pos];

    private bool Accept(string op)
    {
        if (Current.Is(op) && Current.Kind != TokenKind.String)
        {
            _pos++;
            return true;
        }

        return false;
    }

    private void Expect(string op)
    {
        if (!Accept(op))
        {
            throw Error($"expected '{op}' but found {Current}");
        }
    }

    private void Expect(TokenKind kind)
    {
        if (Current.Kind != kind)
        {
            throw Error($"expected {kind.ToString().ToLowerInvariant()} but found {Current}");
        }

        _pos++;
    }

    private string ExpectName()
    {
        if (Current.Kind != TokenKind.Name)
        {
            throw Error($"expected a name but found {Current}");
        }

        return Next().Text;
    }

    private CodeFile ParseFile()
    {
        var classes = ImmutableArray.CreateBuilder<ClassDef>();
        var functions = ImmutableArray.CreateBuilder<FunctionDef>();
        while (Current.Kind != TokenKind.End)
        {
            if (Current.Kind == TokenKind.Newline)
            {
                _pos++;
            }
            else if (Current.Is("class"))
            {
                classes.Add(ParseClass());
            }
            else if (Current.Is("def"))
            {
                functions.Add(ParseDef());
            }
            else if (Current.Is("import") || Current.Is("from"))
            {
                SkipLine();
            }
            else
            {
                // Module-level statements (rare) carry nothing cimc needs.
                ParseStatement();
            }
        }

        return new CodeFile(classes.ToImmutable(), functions.ToImmutable());
    }

    private void SkipLine()
    {
        while (Current.Kind is not (TokenKind.Newline or TokenKind.End))
        {
            _pos++;
        }

        Accept(TokenKind.Newline);
    }

    private bool Accept(TokenKind kind)
    {
        if (Current.Kind == kind)
        {
            _pos++;
            return true;
        }

        return false;
    }

    private ClassDef ParseClass()
    {
        int line = Current.Line;
        Expect("class");
        string name = ExpectName();
        if (Accept("("))
        {
            while (!Accept(")"))
            {
                ParseExpression();
                Accept(",");
            }
        }

        Expect(":");
        Expect(TokenKind.Newline);
        Expect(TokenKind.Indent);
        var methods = ImmutableDictionary.CreateBuilder<string, FunctionDef>(StringComparer.Ordinal);
        var constants = ImmutableDictionary.CreateBuilder<string, Expr>(StringComparer.Ordinal);
        while (!Accept(TokenKind.Dedent))
        {
            if (Current.Kind == TokenKind.End)
            {
                throw Error("unexpected end of file in a class");
            }

            if (Current.Is("def"))
            {
                FunctionDef f = ParseDef();
                methods[f.Name] = f;
            }
            else if (ParseStatement() is AnnotatedStmt { Target: NameExpr n, Value: { } v })
            {
                constants[n.Name] = v;
            }
        }

        return new ClassDef(name, methods.ToImmutable(), constants.ToImmutable(), line);
    }

    private FunctionDef ParseDef()
    {
        int line = Current.Line;
        Expect("def");
        string name = ExpectName();
        Expect("(");
        var parameters = ImmutableArray.CreateBuilder<Parameter>();
        while (!Accept(")"))
        {
            string p = ExpectName();
            if (Accept(":"))
            {
                ParseExpression();
            }

            Expr? defaultValue = Accept("=") ? ParseExpression() : null;
            parameters.Add(new Parameter(p, defaultValue));
            if (!Current.Is(")"))
            {
                Expect(",");
            }
        }

        if (Accept("->"))
        {
            ParseExpression();
        }

        Expect(":");
        return new FunctionDef(name, parameters.ToImmutable(), ParseBlock(), _file, line);
    }

    private ImmutableArray<Stmt> ParseBlock()
    {
        var body = ImmutableArray.CreateBuilder<Stmt>();
        if (!Accept(TokenKind.Newline))
        {
            // `if x: return y` on one line.
            body.Add(ParseStatement());
            return body.ToImmutable();
        }

        Expect(TokenKind.Indent);
        Enter();
        while (!Accept(TokenKind.Dedent))
        {
            if (Current.Kind == TokenKind.End)
            {
                throw Error("unexpected end of file in a block");
            }

            body.Add(ParseStatement());
        }

        _depth--;
        return body.ToImmutable();
    }

    private void Enter()
    {
        if (++_depth > MaxDepth)
        {
            throw Error($"nesting deeper than {MaxDepth} levels");
        }
    }

    private Stmt ParseStatement()
    {
        int line = Current.Line;
        if (Accept("if"))
        {
            return ParseIfRest(line);
        }

        if (Accept("return"))
        {
            Expr? value = Current.Kind == TokenKind.Newline ? null : ParseExpressionList();
            Expect(TokenKind.Newline);
            return new ReturnStmt(value, line);
        }

        if (Accept("pass"))
        {
            Expect(TokenKind.Newline);
            return new PassStmt(line);
        }

        if (Current.Is("for") || Current.Is("while") || Current.Is("with") || Current.Is("try"))
        {
            string keyword = Next().Text;
            while (!Current.Is(":") && Current.Kind is not (TokenKind.Newline or TokenKind.End))
            {
                _pos++;
            }

            Expect(":");
            ParseBlock();
            return new UnsupportedStmt(keyword, line);
        }

        if (Current.Is("raise") || Current.Is("assert") || Current.Is("del") || Current.Is("break")
            || Current.Is("continue") || Current.Is("global") || Current.Is("nonlocal"))
        {
            string keyword = Next().Text;
            SkipLine();
            return new UnsupportedStmt(keyword, line);
        }

        Expr target = ParseExpressionList();
        Stmt stmt;
        if (Accept(":"))
        {
            Expr annotation = ParseExpression();
            Expr? value = Accept("=") ? ParseExpressionList() : null;
            stmt = new AnnotatedStmt(target, annotation, value, line);
        }
        else if (Accept("="))
        {
            Expr value = ParseExpressionList();
            while (Accept("="))
            {
                // a = b = c: cimc keeps the last target only when chained; TorchScript never prints this.
                value = ParseExpressionList();
            }

            stmt = new AssignStmt(target, value, line);
        }
        else
        {
            stmt = new ExprStmt(target, line);
        }

        Expect(TokenKind.Newline);
        return stmt;
    }

    private IfStmt ParseIfRest(int line)
    {
        Expr condition = ParseExpression();
        Expect(":");
        ImmutableArray<Stmt> then = ParseBlock();
        ImmutableArray<Stmt> otherwise = [];
        if (Current.Is("elif"))
        {
            int elifLine = Next().Line;
            Enter();
            otherwise = [ParseIfRest(elifLine)];
            _depth--;
        }
        else if (Accept("else"))
        {
            Expect(":");
            otherwise = ParseBlock();
        }

        return new IfStmt(condition, then, otherwise, line);
    }

    /// <summary>`a, b, c` at statement level is a tuple.</summary>
    private Expr ParseExpressionList()
    {
        int line = Current.Line;
        Expr first = ParseExpression();
        if (!Current.Is(","))
        {
            return first;
        }

        var items = ImmutableArray.CreateBuilder<Expr>();
        items.Add(first);
        while (Accept(","))
        {
            if (Current.Kind == TokenKind.Newline || Current.Is("=") || Current.Is(":"))
            {
                break;
            }

            items.Add(ParseExpression());
        }

        return new TupleExpr(items.ToImmutable(), line);
    }

    private Expr ParseExpression()
    {
        Enter();
        try
        {
            Expr value = ParseOr();
            if (Current.Is("if"))
            {
                int line = Next().Line;
                Expr condition = ParseOr();
                Expect("else");
                Expr otherwise = ParseExpression();
                return new ConditionalExpr(condition, value, otherwise, line);
            }

            return value;
        }
        finally
        {
            _depth--;
        }
    }

    private Expr ParseOr() => ParseLeft(ParseAnd, "or");

    private Expr ParseAnd() => ParseLeft(ParseNot, "and");

    private Expr ParseNot()
    {
        if (Current.Is("not"))
        {
            int line = Next().Line;
            Enter();
            Expr operand = ParseNot();
            _depth--;
            return new UnaryExpr("not", operand, line);
        }

        return ParseComparison();
    }

    private Expr ParseComparison()
    {
        Expr left = ParseArithmetic();
        while (true)
        {
            int line = Current.Line;
            string? op = Current.Text switch
            {
                "==" or "!=" or "<" or ">" or "<=" or ">=" when Current.Kind == TokenKind.Op => Current.Text,
                "is" or "in" when Current.Kind == TokenKind.Name => Current.Text,
                "not" when Current.Kind == TokenKind.Name && _tokens[_pos + 1].Is("in") => "not in",
                _ => null,
            };
            if (op is null)
            {
                return left;
            }

            _pos += op == "not in" ? 2 : 1;
            if (op == "is" && Accept("not"))
            {
                op = "is not";
            }

            left = new BinaryExpr(op, left, ParseArithmetic(), line);
        }
    }

    private Expr ParseArithmetic() => ParseLeft(ParseTerm, "+", "-");

    private Expr ParseTerm() => ParseLeft(ParseUnary, "*", "/", "//", "%", "@");

    private Expr ParseLeft(Func<Expr> operand, params string[] ops)
    {
        Expr left = operand();
        while (ops.Contains(Current.Text) && Current.Kind is TokenKind.Op or TokenKind.Name)
        {
            Token op = Next();
            left = new BinaryExpr(op.Text, left, operand(), op.Line);
        }

        return left;
    }

    private Expr ParseUnary()
    {
        if (Current.Kind == TokenKind.Op && Current.Text is "-" or "+" or "~")
        {
            Token op = Next();
            Enter();
            Expr operand = ParseUnary();
            _depth--;
            return new UnaryExpr(op.Text, operand, op.Line);
        }

        Expr baseExpr = ParsePostfix();
        if (Current.Is("**") && Current.Kind == TokenKind.Op)
        {
            int line = Next().Line;
            return new BinaryExpr("**", baseExpr, ParseUnary(), line);
        }

        return baseExpr;
    }

    private Expr ParsePostfix()
    {
        Expr e = ParseAtom();
        while (true)
        {
            int line = Current.Line;
            if (Accept("."))
            {
                e = new AttributeExpr(e, ExpectName(), line);
            }
            else if (Accept("("))
            {
                e = ParseCallRest(e, line);
            }
            else if (Accept("["))
            {
                Expr index = ParseExpressionList();
                Expect("]");
                e = new SubscriptExpr(e, index, line);
            }
            else
            {
                return e;
            }
        }
    }

    private CallExpr ParseCallRest(Expr target, int line)
    {
        var args = ImmutableArray.CreateBuilder<Expr>();
        var keywords = ImmutableArray.CreateBuilder<KeyValuePair<string, Expr>>();
        while (!Accept(")"))
        {
            if (Current.Kind == TokenKind.Name && _tokens[_pos + 1].Is("=") && _tokens[_pos + 1].Kind == TokenKind.Op)
            {
                string name = Next().Text;
                _pos++;
                keywords.Add(new(name, ParseExpression()));
            }
            else
            {
                args.Add(ParseExpression());
            }

            if (!Current.Is(")"))
            {
                Expect(",");
            }
        }

        return new CallExpr(target, args.ToImmutable(), keywords.ToImmutable(), line);
    }

    private Expr ParseAtom()
    {
        Token t = Current;
        switch (t.Kind)
        {
            case TokenKind.Int:
            case TokenKind.Float:
                _pos++;
                return new ConstExpr(t.Value, t.Line);
            case TokenKind.String:
                {
                    _pos++;
                    string s = (string)t.Value!;
                    while (Current.Kind == TokenKind.String)
                    {
                        s += (string)Next().Value!;
                    }

                    return new ConstExpr(s, t.Line);
                }

            case TokenKind.Name:
                _pos++;
                return t.Text switch
                {
                    "True" => new ConstExpr(true, t.Line),
                    "False" => new ConstExpr(false, t.Line),
                    "None" => new ConstExpr(null, t.Line),
                    _ => new NameExpr(t.Text, t.Line),
                };
            case TokenKind.Op when t.Text == "(":
                {
                    _pos++;
                    if (Accept(")"))
                    {
                        return new TupleExpr([], t.Line);
                    }

                    Expr first = ParseExpression();
                    if (Accept(")"))
                    {
                        return first;
                    }

                    var items = ImmutableArray.CreateBuilder<Expr>();
                    items.Add(first);
                    while (Accept(","))
                    {
                        if (Current.Is(")"))
                        {
                            break;
                        }

                        items.Add(ParseExpression());
                    }

                    Expect(")");
                    return new TupleExpr(items.ToImmutable(), t.Line);
                }

            case TokenKind.Op when t.Text == "[":
                {
                    _pos++;
                    var items = ImmutableArray.CreateBuilder<Expr>();
                    while (!Accept("]"))
                    {
                        items.Add(ParseExpression());
                        if (!Current.Is("]"))
                        {
                            Expect(",");
                        }
                    }

                    return new ListExpr(items.ToImmutable(), t.Line);
                }

            default:
                throw Error($"unexpected {t}");
        }
    }
}
