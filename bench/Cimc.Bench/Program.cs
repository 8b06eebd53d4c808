using Cimc.Bench;

// `dotnet run -c Release --project bench/Cimc.Bench [-- --quick]`: runs the five cases, prints the
// tables and writes bench/results.md. Only --quick is understood; anything else is refused.
TextWriter output = Console.Out;
if (args.Any(a => a != "--quick"))
{
    Console.Error.WriteLine($"cimc-bench: unknown argument '{args.First(a => a != "--quick")}'; usage: Cimc.Bench [--quick]");
    return 1;
}

Settings settings = args.Contains("--quick") ? Settings.QuickRun : Settings.Full;
#if DEBUG
output.WriteLine("warning: a Debug build; run with -c Release for figures worth comparing");
#endif

string root = RepoRoot.Find();
output.WriteLine("1. compile time (MLP-L4)");
IReadOnlyList<CompileRow> compile = CompileBench.Run(settings, output);
output.WriteLine("2. simulator vs float (Fashion-MNIST)");
IReadOnlyList<SimulatorRow> sim = SimulatorBench.Run(settings, root, output);
output.WriteLine("3. MVM kernel");
IReadOnlyList<MvmRow> mvm = MvmBench.Run(settings, output);

output.WriteLine("4. fast simulator vs ONNX Runtime (Fashion-MNIST)");
string onnxRuntime = OnnxRuntimeBench.Run(settings, root, output);

output.WriteLine("5. cimc simulate (MLP-L4)");
string simulate = SimulateBench.Run(settings, output);

string markdown = Report.Markdown(settings, compile, sim, mvm) + "\n" + onnxRuntime + "\n" + simulate;
output.WriteLine();
output.Write(markdown);
string path = Path.Combine(root, "bench", "results.md");
File.WriteAllText(path, markdown);
output.WriteLine();
output.WriteLine($"wrote {path}");
return 0;
