using System.Globalization;
using System.Text;

namespace Cimc.Diagnostics;

/// <summary>
/// Makes text taken from a file safe to print: control characters (C0 including NUL, DEL, C1
/// including the one-byte CSI 0x9B) and the bidirectional overrides that can reorder what a
/// terminal shows become visible escapes (\x1b, \u202e). A file can then not clear the screen,
/// move the cursor or fake output through a name it carries.
/// </summary>
public static class Printable
{
    public static string Escape(string text)
    {
        if (!text.Any(NeedsEscape))
        {
            return text;
        }

        var sb = new StringBuilder(text.Length + 16);
        foreach (char c in text)
        {
            if (!NeedsEscape(c))
            {
                sb.Append(c);
            }
            else if (c <= '\u00FF')
            {
                sb.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}");
            }
            else
            {
                sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
        }

        return sb.ToString();
    }

    /// <summary>Escapes like <see cref="Escape"/> but keeps line breaks and tabs (for multi-line reports).</summary>
    public static string EscapeKeepingLines(string text)
    {
        if (!text.Any(c => NeedsEscape(c) && c is not ('\n' or '\r' or '\t')))
        {
            return text;
        }

        var sb = new StringBuilder(text.Length + 16);
        int start = 0;
        for (int i = 0; i <= text.Length; i++)
        {
            if (i == text.Length || text[i] is '\n' or '\r' or '\t')
            {
                sb.Append(Escape(text[start..i]));
                if (i < text.Length)
                {
                    sb.Append(text[i]);
                }

                start = i + 1;
            }
        }

        return sb.ToString();
    }

    public static bool NeedsEscape(char c) =>
        char.IsControl(c) || c is >= '\u202A' and <= '\u202E' or >= '\u2066' and <= '\u2069';
}
