using Cimc.Data;
using Cimc.Isa;

namespace Cimc.Simulation;

/// <summary>
/// What the commands ask of a compiled program in the functional simulator, whether it holds the
/// whole network (<see cref="FunctionalSimulator"/>) or reloads weights between segments
/// (<see cref="SegmentedSimulator"/>).
/// </summary>
public interface IProgramRunner
{
    /// <summary>Where the host writes the network input and how it quantizes it.</summary>
    InputSpec Input { get; }

    /// <summary>Float inputs [N, input len] to float outputs [N, output len], on the batched path.</summary>
    NdArray Run(NdArray inputs);

    /// <summary>One sample on the reference interpreter: input codes in, output codes out.</summary>
    long[] RunCodes(ReadOnlySpan<long> inputCodes);

    /// <summary>n samples of input codes on the batched path, bit for bit what <see cref="RunCodes"/> gives each.</summary>
    long[] RunBatchCodes(ReadOnlySpan<long> codes, int n);
}

/// <summary>The simulator of a compile or a compiled folder, segmented or not.</summary>
public static class ProgramRunners
{
    public static IProgramRunner For(Compilation c, Devices.DeviceModel? device = null) =>
        c.IsSegmented
            ? new SegmentedSimulator(new SegmentedProgram([.. c.Segments.Select(s => s.Program!)]), [.. c.Segments.Select(s => s.Weights!)], device)
            : new FunctionalSimulator(c.Program!, c.Weights!, device);

    /// <summary>The network input of a compile's program (its first segment's).</summary>
    public static InputSpec Input(Compilation c) => (c.IsSegmented ? c.Segments[0].Program! : c.Program!).Input;

    public static IProgramRunner For(CompiledFolder folder, Devices.DeviceModel? device = null) =>
        folder.Segmented is { } segmented
            ? new SegmentedSimulator(segmented, folder.SegmentWeights, device)
            : new FunctionalSimulator(folder.Program, folder.Weights, device);
}
