using System.CommandLine;
using Cimc.Architectures;
using Cimc.Ir;
using Cimc.Isa;
using Cimc.Mapping;
using Cimc.Quantization;

namespace Cimc.Cli.Commands;

/// <summary>
/// `cimc compile MODEL --arch PRESET|FILE -o DIR [--weight-bits N] [--activation-bits N]
/// [--activation A] [--json] [--emit graph|quantized|mapped|schedule|asm]`: writes program.bin, weights.bin
/// and summary.json (and program.asm with --emit asm), or prints one stage's text form.
/// </summary>
internal static class CompileCommand
{
    public static Command Create(CliContext context)
    {
        var model = new ModelOptions();
        Option<bool> json = CommonOptions.Json();
        var output = new Option<string?>("--output", "-o") { Description = "output folder (required, unless --emit prints a stage instead)" };
        var emit = new Option<string?>("--emit") { Description = "stop after a stage and print it: graph, quantized, mapped, schedule or asm (asm with -o: write program.asm into the folder)" };
        emit.AcceptOnlyFromAmong("graph", "quantized", "mapped", "schedule", "asm");
        var binder = new CompileOptionsBinder();
        var command = new Command("compile", "Compile a model into a program for a CIM chip.") { model.Model, output, model.Activation, json, emit };
        binder.AddTo(command, archRequired: false);
        var device = new DeviceOptionsBinder();
        device.AddTo(command, withSeeds: false);
        command.SetAction(parse =>
        {
            string modelPath = model.Path(parse);
            string? emitStage = parse.GetValue(emit);
            string? outDir = parse.GetValue(output);
            if (emitStage is null && outDir is null)
            {
                throw new Diagnostics.CimcException("bad-option", "-o", "give an output folder with -o DIR (or --emit STAGE to print a stage)");
            }

            Graph graph = model.Load(parse);
            if (emitStage == "graph")
            {
                // The graph comes before any chip: no --arch needed to see it.
                context.Output.Write(GraphPrinter.Print(GraphVerifier.EnsureValid(graph)));
                return 0;
            }

            if (parse.GetValue(binder.Arch) is null)
            {
                throw new Diagnostics.CimcException("bad-option", "--arch", "give the chip to compile for with --arch PRESET|FILE (cimc arch list shows the presets)");
            }

            // The assembly text is as large as the program (tens of MB for large models): written only when asked for.
            bool writeFolder = outDir is not null && emitStage is null or "asm";
            Architecture arch = binder.LoadArchitecture(parse);
            QuantizationOptions options = binder.Quantization(parse, arch);
            CompileStage stop = emitStage switch
            {
                "quantized" => CompileStage.Quantized,
                "mapped" => CompileStage.Mapped,
                "schedule" => CompileStage.Schedule,
                _ => CompileStage.Asm,
            };
            // Large models take a while: a progress line over the stages, shown only after a second.
            Compilation c;
            using (var progress = new ProgressLine(context, $"compiling {graph.Name} for {arch.Name}", (int)stop, "stages", after: 1))
            {
                c = Compiler.Compile(graph, arch, options, binder.FindCalibration(parse, modelPath), stop, _ => progress.Advance(),
                    binder.Settings(parse, context.Output) with { Estimate = writeFolder });
            }

            CompileOptionsBinder.WritePassTimes(parse, binder, c, context.Output);

            if (c.Quantized is not null && !GraphQuantizer.NeedsCalibration(graph))
            {
                context.Note("the model file quantizes every activation (QDQ); no calibration is used");
            }
            else if (c.Calibration is { } calibration)
            {
                context.Note(calibration.Describe());
            }

            foreach (string warning in c.Warnings())
            {
                context.Warn(warning);
            }

            switch (emitStage)
            {
                case "quantized":
                    context.Output.Write(QuantizedPrinter.Print(c.Quantized!));
                    return 0;
                case "mapped":
                    context.Output.Write(PerSegment(c, s => MappedPrinter.Print(s.Placed!)));
                    return 0;
                case "schedule":
                    context.Output.Write(PerSegment(c, s => Scheduling.SchedulePrinter.Print(s.Schedule!)));
                    return 0;
                case "asm" when !writeFolder:
                    context.Output.Write(PerSegment(c, s => Disassembler.Disassemble(s.Program!)));
                    return 0;
            }

            // A device given at compile time is recorded; cimc run DIR applies it.
            CompileSummary summary = CompiledFolder.Write(outDir!, c, device.AnyGiven(parse) ? device.Device(parse) : null, assembly: emitStage == "asm");
            if (parse.GetValue(json))
            {
                context.Output.WriteLine(CommonOptions.ToJson(summary));
            }
            else
            {
                context.Output.WriteLine($"compiled {summary.Model} for {summary.Arch}: {summary.CrossbarsUsed} of {summary.CrossbarsAvailable} crossbars " +
                    $"({summary.Utilization:P1} of their cells used{(summary.ReplicatedCrossbars > summary.CrossbarsUsed ? $"; {summary.ReplicatedCrossbars} with the copies" : "")}), {summary.CoresUsed} cores{(summary.Chips > 1 ? $" on {summary.ChipsUsed} of {summary.Chips} chips" : "")}, " +
                    $"{(summary.Segments > 1 ? $"{summary.Segments} segments with weight reloading, " : "")}{summary.Instructions} instructions -> {outDir}");
            }

            return 0;
        });
        return command;
    }

    /// <summary>A stage's text, or each segment's after a comment naming it when the compile reloads weights.</summary>
    private static string PerSegment(Compilation c, Func<Compilation, string> print) =>
        c.IsSegmented
            ? string.Concat(c.Segments.Select((s, k) => $"; segment {k} of {c.Segments.Length} (layers {c.SegmentCuts[k].FirstLayer} to {c.SegmentCuts[k].EndLayer - 1})\n{print(s)}"))
            : print(c);
}
