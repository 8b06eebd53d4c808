using Cimc.Codegen;
using Cimc.Data;
using Cimc.Isa;
using Cimc.Placement;
using Cimc.Quantization;
using Cimc.Simulation;
using Cimc.Tests.Golden;
using CsCheck;

namespace Cimc.Tests.Compile;

/// <summary>
/// A network whose input is an image of several channels: the host is given float samples NCHW
/// (as model and data files hold them) and the chip reads maps HWC. The program records the image
/// (program.bin version 7) and every host quantizes through it, so float samples run from the
/// files equal the golden model of graphs, which quantizes NCHW samples into HWC codes itself.
/// </summary>
public sealed class ImageInputTests
{
    private static readonly Gen<GraphCase> ImageCases =
        RandomGraphs.Cases().Where(c => c.Model.Graph!.InputShape is { Channels: > 1, Pixels: > 1 });

    /// <summary>A fixed case whose input is (or is not) an image of several channels, for the format tests.</summary>
    private static GraphCase FirstImageCase(bool channels = true) =>
        Enumerable.Range(0, 100).Select(seed => new GraphCase(seed, 8, 8, Granularity.PerChannel, SignedWeightEncoding.Differential, 16, 8, 2, 1))
            .First(c => c.Model.Graph!.InputShape.Channels > 1 == channels);

    /// <summary>Random floats spread over (and a little past) the real range the input codes stand for.</summary>
    private static NdArray Images(ActivationQuant q, MapShape shape, int n, int seed)
    {
        var rng = new Random(seed);
        double lo = (0 - q.ZeroPoint) * q.Scale, hi = (q.Max - q.ZeroPoint) * q.Scale, width = hi - lo;
        float[] data = [.. Enumerable.Range(0, n * shape.Size).Select(_ => (float)(lo - (0.1 * width) + (rng.NextDouble() * 1.2 * width)))];
        return new NdArray([n, shape.Channels, shape.Height, shape.Width], data);
    }

    [Fact]
    public void Float_images_of_several_channels_run_equal_to_the_golden_model_in_both_simulators()
    {
        Gen.Select(ImageCases, Gen.Bool).Sample(t =>
        {
            (GraphCase c, bool tree) = t;
            QuantizedModel model = c.Model;
            MapShape shape = model.Graph!.InputShape;
            (ProgramImage program, WeightImage weights) = GraphBitExactnessTests.Compile(model, GraphBitExactnessTests.ChipFor(c), new Lowering(false, tree));
            Assert.Equal(new InputImage(shape.Channels, shape.Height, shape.Width), program.Input.Image);

            var sim = new FunctionalSimulator(program, weights);
            const int n = 3;
            NdArray x = Images(GoldenGraph.InputQuant(model), shape, n, c.Seed);
            long[][] golden = new long[n][];
            for (int s = 0; s < n; s++)
            {
                long[] codes = GoldenGraph.QuantizeInput(model, x.Row(s));
                Assert.Equal(codes, sim.Quantize(x.Row(s)));
                golden[s] = GoldenGraph.RunCodes(model, c.NonSaturating, codes);
                Assert.Equal(golden[s], sim.RunCodes(sim.Quantize(x.Row(s))));
            }

            // The batched path from the floats (the host's quantization, the batched machine, dequantization).
            float[] expected = [.. golden.SelectMany(g => sim.Dequantize(g))];
            Assert.Equal(expected, sim.Run(x).Data);
            // Rows given flat (N x C*H*W, still NCHW) are the same samples.
            Assert.Equal(expected, sim.Run(x.Reshape(n, shape.Size)).Data);
        }, iter: 25, threads: 1);
    }

    [Fact]
    public void The_image_survives_program_bin_and_the_assembly_text_and_a_program_without_one_keeps_its_version()
    {
        GraphCase c = FirstImageCase();
        QuantizedModel model = c.Model;
        (ProgramImage program, _) = GraphBitExactnessTests.Compile(model, GraphBitExactnessTests.ChipFor(c), new Lowering(false, true));
        byte[] bytes = program.ToBytes();
        Assert.Equal(ProgramImage.ImageVersion, BitConverter.ToInt32(bytes, 8));
        Assert.Equal(program, ProgramImage.FromBytes(bytes));
        string text = Disassembler.Disassemble(program);
        Assert.Contains($".input_image channels={program.Input.Image!.Channels} height={program.Input.Image.Height} width={program.Input.Image.Width}", text);
        Assert.Equal(program, Assembler.Assemble(text, "t.s"));

        // One channel: host and chip orders agree, so nothing is recorded and the file keeps version 3.
        GraphCase gray = FirstImageCase(channels: false);
        (ProgramImage plain, _) = GraphBitExactnessTests.Compile(gray.Model, GraphBitExactnessTests.ChipFor(gray), new Lowering(false, true));
        Assert.Null(plain.Input.Image);
        Assert.Equal(ProgramImage.Version, BitConverter.ToInt32(plain.ToBytes(), 8));
        Assert.DoesNotContain(".input_image", Disassembler.Disassemble(plain));
    }

    [Theory]
    [InlineData(new[] { 2, 32, 32, 3 }, "the program takes 3x32x32 images (N x C x H x W, channels first), the inputs have shape [2, 32, 32, 3]")]
    [InlineData(new[] { 2, 3, 32 }, "the program takes 3x32x32 images (N x C x H x W, channels first), the inputs have shape [2, 3, 32]")]
    [InlineData(new[] { 2, 3000 }, "the program takes 3x32x32 images (N x C x H x W, channels first), the inputs have shape [2, 3000]")]
    public void Inputs_that_are_not_the_image_in_channels_first_order_are_refused_in_one_line(int[] shape, string message)
    {
        var spec = new InputSpec(0, 0, 3 * 32 * 32, 1.0, 0, 0, 255) { Image = new InputImage(3, 32, 32) };
        var x = new NdArray([.. shape], new float[shape.Aggregate(1, (a, b) => a * b)]);
        var e = Assert.Throws<Diagnostics.CimcException>(() => InputQuantizer.CheckShape(spec, x));
        Assert.Equal(message, e.Diagnostic.Message);
    }

    [Fact]
    public void A_program_whose_image_does_not_hold_its_input_is_refused_in_one_line()
    {
        GraphCase c = FirstImageCase();
        (ProgramImage program, _) = GraphBitExactnessTests.Compile(c.Model, GraphBitExactnessTests.ChipFor(c), new Lowering(false, true));
        InputImage image = program.Input.Image!;
        byte[] bytes = program.ToBytes();
        // The image's width is the last field before the core count.
        int at = IndexOf(bytes, [.. BitConverter.GetBytes(image.Channels), .. BitConverter.GetBytes(image.Height), .. BitConverter.GetBytes(image.Width)]);
        BitConverter.GetBytes(image.Width + 1).CopyTo(bytes, at + 8);
        var e = Assert.Throws<Diagnostics.CimcException>(() => ProgramImage.FromBytes(bytes));
        Assert.Equal($"input image {image.Channels}x{image.Height}x{image.Width + 1} does not hold the input's {program.Input.Len} values", e.Diagnostic.Message);
    }

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Length; i++)
        {
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle))
            {
                return i;
            }
        }

        throw new InvalidOperationException("not found");
    }
}
