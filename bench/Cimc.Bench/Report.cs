using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Cimc.Bench;

/// <summary>The results as markdown tables: printed to the console and written to bench/results.md.</summary>
public static class Report
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string Markdown(Settings settings, IReadOnlyList<CompileRow> compile, IReadOnlyList<SimulatorRow> sim, IReadOnlyList<MvmRow> mvm)
    {
        var sb = new StringBuilder();
        sb.AppendLine("# cimc benchmark results");
        sb.AppendLine();
        sb.AppendLine(Inv, $"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; {RuntimeInformation.FrameworkDescription}; {RuntimeInformation.OSDescription} {RuntimeInformation.OSArchitecture}; "
            + $"{Environment.ProcessorCount} logical cores; {(settings.Quick ? "--quick" : "full")} run. Times are median (min) over the repetitions; see bench/README.md.");
        sb.AppendLine();

        sb.AppendLine(Inv, $"## 1. Compile time: MLP-L4 ({MlpL4.Describe}) for isaac, ONNX file to program image");
        sb.AppendLine();
        sb.AppendLine("| arch | w/a bits | end-to-end s | import s | quantize s | map+place s | codegen s | allocated MiB | crossbars | under 2 s |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (CompileRow r in compile)
        {
            sb.AppendLine(Inv, $"| {r.Arch} | {r.WeightBits}/{r.ActivationBits} | {T(r.EndToEnd)} | {T(r.Import)} | {T(r.Quantize)} | {T(r.MapPlace)} | {T(r.Codegen)} | {r.AllocatedMiB:F0} | {r.Crossbars} | {(r.EndToEnd.Median < 2 ? "yes" : "no")} |");
        }

        sb.AppendLine();
        sb.AppendLine("Share of the summed stage medians:");
        sb.AppendLine();
        foreach (CompileRow r in compile)
        {
            double sum = r.Import.Median + r.Quantize.Median + r.MapPlace.Median + r.Codegen.Median;
            sb.AppendLine(Inv, $"- {r.WeightBits}/{r.ActivationBits}: import {Pct(r.Import.Median, sum)}, quantize {Pct(r.Quantize.Median, sum)}, map+place {Pct(r.MapPlace.Median, sum)}, codegen {Pct(r.Codegen.Median, sum)}");
        }

        foreach (CompileRow r in compile.Where(r => r.Note.Length > 0))
        {
            sb.AppendLine();
            sb.AppendLine(Inv, $"Note: {r.Note}.");
        }

        sb.AppendLine();
        sb.AppendLine("## 2. Functional simulator vs float reference: Fashion-MNIST MLP 784-256-128-10, 10,000 test images");
        sb.AppendLine();
        sb.AppendLine("| arch | w/a bits | images | float s | simulator s | simulator/float | simulator images/s | 1-thread us/sample | mvm/sample | instr/sample | float acc | chip acc |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (SimulatorRow r in sim)
        {
            sb.AppendLine(Inv, $"| {r.Arch} | {r.WeightBits}/{r.ActivationBits} | {r.Images} | {T(r.Float)} | {T(r.Simulator)} | {r.Ratio:F1}x | {r.Images / r.Simulator.Median:F0} | {r.OneThreadSecondsPerSample * 1e6:F0} | {r.MvmsPerSample} | {r.InstructionsPerSample:N0} | {r.FloatAccuracy:P2} | {r.ChipAccuracy:P2} |");
        }

        sb.AppendLine();
        sb.AppendLine("## 3. MVM kernel, one thread: 128x128 crossbar, 2-bit cells, 8-bit inputs, 8-bit ADC");
        sb.AppendLine();
        sb.AppendLine("| DAC bits | slices | kernel MVM/s | ns per MVM | naive MVM/s | kernel speed-up over naive |");
        sb.AppendLine("|---|---|---|---|---|---|");
        foreach (MvmRow r in mvm)
        {
            sb.AppendLine(Inv, $"| {r.DacBits} | {(r.InputBits + r.DacBits - 1) / r.DacBits} | {r.KernelPerSecond:N0} | {r.Kernel.Median / r.Batch * 1e9:F0} | {r.NaivePerSecond:N0} | {r.Speedup:F1}x |");
        }

        // Where the simulator's time goes, one thread: mvm instructions x the kernel's time for a full
        // 128x128 1-bit-DAC MVM with 8-bit inputs (every preset here has 1-bit DACs), scaled to the
        // program's activation bits (the kernel's work is one pass per input bit-plane). Rough: real
        // mvms may use fewer rows or columns, and all-zero input planes are skipped.
        MvmRow? dac1 = mvm.FirstOrDefault(r => r.DacBits == 1);
        if (dac1 is not null && sim.Count > 0)
        {
            double perMvm = dac1.Kernel.Median / dac1.Batch;
            sb.AppendLine();
            sb.AppendLine("Rough share of the simulator's one-thread time per sample spent in the MVM kernel (mvm/sample x ns per MVM above x activation bits / 8):");
            sb.AppendLine();
            foreach (SimulatorRow r in sim)
            {
                double estimate = r.MvmsPerSample * perMvm * r.ActivationBits / dac1.InputBits;
                sb.AppendLine(Inv, $"- {r.Arch} {r.WeightBits}/{r.ActivationBits}: {estimate * 1e6:F0} us of {r.OneThreadSecondsPerSample * 1e6:F0} us ({Pct(estimate, r.OneThreadSecondsPerSample)})");
            }
        }

        return sb.ToString();
    }

    private static string T(Timing t) => string.Create(Inv, $"{Fmt(t.Median)} ({Fmt(t.Min)})");

    private static string Fmt(double s) => s >= 10 ? s.ToString("F1", Inv) : s >= 0.1 ? s.ToString("F2", Inv) : s.ToString("F3", Inv);

    private static string Pct(double part, double whole) => (part / whole).ToString("P0", Inv);
}
