namespace Cimc.Diagnostics;

/// <summary>
/// A problem in the user's input (a model file, a data file, a configuration value), with where it
/// is: an ONNX node, a layer, a config key, a file. Printed as one line: "location: message",
/// with control characters escaped since both parts often quote names read from the file.
/// </summary>
public sealed record Diagnostic(string Code, string Location, string Message)
{
    public override string ToString() => Printable.Escape(Location.Length == 0 ? Message : $"{Location}: {Message}");
}

/// <summary>
/// Thrown for a user's mistake; the command line prints <see cref="Diagnostic"/> as one line and
/// exits non-zero. A broken invariant inside the compiler is an ordinary exception instead.
/// </summary>
public sealed class CimcException : Exception
{
    public CimcException(Diagnostic diagnostic)
        : base(diagnostic.ToString())
    {
        Diagnostic = diagnostic;
    }

    public CimcException(string code, string location, string message)
        : this(new Diagnostic(code, location, message))
    {
    }

    public Diagnostic Diagnostic { get; }
}
