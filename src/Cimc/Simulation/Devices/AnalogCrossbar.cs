using System.Numerics;
using System.Runtime.InteropServices;

namespace Cimc.Simulation.Devices;

/// <summary>
/// One programmed crossbar as the device realizes it: the conductance of every cell (in level
/// units) after finite conductance levels, stuck cells and programming variation, drawn once per
/// seed. Reads then sum conductance times input digit per column, add read noise, and convert.
/// </summary>
internal sealed class AnalogCrossbar
{
    private AnalogCrossbar(int rows, int cols, float[] g)
    {
        Rows = rows;
        Cols = cols;
        G = g;
    }

    public int Rows { get; }

    public int Cols { get; }

    /// <summary>Row-major [row][col] conductances.</summary>
    public float[] G { get; }

    public static AnalogCrossbar Program(ReadOnlySpan<byte> levels, int rows, int cols, int cellBits, DeviceModel device, int core, int crossbar)
    {
        int top = (1 << cellBits) - 1;
        var g = new float[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                double level = levels[(r * cols) + c];
                if (device.ConductanceLevels >= 2 && device.ConductanceLevels - 1 < top)
                {
                    // The device holds only N evenly spaced conductances between off and the top
                    // level: round(L (N-1) / T) * T / (N-1), in double, left to right (T is odd, so no ties).
                    int n1 = device.ConductanceLevels - 1;
                    level = Math.Round(level * n1 / top, MidpointRounding.AwayFromZero) * top / n1;
                }

                ulong key = CounterRandom.Hash(device.Seed, CounterRandom.CellStream, (ulong)core, (ulong)crossbar, (ulong)r, (ulong)c);
                double u = CounterRandom.Uniform(key);
                if (u < device.StuckLow)
                {
                    level = 0;
                }
                else if (u < device.StuckLow + device.StuckHigh)
                {
                    level = top;
                }
                else if (device.Variation > 0)
                {
                    double z = CounterRandom.Normal(key ^ 0xA5A5A5A5A5A5A5A5UL);
                    level = device.Model == VariationModel.Gaussian
                        ? Math.Max(0, level + (device.Variation * top * z))
                        : level * Math.Exp(device.Variation * z);
                }

                g[(r * cols) + c] = (float)level;
            }
        }

        return new AnalogCrossbar(rows, cols, g);
    }

    /// <summary>
    /// The mvm of docs/isa.md on this crossbar, with read noise: for each input slice and row group,
    /// p_o = sum_i digit_i * g_io (+ noise), code = clamp(floor(p_o / 2^ashift + 1/2), 0, 2^a - 1),
    /// acc_o = sum of code << (ashift + shift + d*k). Sums run row by row in float with one lane per
    /// column, so the order (and the result) is the same on every machine. <paramref name="occurrence"/>
    /// counts the earlier reads of this crossbar in the same sample (0 for cimc's code, which reads
    /// each crossbar once per inference).
    /// </summary>
    public void Accumulate(ReadOnlySpan<long> x, int ibits, int dacBits, int adcBits, int shift, int group, int ashift,
        Span<long> acc, DeviceModel device, ulong sample, int core, int crossbar, int occurrence, float[] sums, float[] squares)
    {
        int rows = x.Length, cols = acc.Length;
        acc.Clear();
        int slices = (ibits + dacBits - 1) / dacBits;
        int groupRows = group <= 0 || group >= rows ? Math.Max(rows, 1) : group;
        long digitMask = (1L << dacBits) - 1, codeMax = (1L << adcBits) - 1;
        double step = Math.ScaleB(1.0, ashift);
        for (int k = 0; k < slices; k++)
        {
            for (int first = 0, g = 0; first < rows; first += groupRows, g++)
            {
                Span<float> p = sums.AsSpan(0, cols), q = squares.AsSpan(0, cols);
                p.Clear();
                q.Clear();
                for (int i = first; i < Math.Min(rows, first + groupRows); i++)
                {
                    long digit = (x[i] >> (dacBits * k)) & digitMask;
                    if (digit != 0)
                    {
                        AddRow(G.AsSpan(i * Cols, cols), digit, p, q, device.ReadNoise > 0);
                    }
                }

                for (int o = 0; o < cols; o++)
                {
                    double sum = p[o];
                    if (device.ReadNoise > 0 && q[o] > 0)
                    {
                        ulong key = CounterRandom.Hash(device.Seed, CounterRandom.ReadStream, sample, (ulong)core, (ulong)crossbar, (ulong)occurrence, ((ulong)k << 32) | (uint)g, (ulong)o);
                        sum += device.ReadNoise * Math.Sqrt(q[o]) * CounterRandom.Normal(key);
                    }

                    long code = (long)Math.Clamp(Math.Floor((sum / step) + 0.5), 0, codeMax);
                    acc[o] += code << (ashift + shift + (dacBits * k));
                }
            }
        }
    }

    /// <summary>p += digit * g; q += (digit * g)^2 when read noise needs it.</summary>
    private static void AddRow(ReadOnlySpan<float> g, long digit, Span<float> p, Span<float> q, bool squares)
    {
        float d = digit;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vd = new Vector<float>(d);
            Span<Vector<float>> vp = MemoryMarshal.Cast<float, Vector<float>>(p);
            Span<Vector<float>> vq = MemoryMarshal.Cast<float, Vector<float>>(q);
            ReadOnlySpan<Vector<float>> vg = MemoryMarshal.Cast<float, Vector<float>>(g);
            for (int v = 0; v < vp.Length; v++)
            {
                Vector<float> t = vg[v] * vd;
                vp[v] += t;
                if (squares)
                {
                    vq[v] += t * t;
                }
            }

            i = vp.Length * Vector<float>.Count;
        }

        for (; i < p.Length; i++)
        {
            float t = g[i] * d;
            p[i] += t;
            if (squares)
            {
                q[i] += t * t;
            }
        }
    }
}
