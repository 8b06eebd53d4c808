using System.Globalization;
using System.Text;
using Cimc.Diagnostics;

namespace Cimc.Import.Torch.TorchScript;

/// <summary>
/// Splits TorchScript's serialized Python (the `code/*.py` entries of torch.jit.save) into tokens,
/// with Python's INDENT/DEDENT and implicit line joining inside brackets. The subset is what
/// torch's printer emits: names, numbers, quoted strings, operators, comments.
/// </summary>
internal static class Lexer
{
    private const string ThreeCharOps = "...";
    private static readonly string[] TwoCharOps = ["->", "==", "!=", "<=", ">=", "//", "**", "+=", "-=", "<<", ">>"];
    private const string OneCharOps = "()[]{},:.=@+-*/%<>~|&^";

    public static List<Token> Tokenize(string source, string location)
    {
        var tokens = new List<Token>();
        var indents = new Stack<int>();
        indents.Push(0);
        int depth = 0, line = 1, i = 0;
        bool lineStart = true;
        CimcException Error(string message) => new("bad-torchscript", $"{location}:{line}", message);

        while (i < source.Length)
        {
            if (lineStart && depth == 0)
            {
                int col = 0;
                while (i < source.Length && (source[i] == ' ' || source[i] == '\t'))
                {
                    col += source[i] == '\t' ? 8 - (col % 8) : 1;
                    i++;
                }

                if (i >= source.Length || source[i] is '\n' or '\r' or '#')
                {
                    // Blank or comment-only lines do not change indentation.
                    while (i < source.Length && source[i] != '\n')
                    {
                        i++;
                    }

                    if (i < source.Length)
                    {
                        i++;
                        line++;
                    }

                    continue;
                }

                if (col > indents.Peek())
                {
                    indents.Push(col);
                    tokens.Add(new Token(TokenKind.Indent, "", line));
                }

                while (col < indents.Peek())
                {
                    indents.Pop();
                    tokens.Add(new Token(TokenKind.Dedent, "", line));
                }

                if (col != indents.Peek())
                {
                    throw Error("inconsistent indentation");
                }

                lineStart = false;
            }

            char c = source[i];
            if (c == '\n')
            {
                if (depth == 0)
                {
                    tokens.Add(new Token(TokenKind.Newline, "", line));
                    lineStart = true;
                }

                line++;
                i++;
            }
            else if (c is ' ' or '\t' or '\r')
            {
                i++;
            }
            else if (c == '\\' && i + 1 < source.Length && source[i + 1] == '\n')
            {
                i += 2;
                line++;
            }
            else if (c == '#')
            {
                while (i < source.Length && source[i] != '\n')
                {
                    i++;
                }
            }
            else if (char.IsAsciiLetter(c) || c == '_')
            {
                int start = i;
                while (i < source.Length && (char.IsAsciiLetterOrDigit(source[i]) || source[i] == '_'))
                {
                    i++;
                }

                tokens.Add(new Token(TokenKind.Name, source[start..i], line));
            }
            else if (char.IsAsciiDigit(c) || (c == '.' && i + 1 < source.Length && char.IsAsciiDigit(source[i + 1])))
            {
                tokens.Add(Number(source, ref i, line, Error));
            }
            else if (c is '"' or '\'')
            {
                tokens.Add(new Token(TokenKind.String, "string", line, QuotedString(source, ref i, ref line, Error)));
            }
            else
            {
                string op = source.AsSpan(i).StartsWith(ThreeCharOps) ? ThreeCharOps
                    : i + 1 < source.Length && TwoCharOps.Contains(source.Substring(i, 2)) ? source.Substring(i, 2)
                    : OneCharOps.Contains(c) ? c.ToString()
                    : throw Error($"unexpected character '{c}'");
                depth += op is "(" or "[" or "{" ? 1 : op is ")" or "]" or "}" ? -1 : 0;
                if (depth < 0)
                {
                    throw Error($"unbalanced '{op}'");
                }

                tokens.Add(new Token(TokenKind.Op, op, line));
                i += op.Length;
            }
        }

        if (depth != 0)
        {
            throw Error("unclosed bracket at end of file");
        }

        if (tokens.Count > 0 && tokens[^1].Kind != TokenKind.Newline)
        {
            tokens.Add(new Token(TokenKind.Newline, "", line));
        }

        while (indents.Count > 1)
        {
            indents.Pop();
            tokens.Add(new Token(TokenKind.Dedent, "", line));
        }

        tokens.Add(new Token(TokenKind.End, "", line));
        return tokens;
    }

    private static Token Number(string s, ref int i, int line, Func<string, CimcException> error)
    {
        int start = i;
        bool isFloat = false;
        while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.' || s[i] == '_'
            || s[i] is 'e' or 'E' || (s[i] is '+' or '-' && s[i - 1] is 'e' or 'E')))
        {
            isFloat |= s[i] is '.' or 'e' or 'E';
            i++;
        }

        string text = s[start..i].Replace("_", "", StringComparison.Ordinal);
        if (!isFloat && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long l))
        {
            return new Token(TokenKind.Int, text, line, l);
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double d)
            ? new Token(TokenKind.Float, text, line, d)
            : throw error($"bad number '{text}'");
    }

    private static string QuotedString(string s, ref int i, ref int line, Func<string, CimcException> error)
    {
        char quote = s[i];
        bool triple = i + 2 < s.Length && s[i + 1] == quote && s[i + 2] == quote;
        i += triple ? 3 : 1;
        var sb = new StringBuilder();
        while (true)
        {
            if (i >= s.Length)
            {
                throw error("unterminated string");
            }

            char c = s[i];
            if (c == quote && (!triple || (i + 2 < s.Length && s[i + 1] == quote && s[i + 2] == quote)))
            {
                i += triple ? 3 : 1;
                return sb.ToString();
            }

            if (c == '\n')
            {
                if (!triple)
                {
                    throw error("unterminated string");
                }

                line++;
            }

            if (c == '\\' && i + 1 < s.Length)
            {
                char e = s[i + 1];
                sb.Append(e switch { 'n' => '\n', 't' => '\t', 'r' => '\r', '0' => '\0', _ => e });
                i += 2;
                continue;
            }

            sb.Append(c);
            i++;
        }
    }
}
