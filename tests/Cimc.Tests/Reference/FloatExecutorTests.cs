using Cimc.Data;
using Cimc.Ir;
using Cimc.Reference;

namespace Cimc.Tests.Reference;

public sealed class FloatExecutorTests
{
    [Fact]
    public void A_dense_layer_computes_x_times_w_transposed_plus_b()
    {
        var b = new GraphBuilder("g", TensorType.Float(-1, 3));
        b.Add("fc", new Dense(FloatTensor.Matrix(2, 3, [1, 2, 3, -1, 0, 1]), FloatTensor.Vector([0.5f, -0.5f])));
        NdArray y = FloatExecutor.Run(b.Build(), new NdArray([2, 3], [1, 1, 1, 2, 0, -1]));
        Assert.Equal([6.5f, -0.5f, -0.5f, -3.5f], y.Data);
    }

    [Fact]
    public void Dense_matches_a_naive_double_precision_product_on_wide_random_layers()
    {
        var rng = new Random(7);
        int inF = 301, outF = 37, rows = 70;
        float[] w = [.. Enumerable.Range(0, inF * outF).Select(_ => (float)(rng.NextDouble() - 0.5))];
        float[] x = [.. Enumerable.Range(0, inF * rows).Select(_ => (float)rng.NextDouble())];
        var b = new GraphBuilder("g", TensorType.Float(-1, inF));
        b.Add("fc", new Dense(FloatTensor.Matrix(outF, inF, w), null));
        NdArray y = FloatExecutor.Run(b.Build(), new NdArray([rows, inF], x));
        for (int r = 0; r < rows; r++)
        {
            for (int o = 0; o < outF; o++)
            {
                double expected = 0;
                for (int i = 0; i < inF; i++)
                {
                    expected += (double)x[(r * inF) + i] * w[(o * inF) + i];
                }

                Assert.Equal(expected, y.Data[(r * outF) + o], 1e-4);
            }
        }
    }

    [Fact]
    public void Activations_match_their_definitions()
    {
        float[] x = [-2f, -0.5f, 0f, 0.5f, 3f];
        NdArray Run(Op op)
        {
            var b = new GraphBuilder("g", TensorType.Float(-1, 5));
            b.Add("a", op);
            return FloatExecutor.Run(b.Build(), new NdArray([1, 5], x));
        }

        Assert.Equal([0f, 0f, 0f, 0.5f, 3f], Run(new Relu()).Data);
        Assert.Equal([-0.2f, -0.05f, 0f, 0.5f, 3f], Run(new LeakyRelu(0.1f)).Data);
        Assert.Equal(x.Select(v => 1 / (1 + MathF.Exp(-v))), Run(new Sigmoid()).Data, (a, b) => Math.Abs(a - b) < 1e-6);
        Assert.Equal(x.Select(MathF.Tanh), Run(new Tanh()).Data, (a, b) => Math.Abs(a - b) < 1e-6);
        float[] softmax = Run(new Softmax(1)).Data;
        Assert.Equal(1.0, softmax.Sum(), 1e-6);
        Assert.Equal(MathF.Exp(3f) / x.Sum(MathF.Exp), softmax[4], 1e-6);
    }

    [Fact]
    public void Images_with_the_same_size_per_sample_are_reshaped_to_the_declared_input()
    {
        var b = new GraphBuilder("g", TensorType.Float(-1, 4));
        b.Add("a", new Relu());
        NdArray y = FloatExecutor.Run(b.Build(), new NdArray([2, 2, 2], [1, -1, 2, -2, 3, -3, 4, -4]));
        Assert.Equal(new[] { 2, 4 }, y.Shape.ToArray());
    }

    [Fact]
    public void Inputs_of_the_wrong_size_are_refused_with_a_diagnostic()
    {
        var b = new GraphBuilder("g", TensorType.Float(-1, 4));
        b.Add("a", new Relu());
        Assert.Throws<Cimc.Diagnostics.CimcException>(() => FloatExecutor.Run(b.Build(), new NdArray([2, 3], new float[6])));
    }
}
