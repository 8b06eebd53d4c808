using System.CommandLine;
using System.Text.Json;
using Cimc.Data;
using Cimc.Diagnostics;
using Cimc.Isa;
using Cimc.Simulation;

namespace Cimc.Cli.Commands;

/// <summary>`cimc run DIR --input X.npy --output Y.npy`: runs a compiled program in the functional simulator.</summary>
internal static class RunCommand
{
    public static Command Create(CliContext context)
    {
        var dir = new Argument<string>("DIR") { Description = "a folder written by cimc compile" };
        var input = new Option<string>("--input") { Description = "inputs (.npy, .csv or IDX), batch first, as the float model takes them", Required = true };
        var output = new Option<string>("--output") { Description = "where to write the dequantized outputs (.npy, float32)", Required = true };
        var command = new Command("run", "Run a compiled program in the bit-exact simulator.") { dir, input, output };
        command.SetAction(parse =>
        {
            string folder = parse.GetValue(dir)!;
            (FunctionalSimulator simulator, bool softmax) = Open(folder);
            NdArray x = DataFiles.ReadArray(parse.GetValue(input)!);
            NdArray y = Simulate(simulator, x, softmax);
            Npy.Write(parse.GetValue(output)!, y);
            context.Output.WriteLine($"wrote {parse.GetValue(output)} [{string.Join(",", y.Shape)}]");
            return 0;
        });
        return command;
    }

    public static (FunctionalSimulator Simulator, bool HostSoftmax) Open(string folder)
    {
        if (!Directory.Exists(folder))
        {
            throw new CimcException("file-not-found", folder, "no such folder (expected the output of cimc compile)");
        }

        ProgramImage program = ProgramImage.Load(Path.Combine(folder, "program.bin"));
        WeightImage weights = WeightImage.Load(Path.Combine(folder, "weights.bin"));
        bool softmax = false;
        string summary = Path.Combine(folder, "summary.json");
        if (File.Exists(summary))
        {
            try
            {
                using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(summary));
                softmax = doc.RootElement.TryGetProperty("host_softmax", out JsonElement e) && e.ValueKind == JsonValueKind.True;
            }
            catch (JsonException e)
            {
                throw new CimcException("bad-summary", summary, $"not valid JSON ({e.Message})");
            }
        }

        return (new FunctionalSimulator(program, weights), softmax);
    }

    /// <summary>Runs the simulator on a batch and applies the host's final softmax when the model ends with one.</summary>
    public static NdArray Simulate(FunctionalSimulator simulator, NdArray x, bool hostSoftmax)
    {
        NdArray y = simulator.Run(x);
        return hostSoftmax ? HostSoftmax(y) : y;
    }

    private static NdArray HostSoftmax(NdArray y)
    {
        var data = (float[])y.Data.Clone();
        for (int r = 0; r < y.Rows; r++)
        {
            Span<float> row = data.AsSpan(r * y.RowLength, y.RowLength);
            float max = float.NegativeInfinity;
            foreach (float v in row)
            {
                max = MathF.Max(max, v);
            }

            double total = 0;
            for (int i = 0; i < row.Length; i++)
            {
                total += Math.Exp(row[i] - max);
            }

            for (int i = 0; i < row.Length; i++)
            {
                row[i] = (float)(Math.Exp(row[i] - max) / total);
            }
        }

        return new NdArray(y.Shape, data);
    }
}
