using System.CommandLine;
using System.Text.Json;
using Cimc.Data;
using Cimc.Diagnostics;
using Cimc.Isa;
using Cimc.Simulation;
using Cimc.Simulation.Devices;

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
        var compileOptions = new CompileOptionsBinder();
        compileOptions.AddTo(command, archRequired: false);
        var device = new DeviceOptionsBinder();
        device.AddTo(command, withSeeds: false);
        command.SetAction(parse =>
        {
            string folder = parse.GetValue(dir)!;
            CheckCompiledWith(folder, parse, compileOptions);
            (FunctionalSimulator simulator, bool softmax) = Open(folder, device.AnyGiven(parse) ? device.Device(parse) : null);
            NdArray x = DataFiles.ReadArray(parse.GetValue(input)!);
            NdArray y = Simulate(simulator, x, softmax);
            Npy.Write(parse.GetValue(output)!, y);
            context.Output.WriteLine($"wrote {parse.GetValue(output)} [{string.Join(",", y.Shape)}]");
            return 0;
        });
        return command;
    }

    /// <summary>
    /// A compiled program's quantization is fixed: run accepts compile's options only to check that
    /// they match what DIR was compiled with (summary.json), and says to recompile otherwise.
    /// </summary>
    private static void CheckCompiledWith(string folder, ParseResult parse, CompileOptionsBinder options)
    {
        string path = Path.Combine(folder, "summary.json");
        if (!File.Exists(path))
        {
            return;
        }

        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(path));
        JsonElement root = doc.RootElement;
        void Check(string? given, string option, JsonElement actual)
        {
            if (given is not null && actual.ValueKind != JsonValueKind.Undefined && given != actual.ToString())
            {
                throw new CimcException("recompile", option, $"{folder} was compiled with {option} {actual}; run cimc compile again to change it");
            }
        }

        JsonElement Field(JsonElement e, string name) => e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out JsonElement v) ? v : default;
        Check(parse.GetValue(options.WeightBits), "--weight-bits", Field(root, "weight_bits"));
        Check(parse.GetValue(options.ActivationBits), "--activation-bits", Field(root, "activation_bits"));
        Check(parse.GetValue(options.SignedWeights), "--signed-weights", Field(root, "signed_weights"));
        Check(parse.GetValue(options.Granularity), "--granularity", Field(root, "granularity"));
        Check(parse.GetValue(options.CellBits), "--cell-bits", Field(Field(root, "crossbar"), "cell_bits"));
        Check(parse.GetValue(options.DacBits), "--dac-bits", Field(Field(root, "crossbar"), "dac_bits"));
        Check(parse.GetValue(options.AdcBits), "--adc-bits", Field(Field(root, "crossbar"), "adc_bits"));
    }

    public static (FunctionalSimulator Simulator, bool HostSoftmax) Open(string folder, DeviceModel? device = null)
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

                // The device recorded at compile time applies unless the command line gives one.
                if (device is null && doc.RootElement.TryGetProperty("device", out JsonElement d) && d.ValueKind == JsonValueKind.Object)
                {
                    device = JsonSerializer.Deserialize<DeviceModel>(d.GetRawText(), CommonOptions.JsonOptions)?.Validate();
                }
            }
            catch (JsonException e)
            {
                throw new CimcException("bad-summary", summary, $"not valid JSON ({e.Message})");
            }
        }

        return (new FunctionalSimulator(program, weights, device), softmax);
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
