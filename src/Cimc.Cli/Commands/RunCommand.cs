using System.CommandLine;
using System.Globalization;
using Cimc.Architectures;
using Cimc.Data;
using Cimc.Diagnostics;
using Cimc.Simulation;
using Cimc.Simulation.Devices;

namespace Cimc.Cli.Commands;

/// <summary>`cimc run DIR --input X.npy --output Y.npy [--divide-by D] [--json]`: runs a compiled program in the functional simulator.</summary>
internal static class RunCommand
{
    public static Command Create(CliContext context)
    {
        var dir = new Argument<string>("DIR") { Description = "a folder written by cimc compile" };
        var input = new Option<string>("--input") { Description = "inputs (.npy, .csv or IDX), batch first, as the float model takes them", Required = true };
        var output = new Option<string>("--output") { Description = "where to write the dequantized outputs (.npy, float32)", Required = true };
        Option<double> divideBy = CommonOptions.DivideBy();
        Option<bool> json = CommonOptions.Json();
        var command = new Command("run", "Run a compiled program in the bit-exact simulator.") { dir, input, output, divideBy, json };
        var compileOptions = new CompileOptionsBinder();
        compileOptions.AddTo(command, archRequired: false);
        var device = new DeviceOptionsBinder();
        device.AddTo(command, withSeeds: false);
        command.SetAction(parse =>
        {
            var folder = CompiledFolder.Read(parse.GetValue(dir)!);
            CheckCompiledWith(folder, parse, compileOptions);

            // The device recorded at compile time applies unless the command line gives one.
            DeviceModel? model = device.AnyGiven(parse) ? device.Device(parse) : folder.Summary?.Device?.Validate();
            IProgramRunner simulator = ProgramRunners.For(folder, model);
            NdArray x = CommonOptions.ReadInputs(parse.GetValue(input)!, parse.GetValue(divideBy), "--input");
            if (InputCoverage.Warning(x, folder.Program.Input) is { } warning)
            {
                context.Warn(warning);
            }

            NdArray y = Simulate(simulator, x, folder.HostSoftmax);
            string file = parse.GetValue(output)!;
            Npy.Write(file, y);
            if (parse.GetValue(json))
            {
                context.Output.WriteLine(CommonOptions.ToJson(new { Output = file, Shape = y.Shape, Samples = x.Rows, HostSoftmax = folder.HostSoftmax, Device = model }));
            }
            else
            {
                context.Output.WriteLine($"wrote {file} [{string.Join(",", y.Shape)}]");
            }

            return 0;
        });
        return command;
    }

    /// <summary>
    /// A compiled program's quantization and chip are fixed: run accepts compile's options only to check
    /// that they match what DIR was compiled with (summary.json), and says to recompile otherwise.
    /// Options that choose how to compile (calibration, precision, ADC range, ...) cannot be honoured
    /// here at all, so they are refused rather than ignored.
    /// </summary>
    private static void CheckCompiledWith(CompiledFolder folder, ParseResult parse, CompileOptionsBinder options)
    {
        foreach (Option option in new Option[] { options.Calibration, options.CalibrationData, options.CalibrationDivideBy, options.InputRange, options.Precision, options.Asymmetric, options.AdcRange, options.RowsPerRead, options.ConvMapping, options.WhenTooLarge })
        {
            if (parse.GetResult(option) is { Implicit: false })
            {
                throw new CimcException("recompile", option.Name, $"cimc run cannot change how {folder.Path} was compiled; give {option.Name} to cimc compile instead");
            }
        }

        if (parse.GetValue(options.Arch) is { } archName)
        {
            // --chips auto takes the folder's node; a number must match it like the rest of the chip.
            string? chips = parse.GetValue(options.Chips);
            Architecture given = CompileOptionsBinder.WithChips(ArchitectureCatalog.Load(archName), chips is "auto" ? folder.Architecture?.Chips.ToString(System.Globalization.CultureInfo.InvariantCulture) : chips);
            if (Compiler.Header(given) != folder.Program.Arch || (folder.Architecture is { } compiled && compiled.Name != given.Name))
            {
                string node = given.Chips == 1 ? "" : $" ({given.Chips} chips)";
                throw new CimcException("recompile", "--arch", $"{folder.Path} was compiled for {folder.Architecture?.Name ?? folder.Summary?.Arch ?? "another chip"}{(folder.Architecture is { Chips: > 1 } f ? $" ({f.Chips} chips)" : "")}, not {given.Name}{node}; run cimc compile --arch {archName} to change it");
            }
        }

        if (folder.Summary is not { } summary)
        {
            return;
        }

        string I(int v) => v.ToString(CultureInfo.InvariantCulture);
        void Check(string? given, string option, string actual)
        {
            if (given is not null && given != actual)
            {
                throw new CimcException("recompile", option, $"{folder.Path} was compiled with {option} {actual}; run cimc compile again to change it");
            }
        }

        Check(parse.GetValue(options.WeightBits), "--weight-bits", I(summary.WeightBits));
        Check(parse.GetValue(options.ActivationBits), "--activation-bits", I(summary.ActivationBits));
        Check(parse.GetValue(options.SignedWeights), "--signed-weights", summary.SignedWeights);
        Check(parse.GetValue(options.Granularity), "--granularity", summary.Granularity);
        Check(parse.GetValue(options.CellBits), "--cell-bits", I(summary.Crossbar.CellBits));
        Check(parse.GetValue(options.DacBits), "--dac-bits", I(summary.Crossbar.DacBits));
        Check(parse.GetValue(options.AdcBits), "--adc-bits", I(summary.Crossbar.AdcBits));
    }

    /// <summary>Runs the simulator on a batch and applies the host's final softmax when the model ends with one.</summary>
    public static NdArray Simulate(IProgramRunner simulator, NdArray x, bool hostSoftmax)
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
