using Cimc.Architectures;
using Cimc.Data;
using Cimc.Evaluation;
using Cimc.Import;
using Cimc.Ir;
using Cimc.Isa;
using Cimc.Reference;
using Cimc.Simulation;

namespace Cimc.Bench;

/// <summary>One simulator-vs-float row: times over the whole test set (seconds) and top-1 accuracies.</summary>
public sealed record SimulatorRow(
    string Arch, int WeightBits, int ActivationBits, int Images, Timing Float, Timing Simulator,
    double FloatAccuracy, double ChipAccuracy, int MvmsPerSample, long InstructionsPerSample, double OneThreadSecondsPerSample)
{
    public double Ratio => Simulator.Median / Float.Median;
}

/// <summary>
/// Case 2: the shipped Fashion-MNIST MLP (784-256-128-10) on the 10,000 test images (/255): the float
/// reference (FloatExecutor.Run over the whole batch) against the functional simulator running the
/// compiled program (FunctionalSimulator.Run over the whole batch, quantize and dequantize
/// included). Both spread the batch over all cores. Compile time and the simulator's construction
/// are outside the timed region.
/// </summary>
public static class SimulatorBench
{
    public static IReadOnlyList<SimulatorRow> Run(Settings settings, string root, TextWriter log)
    {
        string dir = Path.Combine(root, "examples", "fashion-mnist");
        Graph graph = ModelLoader.Load(Path.Combine(dir, "mlp.onnx"));
        NdArray calibration = DataFiles.ReadArray(Path.Combine(dir, "calibration.npy"));
        NdArray images = DataFiles.ReadArray(Path.Combine(dir, "t10k-images-idx3-ubyte.gz")).DivideBy(255f);
        Labels labels = DataFiles.ReadLabels(Path.Combine(dir, "t10k-labels-idx1-ubyte.gz"));
        images = images.Reshape(images.Rows, images.RowLength);

        var rows = new List<SimulatorRow>();
        foreach ((string preset, int bits) in new[] { ("isaac", 8), ("isaac", 4), ("edge", 8), ("edge", 4) })
        {
            log.WriteLine($"  simulate {preset} {bits}/{bits} on {images.Rows} images ...");
            Architecture arch = ArchitectureCatalog.Preset(preset);
            Compilation c = Compiler.Compile(graph, arch, Compiler.OptionsFor(arch, bits, bits), calibration);
            var simulator = new FunctionalSimulator(c.Program!, c.Weights!);

            NdArray floatOut = null!, chipOut = null!;
            Timing tFloat = Measure.Time(() => floatOut = FloatExecutor.Run(graph, images), settings.SimWarmups, settings.SimRepetitions);
            Timing tChip = Measure.Time(() => chipOut = simulator.Run(images), settings.SimWarmups, settings.SimRepetitions);
            // The ISA has no branches, so every sample executes each mvm in the program once.
            int mvms = c.Program!.Cores.Sum(core => core.Code.Count(i => i.Opcode == Opcode.Mvm));
            simulator.RunCodes(simulator.Quantize(images.Row(0)), out long executed);

            // One thread, sample by sample, so the time per sample can be set against the kernel's (case 3).
            long[][] codes = [.. Enumerable.Range(0, settings.OneThreadSamples).Select(i => simulator.Quantize(images.Row(i)))];
            Timing oneThread = Measure.Time(() =>
            {
                foreach (long[] sample in codes)
                {
                    simulator.RunCodes(sample);
                }
            }, 1, settings.SimRepetitions);
            rows.Add(new SimulatorRow(preset, bits, bits, images.Rows, tFloat, tChip, Top1(floatOut, labels), Top1(chipOut, labels), mvms, executed, oneThread.Median / codes.Length));
        }

        return rows;
    }

    private static double Top1(NdArray scores, Labels labels)
    {
        int correct = 0;
        for (int i = 0; i < labels.Count; i++)
        {
            correct += Accuracy.ArgMax(scores.Row(i)) == labels.Values[i] ? 1 : 0;
        }

        return (double)correct / labels.Count;
    }
}
