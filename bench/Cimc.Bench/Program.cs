using Cimc.Bench;

// `dotnet run -c Release --project bench/Cimc.Bench [-- --quick] [--only N]`: runs cases 1-8 and 10,
// prints the tables and writes bench/results.md. --only N runs just case N (for iterating on one
// case) and leaves results.md alone, since a partial table would overwrite the others' figures.
// --only 11 [--arch NAME|FILE] runs the ResNet-18 case (not part of a plain run; --arch chooses its chip); --scale 10m,134m[,1b] runs case 9 alone (large generated models; see bench/README.md);
// --scale-write SIZE PATH only writes that model; --resnet18-write PATH [WIDTH] writes the ResNet-18; --mlp-l4-write PATH writes MLP-L4.
TextWriter output = Console.Out;
if (args is ["--scale-child", string childModel, string childOut])
{
    return ScaleBench.ChildMain(childModel, childOut);
}

if (args is ["--resnet18-child", .. string[] resnetChild])
{
    return ResNetBench.ChildMain(resnetChild);
}

if (args is ["--scale-write", string writeSize, string writePath] && ScaleBench.Sizes.TryGetValue(writeSize, out int[]? writeWidths))
{
    // The model alone, to try `cimc compile` on by hand.
    output.WriteLine($"wrote {StateDictFile.Write(writePath, writeWidths, seed: 1):N0} weights to {writePath}");
    return 0;
}

if (args is ["--mlp-l4-write", string mlpPath])
{
    // MLP-L4 as case 6 compiles it (seed 4, 64 calibration samples of seed 5 beside it), to try cimc on by hand.
    File.WriteAllBytes(mlpPath, Google.Protobuf.MessageExtensions.ToByteArray(MlpL4.Build(seed: 4)));
    Cimc.Data.Npy.Write(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(mlpPath))!, "calibration.npy"), MlpL4.Calibration(64, 5));
    output.WriteLine($"wrote MLP-L4 ({MlpL4.Describe}) to {mlpPath} and calibration.npy beside it");
    return 0;
}

if (args is ["--resnet18-write", string resnetPath, .. string[] resnetRest] && resnetRest.Length <= 1)
{
    // The ResNet-18 and calibration images beside it (optionally narrower: --resnet18-write PATH WIDTH), to try cimc on by hand.
    int width = resnetRest.Length == 0 ? ResNet18.FullWidth : int.TryParse(resnetRest[0], out int w) && w > 0 ? w : 0;
    if (width == 0)
    {
        Console.Error.WriteLine($"cimc-bench: bad width '{resnetRest[0]}' (a positive whole number; 64 is ResNet-18)");
        return 1;
    }

    output.WriteLine($"wrote {ResNet18.Write(resnetPath, seed: 1, width):N0} weights ({ResNet18.Describe(width)}) to {resnetPath}");
    string calibrationPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(resnetPath))!, "calibration.npy");
    Cimc.Data.Npy.Write(calibrationPath, ResNet18.RandomImages(ResNetBench.CalibrationImages, seed: 2));
    output.WriteLine($"wrote {ResNetBench.CalibrationImages} random images in [0, 1) to {calibrationPath}, where cimc compile looks for calibration data");
    return 0;
}

if (args is ["--scale", string sizeList])
{
    string[] sizes = sizeList.Split(',');
    if (sizes.FirstOrDefault(s => !ScaleBench.Sizes.ContainsKey(s)) is string bad)
    {
        Console.Error.WriteLine($"cimc-bench: no scale size '{bad}' (sizes: {string.Join(", ", ScaleBench.Sizes.Keys)})");
        return 1;
    }

    output.WriteLine("8. scale (random ReLU MLPs as state_dicts)");
    output.Write(ScaleBench.Run(sizes, output));
    return 0;
}

bool quick = false;
int only = 0;
string resnetArch = ResNetBench.ArchName;
for (int a = 0; a < args.Length; a++)
{
    if (args[a] == "--quick")
    {
        quick = true;
    }
    else if (args[a] == "--arch" && a + 1 < args.Length)
    {
        // Case 11's chip: a preset name or an architecture file (e.g. one with larger tile buffers).
        resnetArch = args[++a];
    }
    else if (args[a] == "--only" && a + 1 < args.Length && int.TryParse(args[a + 1], out only) && only is (>= 1 and <= 8) or 10 or 11)
    {
        a++;
    }
    else
    {
        Console.Error.WriteLine($"cimc-bench: bad argument '{args[a]}'; usage: Cimc.Bench [--quick] [--only 1..8|10|11] [--arch NAME|FILE (case 11)] | --scale SIZES | --scale-write SIZE PATH | --resnet18-write PATH [WIDTH] | --mlp-l4-write PATH");
        return 1;
    }
}

Settings settings = quick ? Settings.QuickRun : Settings.Full;
#if DEBUG
output.WriteLine("warning: a Debug build; run with -c Release for figures worth comparing");
#endif

string root = RepoRoot.Find();
IReadOnlyList<CompileRow> compile = [];
IReadOnlyList<SimulatorRow> sim = [];
IReadOnlyList<MvmRow> mvm = [];

// The cases in the order they run. Cases 1-3 hand their rows to Report.Markdown (their run gives no
// table: null); the others return their own table. Case 11 is not part of a plain run: it writes a
// 45 MB model and compiles it in child processes.
BenchCase[] cases =
[
    new(1, "compile time (MLP-L4)", () => { compile = CompileBench.Run(settings, output); return null; }),
    new(2, "simulator vs float (Fashion-MNIST)", () => { sim = SimulatorBench.Run(settings, root, output); return null; }),
    new(3, "MVM kernel", () => { mvm = MvmBench.Run(settings, output); return null; }),
    new(4, "fast simulator vs ONNX Runtime (Fashion-MNIST)", () => OnnxRuntimeBench.Run(settings, root, output)),
    new(5, "cimc simulate (MLP-L4)", () => SimulateBench.Run(settings, output)),
    new(6, "optimization levels (shipped model, MLP-L4)", () => OptimizationBench.Run(settings, root, output)),
    new(7, "cimc explore (MLP-L4)", () => ExploreBench.Run(settings, output)) { PrintedAlone = false },
    new(8, "replication (MLP-L4 on puma, batch 64)", () => ReplicationBench.Run(settings, output)),
    new(10, "LeNet-5 bit-exact simulation vs ONNX Runtime (Fashion-MNIST)", () => LeNetBench.Run(settings, root, output)),
    new(11, "ResNet-18: float inference, cimc compile and cimc simulate", () => ResNetBench.Run(settings, output, resnetArch)) { InPlainRun = false },
];

var tables = new List<string>();
foreach (BenchCase c in cases.Where(c => only == 0 ? c.InPlainRun : only == c.Number))
{
    output.WriteLine($"{c.Number}. {c.Title}");
    string? table = c.Run();
    if (only != 0)
    {
        // One case asked for: print its table, if it makes one (results.md stays as it is).
        output.WriteLine();
        output.Write(c.PrintedAlone ? table : null);
        return 0;
    }

    if (table is not null)
    {
        tables.Add(table);
    }
}

string markdown = Report.Markdown(settings, compile, sim, mvm) + "\n" + string.Join("\n", tables);
output.WriteLine();
output.Write(markdown);
string path = Path.Combine(root, "bench", "results.md");
File.WriteAllText(path, markdown);
output.WriteLine();
output.WriteLine($"wrote {path}");
return 0;
