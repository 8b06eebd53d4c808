namespace Cimc.Bench;

/// <summary>Warm-ups and repetitions per case; --quick trades confidence for a run of about a minute.</summary>
public sealed record Settings(
    bool Quick,
    int CompileWarmups, int CompileRepetitions,
    int SimWarmups, int SimRepetitions,
    int MvmWarmups, int MvmRepetitions, int MvmBatch, int OneThreadSamples)
{
    public static Settings Full { get; } = new(false, 1, 5, 1, 5, 2, 7, 20_000, 1_000);

    public static Settings QuickRun { get; } = new(true, 1, 2, 1, 2, 1, 3, 5_000, 300);
}
