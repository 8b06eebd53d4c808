namespace Cimc.Cli;

public static class Program
{
    public static int Main(string[] args) => CliApp.Run(args, new CliContext(Console.Out, Console.Error, errorIsTerminal: !Console.IsErrorRedirected));
}
