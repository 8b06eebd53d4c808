namespace Cimc.Tests.Fuzz;

/// <summary>
/// Format-blind mutations of a file's bytes, each driven by a seeded <see cref="Random"/> so that a
/// failing case is reproduced by its seed. Each returns a new array and a short description.
/// </summary>
internal static class ByteMutations
{
    /// <summary>Values that sit on the edges of the integer fields that binary formats declare.</summary>
    private static readonly ulong[] Interesting =
    [
        0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
        0x7FFFFFFFFFFFFFFF, 0x8000000000000000, 0xFFFFFFFFFFFFFFFF, 0x10000000, 0x40000000,
    ];

    public static (byte[] Bytes, string What) Any(Random rng, byte[] seed) => rng.Next(6) switch
    {
        0 => FlipBits(rng, seed),
        1 => Truncate(rng, seed),
        2 => Insert(rng, seed),
        3 => Delete(rng, seed),
        4 => Overwrite(rng, seed),
        _ => CopyChunk(rng, seed),
    };

    public static (byte[], string) FlipBits(Random rng, byte[] seed)
    {
        byte[] b = [.. seed];
        int flips = 1 + rng.Next(8);
        for (int i = 0; i < flips && b.Length > 0; i++)
        {
            b[rng.Next(b.Length)] ^= (byte)(1 << rng.Next(8));
        }

        return (b, $"flip {flips} bits");
    }

    public static (byte[], string) Truncate(Random rng, byte[] seed)
    {
        int keep = rng.Next(seed.Length);
        return (seed[..keep], $"truncate to {keep} bytes");
    }

    public static (byte[], string) Insert(Random rng, byte[] seed)
    {
        int at = rng.Next(seed.Length + 1);
        var extra = new byte[1 + rng.Next(16)];
        rng.NextBytes(extra);
        return ([.. seed[..at], .. extra, .. seed[at..]], $"insert {extra.Length} bytes at {at}");
    }

    public static (byte[], string) Delete(Random rng, byte[] seed)
    {
        int at = rng.Next(seed.Length);
        int count = Math.Min(1 + rng.Next(16), seed.Length - at);
        return ([.. seed[..at], .. seed[(at + count)..]], $"delete {count} bytes at {at}");
    }

    public static (byte[], string) Overwrite(Random rng, byte[] seed)
    {
        int width = 1 << rng.Next(4);
        if (seed.Length < width)
        {
            return FlipBits(rng, seed);
        }

        int at = rng.Next(seed.Length - width + 1);
        ulong value = Interesting[rng.Next(Interesting.Length)];
        byte[] b = [.. seed];
        WriteLittleEndian(b, at, width, value);
        return (b, $"write 0x{value:X} over {width} bytes at {at}");
    }

    public static (byte[], string) CopyChunk(Random rng, byte[] seed)
    {
        int count = 1 + rng.Next(Math.Max(1, Math.Min(64, seed.Length / 2)));
        if (seed.Length <= count)
        {
            return FlipBits(rng, seed);
        }

        int from = rng.Next(seed.Length - count), to = rng.Next(seed.Length - count);
        byte[] b = [.. seed];
        Array.Copy(seed, from, b, to, count);
        return (b, $"copy {count} bytes from {from} to {to}");
    }

    /// <summary>An edge value for a field whose current value is <paramref name="current"/>.</summary>
    public static ulong EdgeValue(Random rng, ulong current) => rng.Next(4) switch
    {
        0 => current + 1,
        1 => current - 1,
        2 => current * 2,
        _ => Interesting[rng.Next(Interesting.Length)],
    };

    public static void WriteLittleEndian(byte[] b, int at, int width, ulong value)
    {
        for (int i = 0; i < width; i++)
        {
            b[at + i] = (byte)(value >> (8 * i));
        }
    }

    public static ulong ReadLittleEndian(byte[] b, int at, int width)
    {
        ulong v = 0;
        for (int i = 0; i < width; i++)
        {
            v |= (ulong)b[at + i] << (8 * i);
        }

        return v;
    }
}
