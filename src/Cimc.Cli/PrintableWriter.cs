using System.Text;
using Cimc.Diagnostics;

namespace Cimc.Cli;

/// <summary>
/// The commands' standard output: text passes through unchanged except control characters other
/// than line breaks and tabs, which are escaped (<see cref="Printable"/>). Names from model and
/// architecture files reach many report lines; escaping here means no file can send a terminal
/// sequence however a command formats them.
/// </summary>
internal sealed class PrintableWriter(TextWriter inner) : TextWriter
{
    public override Encoding Encoding => inner.Encoding;

    public override void Write(char value)
    {
        if (value is '\n' or '\r' or '\t' || !Printable.NeedsEscape(value))
        {
            inner.Write(value);
        }
        else
        {
            inner.Write(Printable.Escape(value.ToString()));
        }
    }

    public override void Write(string? value) => inner.Write(value is null ? null : Printable.EscapeKeepingLines(value));

    public override void Write(char[] buffer, int index, int count) => Write(new string(buffer, index, count));

    public override void WriteLine(string? value)
    {
        Write(value);
        inner.WriteLine();
    }

    public override void Flush() => inner.Flush();
}
