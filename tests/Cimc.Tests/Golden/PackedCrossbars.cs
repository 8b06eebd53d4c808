using Cimc.Quantization;

namespace Cimc.Tests.Golden;

/// <summary>
/// Section 6's crossbar arithmetic for one layer on an ideal device, prepared once and then
/// evaluated for many input vectors (a convolution's every output pixel): the same conversions as
/// <see cref="GoldenModel.CrossbarSums"/> (per output, row block, polarity, weight slice, input
/// slice and row group, min(sum, 2^a - 1) after the ADC step), but each conversion's
/// sum_i digit_k(u[i]) * slice_j(w[o,i]) is computed from bit planes as
/// sum over cell bits b and digit bits e of 2^(b + e) * popcount(W_{j,b} AND U_{k,e}).
/// Tests check it equals <see cref="GoldenModel.CrossbarAccumulators"/>, saturation included; it
/// exists because that one costs ~64 multiply-adds per weight with ISAAC's slicing, too slow for
/// a thousand images of a convolutional network.
/// </summary>
public sealed class PackedCrossbars
{
    private readonly QuantizedLayer _layer;
    private readonly CrossbarParams _xbar;
    private readonly (int Sign, int Slices, int BaseShift)[] _polarities;
    private readonly (int First, int End)[] _groups;
    private readonly int _words, _maxSlices, _inputSlices;
    private readonly ulong[] _planes;
    private readonly long[] _beff;
    private readonly long _correctionFactor;

    /// <param name="positionRows">as <see cref="GoldenModel.CrossbarAccumulators"/>: a convolution's rows per kernel position when it is cut per position, else 0</param>
    public PackedCrossbars(QuantizedLayer layer, SignedWeightEncoding encoding, CrossbarParams xbar, int positionRows = 0)
    {
        xbar.Validate();
        _layer = layer;
        _xbar = xbar;
        int inF = layer.InFeatures, outF = layer.OutFeatures;
        long qw = Contract.Q(layer.WeightBits);

        // The stored arrays as in GoldenModel.CrossbarSums (section 7).
        var stored = new List<(int Sign, Func<long, long> Value, int Slices, int BaseShift)>();
        int lowBits = Contract.BitLen(qw);
        switch (encoding)
        {
            case SignedWeightEncoding.Differential:
                int slices = Contract.CeilDiv(lowBits, xbar.CellBits);
                stored.Add((+1, w => Math.Max(w, 0), slices, 0));
                stored.Add((-1, w => Math.Max(-w, 0), slices, 0));
                break;
            case SignedWeightEncoding.Offset:
                stored.Add((+1, w => w + qw, Contract.CeilDiv(Contract.BitLen(2 * qw), xbar.CellBits), 0));
                _correctionFactor = qw;
                break;
            default:
                long Pattern(long w) => w < 0 ? w + (1L << (lowBits + 1)) : w;
                stored.Add((+1, w => Pattern(w) & ((1L << lowBits) - 1), Contract.CeilDiv(lowBits, xbar.CellBits), 0));
                stored.Add((-1, w => Pattern(w) >> lowBits, 1, lowBits));
                break;
        }

        _polarities = [.. stored.Select(s => (s.Sign, s.Slices, s.BaseShift))];
        _maxSlices = stored.Max(s => s.Slices);
        _inputSlices = Contract.CeilDiv(Math.Max(1, Contract.BitLen(layer.Input.Max)), xbar.DacBits);

        // Row groups: each row block of R rows read RowsPerRead rows at a time.
        int rowsPerRead = layer.RowsPerRead > 0 && layer.RowsPerRead < xbar.Rows ? layer.RowsPerRead : xbar.Rows;
        var groups = new List<(int, int)>();
        foreach ((int first, int end) in GoldenModel.RowBlocks(inF, xbar.Rows, positionRows))
        {
            for (int g = first; g < end; g += rowsPerRead)
            {
                groups.Add((g, Math.Min(end, g + rowsPerRead)));
            }
        }

        _groups = [.. groups];
        _words = Contract.CeilDiv(rowsPerRead, 64);
        _planes = new ulong[(long)outF * _groups.Length * _polarities.Length * _maxSlices * xbar.CellBits * _words];
        for (int o = 0; o < outF; o++)
        {
            for (int p = 0; p < stored.Count; p++)
            {
                for (int i = 0; i < inF; i++)
                {
                    long w = layer.Weights[(o * inF) + i];
                    if (w < -qw || w > qw)
                    {
                        throw new InvalidOperationException($"layer '{layer.Name}' has weight {w} outside [-{qw}, {qw}]");
                    }

                    long v = stored[p].Value(w);
                    int g = GroupOf(i), bit = i - _groups[g].First;
                    for (int j = 0; j < stored[p].Slices; j++)
                    {
                        for (int b = 0; b < xbar.CellBits; b++)
                        {
                            if (((v >> ((xbar.CellBits * j) + b)) & 1) != 0)
                            {
                                _planes[PlaneIndex(o, g, p, j, b) + (bit >> 6)] |= 1UL << (bit & 63);
                            }
                        }
                    }
                }
            }
        }

        _beff = GoldenModel.EffectiveBias(layer);
    }

    private int GroupOf(int row)
    {
        int lo = 0, hi = _groups.Length - 1;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) / 2;
            if (_groups[mid].First <= row)
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return lo;
    }

    private long PlaneIndex(int o, int g, int p, int j, int b) =>
        (((((((long)o * _groups.Length) + g) * _polarities.Length) + p) * _maxSlices + j) * _xbar.CellBits + b) * _words;

    /// <summary>acc[o] for input codes <paramref name="u"/>, as <see cref="GoldenModel.CrossbarAccumulators"/> computes it.</summary>
    public long[] Accumulators(ReadOnlySpan<long> u)
    {
        QuantizedLayer layer = _layer;
        if (u.Length != layer.InFeatures)
        {
            throw new ArgumentException($"layer '{layer.Name}' takes {layer.InFeatures} codes, got {u.Length}");
        }

        int c = _xbar.CellBits, d = _xbar.DacBits, step = layer.AdcShift;
        long adcMax = (1L << _xbar.AdcBits) - 1;

        // Input planes per group, input slice k and digit bit e.
        var inputs = new ulong[_groups.Length * _inputSlices * d * _words];
        Int128 inputSum = 0;
        for (int i = 0; i < u.Length; i++)
        {
            if (u[i] < 0 || u[i] > layer.Input.Max)
            {
                throw new ArgumentOutOfRangeException(nameof(u), u[i], $"layer '{layer.Name}' takes codes in [0, {layer.Input.Max}]");
            }

            inputSum += u[i];
            int g = GroupOf(i), bit = i - _groups[g].First;
            for (int k = 0; k < _inputSlices; k++)
            {
                for (int e = 0; e < d; e++)
                {
                    if (((u[i] >> ((d * k) + e)) & 1) != 0)
                    {
                        inputs[((((g * _inputSlices) + k) * d) + e) * _words + (bit >> 6)] |= 1UL << (bit & 63);
                    }
                }
            }
        }

        var acc = new long[layer.OutFeatures];
        for (int o = 0; o < acc.Length; o++)
        {
            Int128 positive = 0, negative = 0;
            for (int g = 0; g < _groups.Length; g++)
            {
                for (int p = 0; p < _polarities.Length; p++)
                {
                    (int sign, int slices, int baseShift) = _polarities[p];
                    for (int j = 0; j < slices; j++)
                    {
                        for (int k = 0; k < _inputSlices; k++)
                        {
                            long sum = 0;
                            for (int b = 0; b < c; b++)
                            {
                                ReadOnlySpan<ulong> weights = _planes.AsSpan((int)PlaneIndex(o, g, p, j, b), _words);
                                for (int e = 0; e < d; e++)
                                {
                                    ReadOnlySpan<ulong> digits = inputs.AsSpan(((((g * _inputSlices) + k) * d) + e) * _words, _words);
                                    long count = 0;
                                    for (int w = 0; w < _words; w++)
                                    {
                                        count += System.Numerics.BitOperations.PopCount(weights[w] & digits[w]);
                                    }

                                    sum += count << (b + e);
                                }
                            }

                            long steps = Math.Min(step == 0 ? sum : (sum + (1L << (step - 1))) >> step, adcMax);
                            Int128 converted = (Int128)steps << (step + baseShift + (c * j) + (d * k));
                            if (sign > 0)
                            {
                                positive += converted;
                            }
                            else
                            {
                                negative += converted;
                            }
                        }
                    }
                }
            }

            acc[o] = checked((long)(positive - negative + _beff[o] - (_correctionFactor * inputSum)));
        }

        return acc;
    }
}
