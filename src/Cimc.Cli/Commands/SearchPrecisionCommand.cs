using System.Collections.Immutable;
using System.CommandLine;
using System.Globalization;
using System.Text;
using Cimc.Architectures;
using Cimc.Data;
using Cimc.Diagnostics;
using Cimc.Evaluation;
using Cimc.Exploration;
using Cimc.Ir;
using Cimc.Quantization;
using Cimc.Reference;
using Cimc.Simulation;

namespace Cimc.Cli.Commands;

/// <summary>
/// `cimc search-precision MODEL --arch A --images P --labels P [--max-loss POINTS] [--objective crossbars|energy] [-o FILE]`:
/// finds per-layer bits that minimize crossbars (or energy) while the compiled program stays within
/// the allowed accuracy loss of the float model, and writes them as a `--precision` file.
/// </summary>
internal static class SearchPrecisionCommand
{
    public static Command Create(CliContext context)
    {
        var model = new ModelOptions();
        Option<bool> json = CommonOptions.Json();
        var data = new LabelledDataOptions("validation", defaultLimit: 2000);
        var maxLoss = new Option<double>("--max-loss") { Description = "allowed accuracy loss against float, in points", DefaultValueFactory = _ => 1.0 };
        var objective = new Option<string>("--objective") { Description = "what to minimize: crossbars or energy", DefaultValueFactory = _ => "crossbars" };
        objective.AcceptOnlyFromAmong("crossbars", "energy");
        var output = new Option<string>("--output", "-o") { Description = "where to write the per-layer precision (JSON)", DefaultValueFactory = _ => "precision.json" };
        var command = new Command("search-precision", "Search per-layer bits that minimize crossbars or energy within an accuracy loss.")
        {
            model.Model, maxLoss, objective, output, model.Activation, json,
        };
        data.AddTo(command);
        var binder = new CompileOptionsBinder();
        binder.AddTo(command, archRequired: true);
        command.SetAction(parse =>
        {
            if (!(parse.GetValue(maxLoss) >= 0))
            {
                throw new CimcException("bad-option", "--max-loss", $"must be a non-negative number of points, got {parse.GetValue(maxLoss)}");
            }

            Graph graph = model.Load(parse);
            (NdArray x, Labels y) = data.Load(parse);
            (CalibrationSource calibration, x, y) = data.Calibration(context, parse, binder, model.Path(parse), graph, x, y);
            Architecture arch = binder.LoadArchitecture(parse);
            QuantizationOptions baseOptions = binder.Quantization(parse, arch);
            SearchObjective goal = parse.GetValue(objective) == "energy" ? SearchObjective.Energy : SearchObjective.Crossbars;
            double floatAccuracy = Accuracy.Evaluate(b => FloatExecutor.Run(graph, b), x, y).Accuracy;
            // The crossbar layers, named as --precision names them: a convolutional network's from its layer graph.
            ImmutableArray<string> names = LayerGraph.IsConvolutional(graph)
                ? [.. LayerGraph.FromGraph(graph).Layers.Select(l => l.Name)]
                : [.. LayerChain.FromGraph(graph).Layers.Select(l => l.Name)];

            using var progress = new ProgressLine(context, "precision search", 0, "compiled programs evaluated");
            (double Accuracy, double Cost) Evaluate(ImmutableArray<LayerPrecision> layers)
            {
                progress.Advance();
                QuantizationOptions options = baseOptions with { PerLayer = PrecisionSearch.ToOptions(layers) };
                Compilation c = Compiler.Compile(graph, arch, options, calibration, settings: Cimc.Passes.CompileSettings.Default with { AutoChips = parse.GetValue(binder.Chips) is "auto" });
                var simulator = ProgramRunners.For(c);
                double accuracy = Accuracy.Evaluate(b => simulator.Run(b), x, y).Accuracy;
                double cost = goal == SearchObjective.Crossbars ? c.Summary().CrossbarsUsed : EnergyObjective.EnergyNj(c);
                return (accuracy, cost);
            }

            int start = PrecisionSearch.Ladder[0];
            (PrecisionCandidate best, IReadOnlyList<PrecisionCandidate> tried) =
                PrecisionSearch.Run(names.Length, start, floatAccuracy, parse.GetValue(maxLoss), goal, Evaluate);
            progress.Dispose();
            string file = parse.GetValue(output)!;
            File.WriteAllText(file, PrecisionJson(names, best.Layers));
            string unit = goal == SearchObjective.Crossbars ? "crossbars" : "nJ per inference";
            PrecisionCandidate first = tried[0];
            if (parse.GetValue(json))
            {
                context.Output.WriteLine(CommonOptions.ToJson(new
                {
                    FloatAccuracy = floatAccuracy,
                    Accuracy = best.Accuracy,
                    Objective = goal.ToString().ToLowerInvariant(),
                    Cost = best.Cost,
                    UniformCost = first.Cost,
                    UniformBits = start,
                    Evaluations = tried.Count,
                    Layers = names.Select((name, i) => new { Name = name, best.Layers[i].WeightBits, best.Layers[i].ActivationBits }),
                    Output = file,
                }));
                return 0;
            }

            context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"float accuracy {floatAccuracy:P2} on {x.Rows} samples; allowed loss {parse.GetValue(maxLoss)} points; {tried.Count} compiled programs evaluated"));
            context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"uniform {start}-bit: {first.Cost:0.###} {unit}, accuracy {first.Accuracy:P2}"));
            for (int i = 0; i < names.Length; i++)
            {
                context.Output.WriteLine($"  {names[i]}: {best.Layers[i].WeightBits}-bit weights, {best.Layers[i].ActivationBits}-bit activations");
            }

            context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"found: {best.Cost:0.###} {unit} ({(1 - (best.Cost / first.Cost)):P1} less), accuracy {best.Accuracy:P2}; wrote {file}"));
            return 0;
        });
        return command;
    }

    /// <summary>The result in the `--precision` file format, by layer name.</summary>
    private static string PrecisionJson(ImmutableArray<string> names, ImmutableArray<LayerPrecision> layers)
    {
        var sb = new StringBuilder("{\n  \"layers\": {\n");
        for (int i = 0; i < layers.Length; i++)
        {
            string name = System.Text.Json.JsonSerializer.Serialize(names[i]);
            sb.Append(CultureInfo.InvariantCulture, $"    {name}: {{ \"weight_bits\": {layers[i].WeightBits}, \"activation_bits\": {layers[i].ActivationBits} }}");
            sb.Append(i + 1 < layers.Length ? ",\n" : "\n");
        }

        sb.Append("  }\n}\n");
        return sb.ToString();
    }
}

/// <summary>Energy per inference for the search, from the cost model (docs/cost-model.md).</summary>
internal static class EnergyObjective
{
    public static double EnergyNj(Compilation c) =>
        c.Architecture.Costs is null
            ? throw new CimcException("no-costs", "--objective energy", $"architecture '{c.Architecture.Name}' has no costs object; the energy objective needs one")
            : Performance.PerformanceReport.Evaluate(Performance.PerformanceInputs.For(c), c.Graph.Name).EnergyNj;
}
