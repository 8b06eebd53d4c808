using System.CommandLine;
using System.CommandLine.Parsing;
using Cimc.Cli.Commands;
using Cimc.Diagnostics;

namespace Cimc.Cli;

/// <summary>
/// The `cimc` command: builds the command tree and runs it with the given writers, so tests can run
/// it in-process. A user's mistake (<see cref="CimcException"/>, a missing file) prints one line to
/// the error writer and exits 1; a bug prints one line too (the stack trace with CIMC_DEBUG=1) and exits 70.
/// </summary>
public static class CliApp
{
    public const int UserError = 1;
    public const int InternalError = 70;

    public static int Run(string[] args, TextWriter output, TextWriter error) => Run(args, new CliContext(output, error));

    public static int Run(string[] args, CliContext context)
    {
        TextWriter error = context.Error;
        var quiet = new Option<bool>("--quiet", "-q") { Description = "print results and errors only: no notes, no progress", Recursive = true };
        RootCommand root = Build(context);
        root.Options.Add(quiet);
        ParseResult parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            // One line, not the help page: scripts read stderr, people can ask for --help.
            var names = new List<string>();
            for (SymbolResult? r = parsed.CommandResult; r is CommandResult c; r = r.Parent)
            {
                names.Insert(0, c.Command is RootCommand ? "cimc" : c.Command.Name);
            }

            string command = string.Join(' ', names);
            ParseError first = parsed.Errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized", StringComparison.Ordinal)) ?? parsed.Errors[0];
            error.WriteLine($"cimc: error: {OneLine(first.Message)} (see '{command} --help')");
            return UserError;
        }

        context.Quiet = parsed.GetValue(quiet);
        var config = new InvocationConfiguration { Output = context.Output, Error = error, EnableDefaultExceptionHandler = false };
        try
        {
            return parsed.Invoke(config);
        }
        catch (CimcException e)
        {
            error.WriteLine($"cimc: error: {OneLine(e.Message)}");
            return UserError;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"cimc: error: {OneLine(e.Message)}");
            return UserError;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            error.WriteLine($"cimc: internal error: {e.GetType().Name}: {OneLine(e.Message)} (please report it; CIMC_DEBUG=1 shows the stack trace)");
            if (Environment.GetEnvironmentVariable("CIMC_DEBUG") == "1")
            {
                error.WriteLine(e.ToString());
            }

            return InternalError;
        }
    }

    /// <summary>Messages may quote names from a file: line breaks become spaces, other control characters escapes.</summary>
    private static string OneLine(string message) => Printable.Escape(message.ReplaceLineEndings(" "));

    private static RootCommand Build(CliContext context)
    {
        var root = new RootCommand("cimc: compile PyTorch MLPs for crossbar compute-in-memory accelerators, simulate them bit-exactly, and report their costs.");
        root.Subcommands.Add(InspectCommand.Create(context));
        root.Subcommands.Add(InferCommand.Create(context));
        root.Subcommands.Add(AccuracyCommand.Create(context));
        root.Subcommands.Add(ArchCommand.Create(context));
        root.Subcommands.Add(AsmCommand.Create(context));
        root.Subcommands.Add(DisasmCommand.Create(context));
        root.Subcommands.Add(CompileCommand.Create(context));
        root.Subcommands.Add(RunCommand.Create(context));
        root.Subcommands.Add(SearchPrecisionCommand.Create(context));
        root.Subcommands.Add(SimulateCommand.Create(context));
        root.Subcommands.Add(ReportCommand.Create(context));
        root.Subcommands.Add(ExploreCommand.Create(context));
        return root;
    }
}

/// <summary>
/// Where commands write: injected so that nothing deep in the code touches Console. Results go to
/// Output; notes (what a command assumed or picked up), warnings and progress go to Error, so that
/// `--json` output stays one JSON object. `--quiet` silences notes and progress, never warnings.
/// </summary>
public sealed class CliContext(TextWriter output, TextWriter error, bool errorIsTerminal = false)
{
    /// <summary>Results; control characters from names in files are escaped on the way (<see cref="PrintableWriter"/>).</summary>
    public TextWriter Output { get; } = new PrintableWriter(output);

    public TextWriter Error { get; } = error;

    /// <summary>Progress redraws one line on a terminal and prints plain lines otherwise.</summary>
    public bool ErrorIsTerminal { get; } = errorIsTerminal;

    public bool Quiet { get; set; }

    /// <summary>What the command assumed or picked up by itself, in one line.</summary>
    public void Note(string text)
    {
        if (!Quiet)
        {
            Error.WriteLine($"cimc: note: {Printable.Escape(text)}");
        }
    }

    /// <summary>A result that may be wrong for a reason the command can see (e.g. inputs far outside the calibrated range).</summary>
    public void Warn(string text) => Error.WriteLine($"cimc: warning: {Printable.Escape(text)}");
}
