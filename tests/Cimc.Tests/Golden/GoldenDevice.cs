namespace Cimc.Tests.Golden;

/// <summary>A block of crossbar cells as docs/quantization.md section 7 names it.</summary>
public readonly record struct BlockName(int Layer, int RowBlock, int ColBlock, int Polarity, int Slice);

/// <summary>Where a block lives: the global core index and the crossbar within the core.</summary>
public readonly record struct BlockSite(int Core, int Crossbar);

/// <summary>The device of docs/nonidealities.md, as numbers (the golden model's own type, not the library's).</summary>
public sealed record DeviceParams(
    double Variation,
    bool LogNormal,
    double StuckLow,
    double StuckHigh,
    double ReadNoise,
    int ConductanceLevels,
    ulong Seed);

/// <summary>
/// The keyed draws of docs/nonidealities.md ("Reproducibility"), written again from the document:
/// SplitMix64's finalizer over the key words, uniforms from the top 53 bits, Box-Muller normals.
/// </summary>
public static class KeyedDraws
{
    public const ulong Cells = 1, Reads = 2;

    public static ulong Mix(ulong z)
    {
        unchecked
        {
            z += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }

    /// <summary>h = mix(seed ^ mix(stream)), then h = mix(h ^ w) for each word.</summary>
    public static ulong Key(ulong seed, ulong stream, params ReadOnlySpan<ulong> words)
    {
        ulong h = Mix(seed ^ Mix(stream));
        foreach (ulong w in words)
        {
            h = Mix(h ^ w);
        }

        return h;
    }

    /// <summary>The top 53 bits of a hash over 2^53.</summary>
    public static double Uniform(ulong h) => Math.ScaleB((double)(h >> 11), -53);

    /// <summary>z = sqrt(-2 ln(1 - u1)) cos(2 pi u2) with u1, u2 from mix(h) and mix(h ^ 0xD1B54A32D192ED03).</summary>
    public static double Normal(ulong h)
    {
        double u1 = Uniform(Mix(h)), u2 = Uniform(Mix(h ^ 0xD1B54A32D192ED03UL));
        return Math.Sqrt(-2.0 * Math.Log(1.0 - u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}

/// <summary>
/// A chip with a non-ideal device for the golden model: the device, and the placement of every
/// crossbar block (an input, like the quantized integers: docs/nonidealities.md). Realized
/// conductances are computed once per crossbar from the golden model's own cell levels. A layer may
/// have several copies (replicas) on different crossbars; the golden model knows only the rule of
/// docs/isa.md ("Replicated programs"): replica r of a layer with k copies serves the samples n
/// with n mod k = r.
/// </summary>
public sealed class GoldenChip
{
    private readonly Dictionary<(BlockName Name, int Replica), BlockSite> _placement = [];
    private readonly Dictionary<BlockSite, float[]> _realized = [];
    private readonly IReadOnlyList<int> _replicas;

    public GoldenChip(DeviceParams device, IEnumerable<KeyValuePair<BlockName, BlockSite>> placement)
        : this(device, placement.Select(p => (p.Key, 0, p.Value)), [])
    {
    }

    /// <param name="placement">every copy of every block: its name, its replica index and its site</param>
    /// <param name="replicas">copies per layer (a layer not listed has one)</param>
    public GoldenChip(DeviceParams device, IEnumerable<(BlockName Name, int Replica, BlockSite Site)> placement, IReadOnlyList<int> replicas)
    {
        Device = device;
        _replicas = replicas;
        var sites = new HashSet<BlockSite>();
        foreach ((BlockName name, int replica, BlockSite site) in placement)
        {
            if (!_placement.TryAdd((name, replica), site) || !sites.Add(site))
            {
                throw new ArgumentException($"the placement names {name} replica {replica} or uses {site} twice", nameof(placement));
            }
        }
    }

    public DeviceParams Device { get; }

    /// <summary>The core and crossbar of the copy of a block that serves <paramref name="sample"/>; a block the placement lacks is an error.</summary>
    public BlockSite SiteOf(BlockName name, long sample)
    {
        int copies = name.Layer < _replicas.Count ? _replicas[name.Layer] : 1;
        int replica = (int)(sample % copies);
        return _placement.TryGetValue((name, replica), out BlockSite site) ? site : throw new InvalidOperationException($"the placement has no crossbar for {name} replica {replica}");
    }

    /// <summary>
    /// The float32 conductances of a block's used cells, row-major [rows][cols], realized in the
    /// document's order: finite levels, stuck cells, variation. level(r, c) is the ideal cell level.
    /// </summary>
    public float[] Conductances(BlockSite site, int rows, int cols, int cellBits, Func<int, int, long> level)
    {
        if (_realized.TryGetValue(site, out float[]? g))
        {
            return g;
        }

        DeviceParams d = Device;
        int top = (1 << cellBits) - 1;
        g = new float[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                double l = level(r, c);
                if (d.ConductanceLevels >= 2 && d.ConductanceLevels < top + 1)
                {
                    int n = d.ConductanceLevels;
                    l = Contract.Round(l * (n - 1) / top) * top / (n - 1);
                }

                ulong h = KeyedDraws.Key(d.Seed, KeyedDraws.Cells, (ulong)site.Core, (ulong)site.Crossbar, (ulong)r, (ulong)c, 0, 0);
                double u = KeyedDraws.Uniform(h);
                double stuckBoth = d.StuckLow + d.StuckHigh;
                if (u < d.StuckLow)
                {
                    l = 0;
                }
                else if (u < stuckBoth)
                {
                    l = top;
                }
                else if (d.Variation > 0)
                {
                    double z = KeyedDraws.Normal(h ^ 0xA5A5A5A5A5A5A5A5UL);
                    if (d.LogNormal)
                    {
                        l *= Math.Exp(d.Variation * z);
                    }
                    else
                    {
                        double spread = d.Variation * top;
                        l = Math.Max(0, l + (spread * z));
                    }
                }

                g[(r * cols) + c] = (float)l;
            }
        }

        _realized[site] = g;
        return g;
    }

    /// <summary>
    /// One conversion of docs/nonidealities.md: column <paramref name="column"/>'s float32 sum over the
    /// group's rows (ascending, digit 0 skipped), read noise keyed by (sample, core, crossbar, 0,
    /// k &lt;&lt; 32 | group, column), and the ADC: clamp(floor(p / 2^s + 1/2), 0, 2^a - 1).
    /// </summary>
    /// <param name="conductances">The block's conductances, row-major with <paramref name="blockCols"/> columns.</param>
    /// <param name="firstRow">The block row of the group's first row, whose digit is digits[0].</param>
    public long Convert(BlockSite site, long sample, int k, int group, int column, float[] conductances, int blockCols, int firstRow,
        ReadOnlySpan<long> digits, int adcShift, int adcBits)
    {
        float p = 0, q = 0;
        for (int i = 0; i < digits.Length; i++)
        {
            if (digits[i] == 0)
            {
                continue;
            }

            float t = conductances[((firstRow + i) * blockCols) + column] * (float)digits[i];
            p += t;
            q += t * t;
        }

        double sum = p;
        if (Device.ReadNoise > 0 && q > 0)
        {
            // cimc's code reads every crossbar once per inference: the occurrence word is 0.
            ulong h = KeyedDraws.Key(Device.Seed, KeyedDraws.Reads, (ulong)sample, (ulong)site.Core, (ulong)site.Crossbar, 0,
                ((ulong)k << 32) | (uint)group, (ulong)column);
            sum += Device.ReadNoise * Math.Sqrt(q) * KeyedDraws.Normal(h);
        }

        double steps = Math.Floor((sum / Math.ScaleB(1.0, adcShift)) + 0.5);
        double max = (1L << adcBits) - 1;
        return (long)(steps < 0 ? 0 : steps > max ? max : steps);
    }
}
