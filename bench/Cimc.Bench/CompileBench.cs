using Cimc.Architectures;
using Cimc.Codegen;
using Cimc.Data;
using Cimc.Diagnostics;
using Cimc.Import;
using Cimc.Ir;
using Cimc.Isa;
using Cimc.Mapping;
using Cimc.Placement;
using Cimc.Quantization;

namespace Cimc.Bench;

/// <summary>One compile-time row: end-to-end time and the stage split, in seconds.</summary>
public sealed record CompileRow(
    string Arch, int WeightBits, int ActivationBits, string Note,
    Timing EndToEnd, Timing Import, Timing Quantize, Timing MapPlace, Timing Codegen, double AllocatedMiB, int Crossbars);

/// <summary>
/// Case 1: compile time of MLP-L4 from the ONNX file to the program image. The end-to-end figure is
/// ModelLoader.Load + Compiler.Compile as the command line runs them; the stage split repeats the
/// same calls that Compiler.Compile makes, one stopwatch lap per stage, in separate repetitions.
/// </summary>
public static class CompileBench
{
    public static IReadOnlyList<CompileRow> Run(Settings settings, TextWriter log)
    {
        string path = MlpL4.Save(seed: 1);
        try
        {
            NdArray calibration = MlpL4.Calibration(samples: 64, seed: 2);
            Architecture arch = ArchitectureCatalog.Preset("isaac");
            var rows = new List<CompileRow>();
            foreach ((int w, int a) in new[] { (16, 16), (8, 8) })
            {
                rows.Add(Row(path, arch, calibration, w, a, settings, log));
            }

            return rows;
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static CompileRow Row(string path, Architecture arch, NdArray calibration, int weightBits, int activationBits, Settings settings, TextWriter log)
    {
        string note = "";
        try
        {
            Compiler.Compile(ModelLoader.Load(path), arch, Compiler.OptionsFor(arch, weightBits, activationBits), calibration);
        }
        catch (CimcException e) when (e.Diagnostic.Code == "does-not-fit")
        {
            // A 2^16-entry sigmoid table needs more words than the preset's core local memory; the
            // table's size follows the activation bits, so keep the 16-bit weights and use 8-bit activations.
            note = $"{weightBits}/{activationBits} does not fit: {e.Diagnostic.Location}: {e.Diagnostic.Message}; measured at {weightBits}/8";
            log.WriteLine($"  note: {note}");
            activationBits = 8;
        }

        QuantizationOptions options = Compiler.OptionsFor(arch, weightBits, activationBits);
        log.WriteLine($"  compile isaac {weightBits}/{activationBits} ...");
        Compilation last = null!;
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        Timing endToEnd = Measure.Time(
            () => last = Compiler.Compile(ModelLoader.Load(path), arch, options, calibration),
            settings.CompileWarmups, settings.CompileRepetitions);
        double allocatedMiB = (GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore)
            / (double)(settings.CompileWarmups + settings.CompileRepetitions) / (1 << 20);

        var import = new List<double>();
        var quantize = new List<double>();
        var mapPlace = new List<double>();
        var codegen = new List<double>();
        for (int rep = -settings.CompileWarmups; rep < settings.CompileRepetitions; rep++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            Graph graph = Measure.Lap(() => ModelLoader.Load(path), out double tImport);
            QuantizedModel quantized = Measure.Lap(
                () => Quantizer.Quantize(LayerChain.FromGraph(GraphVerifier.EnsureValid(graph)), calibration, options), out double tQuantize);
            PlacedModel placed = Measure.Lap(
                () => Placer.Place(CrossbarMapper.Map(quantized, Compiler.Geometry(arch)), Compiler.Shape(arch)), out double tMap);
            (ProgramImage, WeightImage) image = Measure.Lap(() => CodeGenerator.Generate(placed, Compiler.Header(arch)), out double tCodegen);
            GC.KeepAlive(image);
            if (rep >= 0)
            {
                import.Add(tImport);
                quantize.Add(tQuantize);
                mapPlace.Add(tMap);
                codegen.Add(tCodegen);
            }
        }

        return new CompileRow("isaac", weightBits, activationBits, note, endToEnd,
            Timing.Of(import), Timing.Of(quantize), Timing.Of(mapPlace), Timing.Of(codegen),
            allocatedMiB, last.Summary().CrossbarsUsed);
    }
}
