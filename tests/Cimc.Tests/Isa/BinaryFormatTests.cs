using System.Buffers.Binary;
using System.Diagnostics;
using Cimc.Diagnostics;
using Cimc.Isa;
using CsCheck;

namespace Cimc.Tests.Isa;

public sealed class BinaryFormatTests
{
    private static byte[] ValidProgram() => IsaSamples.RandomProgram(new Random(42)).ToBytes();

    private static byte[] ValidWeights() =>
        new WeightImage(3, 5, 2, [KeyValuePair.Create(new CrossbarId(1, 0), Enumerable.Range(0, 15).Select(i => (byte)(i % 4)).ToArray()),
            KeyValuePair.Create(new CrossbarId(0, 1), new byte[15])]).ToBytes();

    [Fact]
    public void Program_bin_starts_with_its_magic_and_version()
    {
        byte[] bytes = ValidProgram();
        Assert.Equal("CIMCPRG1"u8.ToArray(), bytes[..8]);
        Assert.Equal(3, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(8)));
    }

    [Fact]
    public void Every_truncation_of_program_bin_is_refused_with_a_cimc_exception()
    {
        byte[] bytes = ValidProgram();
        for (int n = 0; n < bytes.Length; n++)
        {
            Assert.Throws<CimcException>(() => ProgramImage.FromBytes(bytes.AsSpan(0, n)));
        }

        Assert.Throws<CimcException>(() => ProgramImage.FromBytes([.. bytes, 0]));
    }

    [Fact]
    public void Corrupting_any_byte_of_program_bin_gives_a_valid_program_or_a_cimc_exception()
    {
        byte[] bytes = ValidProgram();
        for (int i = 0; i < bytes.Length; i++)
        {
            foreach (byte flip in new byte[] { 0xFF, 0x80, 0x01 })
            {
                byte[] corrupt = (byte[])bytes.Clone();
                corrupt[i] ^= flip;
                try
                {
                    ProgramImage.FromBytes(corrupt).Validate();
                }
                catch (CimcException)
                {
                }
            }
        }
    }

    [Fact]
    public void Random_bytes_are_refused_as_program_or_weights()
    {
        Gen.Byte.Array[0, 300].Sample(bytes =>
        {
            Assert.Throws<CimcException>(() => ProgramImage.FromBytes(bytes));
            Assert.Throws<CimcException>(() => WeightImage.FromBytes(bytes));
            // The right magic and version followed by noise.
            Assert.Throws<CimcException>(() => ProgramImage.FromBytes([.. "CIMCPRG1"u8, 1, 0, 0, 0, .. bytes]));
            try
            {
                WeightImage.FromBytes([.. "CIMCWGT1"u8, 1, 0, 0, 0, .. bytes]);
            }
            catch (CimcException)
            {
            }
        }, iter: 2000);
    }

    [Fact]
    public void Huge_counts_are_refused_before_anything_is_allocated()
    {
        byte[] program = Assembler.Assemble(IsaSamples.OneCoreHeader + "\n.core 0\nhalt\n").ToBytes();
        // Layout: magic 8, version 4, arch 40, input 12+32, output 12+4*(8+8), core count.
        int coreCountAt = 8 + 4 + 40 + 44 + 12 + (4 * 16);
        Assert.Equal(1, BinaryPrimitives.ReadInt32LittleEndian(program.AsSpan(coreCountAt)));
        int outputLenAt = 8 + 4 + 40 + 44 + 8;
        int instructionCountAt = coreCountAt + 8;
        var watch = Stopwatch.StartNew();
        foreach (int at in new[] { coreCountAt, outputLenAt, instructionCountAt })
        {
            foreach (int huge in new[] { int.MaxValue, -1, 1 << 28 })
            {
                byte[] corrupt = (byte[])program.Clone();
                BinaryPrimitives.WriteInt32LittleEndian(corrupt.AsSpan(at), huge);
                Assert.Throws<CimcException>(() => ProgramImage.FromBytes(corrupt));
            }
        }

        byte[] weights = ValidWeights();
        foreach (int at in new[] { 12, 16, 20, 24 })
        {
            byte[] corrupt = (byte[])weights.Clone();
            BinaryPrimitives.WriteInt32LittleEndian(corrupt.AsSpan(at), int.MaxValue);
            Assert.Throws<CimcException>(() => WeightImage.FromBytes(corrupt));
        }

        Assert.True(watch.ElapsedMilliseconds < 2000);
    }

    [Fact]
    public void Weights_bin_round_trips_and_validates_levels()
    {
        byte[] bytes = ValidWeights();
        Assert.Equal("CIMCWGT1"u8.ToArray(), bytes[..8]);
        WeightImage image = WeightImage.FromBytes(bytes);
        Assert.Equal(bytes, image.ToBytes());
        Assert.Equal(3, image.Level(new CrossbarId(1, 0), 0, 3));
        Assert.Equal([new CrossbarId(0, 1), new CrossbarId(1, 0)], image.Crossbars.Keys);

        byte[] tooBig = (byte[])bytes.Clone();
        tooBig[^1] = 4; // 2-bit cells hold 0..3
        Assert.Contains("does not fit in 2 cell bits", Assert.Throws<CimcException>(() => WeightImage.FromBytes(tooBig)).Message);
        for (int n = 0; n < bytes.Length; n++)
        {
            Assert.Throws<CimcException>(() => WeightImage.FromBytes(bytes.AsSpan(0, n)));
        }

        Assert.Throws<CimcException>(() => new WeightImage(2, 2, 1, [KeyValuePair.Create(new CrossbarId(0, 0), new byte[3])]));
    }

    [Fact]
    public void Program_files_are_checked_when_loaded_from_disk()
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, "CIMCPRG1"u8.ToArray());
            var e = Assert.Throws<CimcException>(() => ProgramImage.Load(path));
            Assert.StartsWith(path + ": truncated", e.Message);
            Assert.Single(e.Message.Split('\n'));
            Assert.Throws<CimcException>(() => WeightImage.Load(path + ".missing"));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
