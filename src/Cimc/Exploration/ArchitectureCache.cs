using System.Collections.Concurrent;
using Cimc.Architectures;

namespace Cimc.Exploration;

/// <summary>
/// The architectures of a study's points by architecture key paths with their
/// values (<see cref="PointSettings.Of"/>): reading one means writing the base as JSON, setting the
/// keys and validating the file (about a tenth of estimating an MLP-L4 point, profiled), while most points of a
/// space share their architecture with others that differ only in options. Thread-safe; an
/// architecture the keys make invalid is not kept (its point reads it again and fails again). At most
/// <see cref="Capacity"/> are kept, all read from one base architecture: past that, or for another base, the cache starts afresh.
/// </summary>
public sealed class ArchitectureCache
{
    public const int Capacity = 4096;

    private readonly Lock gate = new();
    private ConcurrentDictionary<string, Architecture> read = new();
    private Architecture? of; // the base architecture the kept ones were read from (compared by reference)

    public Architecture Get(Architecture baseArch, IReadOnlyList<(string Path, string Value)> keys, Func<Architecture, IReadOnlyList<(string Path, string Value)>, Architecture> reader)
    {
        ConcurrentDictionary<string, Architecture> kept;
        lock (gate)
        {
            if (!ReferenceEquals(of, baseArch) || read.Count >= Capacity)
            {
                (of, read) = (baseArch, new ConcurrentDictionary<string, Architecture>());
            }

            kept = read;
        }

        string key = string.Join("\n", keys.Select(k => $"{k.Path}={k.Value}"));
        if (kept.TryGetValue(key, out Architecture? arch))
        {
            return arch;
        }

        arch = reader(baseArch, keys);
        kept.TryAdd(key, arch);
        return arch;
    }
}
