using Cimc.Diagnostics;
using Cimc.Isa;
using Cimc.Simulation;

namespace Cimc.Tests.Simulation;

/// <summary>The vectorized row quantizer gives InputSpec.Quantize's codes, value for value.</summary>
public sealed class InputQuantizerTests
{
    public static TheoryData<double, long, long, long> Specs => new()
    {
        { 1.0 / 255, 0, 0, 255 },
        { 0.0173, -3, -128, 127 },
        { 0.5, 7, 0, 15 },
        { 1e-3, 0, long.MinValue, long.MaxValue }, // outside the vector path's range: the scalar path
        { 3e-20, 1L << 40, 0, (1L << 45) - 1 },
    };

    [Theory]
    [MemberData(nameof(Specs))]
    public void MatchesScalarQuantize(double scale, long zp, long qmin, long qmax)
    {
        var spec = new InputSpec(0, 0, 0, scale, zp, qmin, qmax);
        var random = new Random(5);
        var values = new List<float>
        {
            0f, -0f, 1f, -1f, float.PositiveInfinity, float.NegativeInfinity, float.MaxValue, float.MinValue, float.Epsilon,
            (float)(0.5 * scale), (float)(-0.5 * scale), (float)(2.5 * scale), (float)(-2.5 * scale), (float)(1e17 * scale),
        };
        for (int k = 0; k < 1000; k++)
        {
            values.Add((float)(((random.NextDouble() * 300) - 100) * scale));
            values.Add((float)((random.Next(-300, 300) + 0.5) * scale)); // near ties
            float any = BitConverter.Int32BitsToSingle(random.Next()) * (random.Next(2) == 0 ? 1 : -1);
            values.Add(float.IsNaN(any) ? 0f : any);
        }

        for (int length = 0; length < 9; length++)
        {
            AssertSame(spec, values.Take(length).ToArray());
        }

        AssertSame(spec, [.. values]);
    }

    [Fact]
    public void NaNIsReportedAsByTheScalarPath()
    {
        var spec = new InputSpec(0, 0, 0, 0.1, 0, 0, 255);
        float[] row = [1f, 2f, 3f, 4f, 5f, float.NaN, 7f, 8f];
        var codes = new long[row.Length];
        CimcException e = Assert.Throws<CimcException>(() => InputQuantizer.QuantizeRow(spec, row, codes));
        Assert.Equal("bad-input", e.Diagnostic.Code);
        Assert.Throws<CimcException>(() => spec.Quantize(float.NaN));
    }

    private static void AssertSame(InputSpec spec, float[] row)
    {
        var codes = new long[row.Length];
        InputQuantizer.QuantizeRow(spec, row, codes);
        for (int j = 0; j < row.Length; j++)
        {
            Assert.True(spec.Quantize(row[j]) == codes[j], $"x = {row[j]:R}: scalar {spec.Quantize(row[j])}, vector {codes[j]}");
        }
    }
}
