using Cimc.Architectures;
using Cimc.Data;
using Cimc.Ir;
using Cimc.Passes;
using Cimc.Performance;
using Cimc.Quantization;

namespace Cimc.Tests.Performance;

/// <summary>Compiled models for the performance tests: random MLPs and PUMA's MLP-L4.</summary>
internal static class PerformanceFixtures
{
    /// <summary>A random MLP with the given widths and activation, compiled for <paramref name="arch"/>.</summary>
    public static Compilation Compile(Architecture arch, int seed, Func<Op>? activation, params int[] widths) =>
        Compile(arch, Compiler.OptionsFor(arch), seed, activation, widths);

    public static Compilation Compile(Architecture arch, Cimc.Quantization.QuantizationOptions options, int seed, Func<Op>? activation, params int[] widths) =>
        Compile(CompileSettings.Default, arch, options, seed, activation, widths);

    /// <summary>As above, through the given pass pipeline (optimization level, placement).</summary>
    public static Compilation Compile(CompileSettings settings, Architecture arch, Cimc.Quantization.QuantizationOptions options, int seed, Func<Op>? activation, params int[] widths)
    {
        var rng = new Random(seed);
        var b = new GraphBuilder($"mlp{seed}", TensorType.Float(TensorType.Dynamic, widths[0]));
        for (int l = 1; l < widths.Length; l++)
        {
            int inF = widths[l - 1], outF = widths[l];
            float[] w = [.. Enumerable.Range(0, inF * outF).Select(_ => (float)((rng.NextDouble() - 0.5) * 2 / Math.Sqrt(inF)))];
            b.Add($"fc{l}", new Dense(FloatTensor.Matrix(outF, inF, w), null));
            if (l < widths.Length - 1 && activation is not null)
            {
                b.Add($"act{l}", activation());
            }
        }

        float[] x = [.. Enumerable.Range(0, 16 * widths[0]).Select(_ => (float)rng.NextDouble())];
        return Compiler.Compile(b.Build(), arch, options, new NdArray([16, widths[0]], x), CompileStage.Asm, settings);
    }

    /// <summary>PUMA's MLP-L4 benchmark: 1024-1024-2048-1024-10, sigmoid, no bias, random weights.</summary>
    public static Compilation PumaMlpL4(Architecture arch) => PumaMlpL4(arch, CompileSettings.Default);

    public static Compilation PumaMlpL4(Architecture arch, CompileSettings settings) =>
        Compile(settings, arch, Compiler.OptionsFor(arch), 4, () => new Sigmoid(), 1024, 1024, 2048, 1024, 10);

    public static PerformanceReport Evaluate(Compilation c, int batch = 1) =>
        PerformanceReport.Evaluate(PerformanceInputs.For(c, batch), c.Graph.Name);
}
