namespace Cimc.Simulation.Devices;

/// <summary>
/// Random numbers as a pure function of a key (seed, purpose, and the indices of what they
/// perturb), so that a run gives the same noise whatever the thread count or batch order:
/// SplitMix64's finalizer hashes the key words one after another (docs/nonidealities.md).
/// </summary>
public static class CounterRandom
{
    public const ulong CellStream = 1, ReadStream = 2;

    public static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public static ulong Hash(ulong seed, ulong stream, ulong a, ulong b, ulong c, ulong d, ulong e = 0, ulong f = 0)
    {
        ulong h = Mix(seed ^ Mix(stream));
        h = Mix(h ^ a);
        h = Mix(h ^ b);
        h = Mix(h ^ c);
        h = Mix(h ^ d);
        h = Mix(h ^ e);
        return Mix(h ^ f);
    }

    /// <summary>A uniform double in [0, 1) from the top 53 bits of a hash.</summary>
    public static double Uniform(ulong hash) => (hash >> 11) * (1.0 / (1UL << 53));

    /// <summary>A standard normal from one hash (Box-Muller over its two 32-bit halves' remixes).</summary>
    public static double Normal(ulong hash)
    {
        double u1 = (Mix(hash) >> 11) * (1.0 / (1UL << 53));
        double u2 = (Mix(hash ^ 0xD1B54A32D192ED03UL) >> 11) * (1.0 / (1UL << 53));
        return Math.Sqrt(-2.0 * Math.Log(1.0 - u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}
