using Cimc.Data;
using Cimc.Ir;
using Cimc.Quantization;
using CsCheck;

namespace Cimc.Tests.Golden;

/// <summary>A small random float MLP, its calibration samples and how to quantize and map it.</summary>
public sealed record ModelCase(
    int Seed,
    int[] Sizes,
    ActivationKind[] Activations,
    bool Softmax,
    bool SignedInput,
    int WeightBits,
    int ActivationBits,
    Granularity Granularity,
    int Rows,
    int CellBits,
    int DacBits)
{
    public override string ToString() =>
        $"seed {Seed}, sizes [{string.Join(",", Sizes)}], activations [{string.Join(",", Activations)}], softmax {Softmax}, signed input {SignedInput}, " +
        $"w{WeightBits} a{ActivationBits} {Granularity}, R {Rows} c {CellBits} d {DacBits}";

    public Graph Graph => RandomModels.BuildGraph(this);

    public NdArray Calibration => RandomModels.Samples(Seed + 1, 8, Sizes[0], SignedInput);

    public QuantizedModel Quantize(SignedWeightEncoding encoding) =>
        Quantizer.Quantize(LayerChain.FromGraph(Graph), Calibration, new QuantizationOptions(WeightBits, ActivationBits, Granularity, encoding));

    public CrossbarParams NonSaturating => new(Rows, 4, CellBits, DacBits, CrossbarParams.NonSaturatingAdcBits(Rows, CellBits, DacBits));
}

public static class RandomModels
{
    private static readonly ActivationKind[] Kinds =
        [ActivationKind.None, ActivationKind.Relu, ActivationKind.LeakyRelu, ActivationKind.Sigmoid, ActivationKind.Tanh];

    /// <summary>Random cases with weight and activation bits in the given ranges.</summary>
    public static Gen<ModelCase> Cases(int minBits, int maxBits) =>
        from seed in Gen.Int[0, 1_000_000]
        from depth in Gen.Int[1, 3]
        from sizes in Gen.Int[1, 12].Array[depth + 1]
        from kinds in Gen.Int[0, Kinds.Length - 1].Array[depth]
        from softmax in Gen.Bool
        from signedInput in Gen.Bool
        from wb in Gen.Int[minBits, maxBits]
        from ab in Gen.Int[minBits, maxBits]
        from perChannel in Gen.Bool
        from rows in Gen.Int[1, 10]
        from c in Gen.Int[1, 4]
        from d in Gen.Int[1, 4]
        select new ModelCase(seed, sizes, [.. kinds.Select(k => Kinds[k])], softmax, signedInput, wb, ab,
            perChannel ? Granularity.PerChannel : Granularity.PerTensor, rows, c, d);

    public static Graph BuildGraph(ModelCase c)
    {
        var rng = new Random(c.Seed);
        var b = new GraphBuilder("random", TensorType.Float(-1, c.Sizes[0]));
        for (int l = 0; l < c.Activations.Length; l++)
        {
            int inF = c.Sizes[l], outF = c.Sizes[l + 1];
            float gain = (float)(0.25 + (2 * rng.NextDouble()));
            float[] w = [.. Enumerable.Range(0, inF * outF).Select(_ => gain * (float)((2 * rng.NextDouble()) - 1))];
            if (rng.Next(4) == 0)
            {
                Array.Clear(w, 0, inF); // a zero row: its scale falls back to 1
            }

            FloatTensor? bias = rng.Next(3) == 0 ? null : FloatTensor.Vector([.. Enumerable.Range(0, outF).Select(_ => (float)((rng.NextDouble()) - 0.5))]);
            b.Add($"fc{l}", new Dense(FloatTensor.Matrix(outF, inF, w), bias));
            Op? act = c.Activations[l] switch
            {
                ActivationKind.Relu => new Relu(),
                ActivationKind.LeakyRelu => new LeakyRelu((float)(0.01 + (0.3 * rng.NextDouble()))),
                ActivationKind.Sigmoid => new Sigmoid(),
                ActivationKind.Tanh => new Tanh(),
                _ => null,
            };
            if (act is not null)
            {
                b.Add($"act{l}", act);
            }
        }

        if (c.Softmax)
        {
            b.Add("softmax", new Softmax(1));
        }

        return b.Build();
    }

    public static NdArray Samples(int seed, int rows, int features, bool signed)
    {
        var rng = new Random(seed);
        float[] x = [.. Enumerable.Range(0, rows * features).Select(_ => (float)(signed ? (2 * rng.NextDouble()) - 1 : rng.NextDouble()))];
        return new NdArray([rows, features], x);
    }
}
