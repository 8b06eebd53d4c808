using System.Collections.Immutable;
using Cimc.Isa;

namespace Cimc.Tests.Isa;

/// <summary>Small programs and random instructions shared by the ISA and simulator tests.</summary>
internal static class IsaSamples
{
    public static ArchHeader SmallArch(int tiles = 1, int coresPerTile = 1, int rows = 4, int cols = 4, int cellBits = 2, int dacBits = 1, int adcBits = 8) =>
        new(tiles, coresPerTile, 2, rows, cols, cellBits, dacBits, adcBits, 64, 64);

    /// <summary>An instruction of the given opcode whose fields take arbitrary bit patterns from <paramref name="raw"/>.</summary>
    public static Instruction FromRaw(OpcodeSpec spec, ReadOnlySpan<ulong> raw)
    {
        var fields = new long[spec.Fields.Length];
        for (int i = 0; i < fields.Length; i++)
        {
            FieldSpec f = spec.Fields[i];
            ulong bits = raw[i] & ((1UL << f.Bits) - 1);
            fields[i] = f.Signed && (bits >> (f.Bits - 1)) != 0 ? (long)bits - (1L << f.Bits) : (long)bits;
        }

        return new Instruction(spec.Opcode, [.. fields]);
    }

    public static Instruction RandomInstruction(Random random)
    {
        OpcodeSpec spec = InstructionSet.All[random.Next(InstructionSet.All.Length)];
        Span<ulong> raw = stackalloc ulong[12];
        for (int i = 0; i < raw.Length; i++)
        {
            raw[i] = (ulong)random.NextInt64() ^ ((ulong)random.Next() << 40);
        }

        return FromRaw(spec, raw);
    }

    public static ProgramImage RandomProgram(Random random)
    {
        var arch = new ArchHeader(random.Next(1, 4), random.Next(1, 4), random.Next(0, 9), random.Next(1, 8192), random.Next(1, 8192),
            random.Next(1, 9), random.Next(1, 17), random.Next(1, 33), random.Next(1, 5000), random.Next(1, 5000));
        int inLen = random.Next(0, arch.BufferWords + 1);
        var input = new InputSpec(random.Next(arch.Tiles), random.Next(arch.BufferWords - inLen + 1), inLen,
            random.NextDouble() * Math.Pow(10, random.Next(-8, 8)) + 1e-300, random.NextInt64(-1000, 1000), -random.NextInt64(), random.NextInt64());
        int outLen = random.Next(0, Math.Min(20, arch.BufferWords) + 1);
        var output = new OutputSpec(random.Next(arch.Tiles), random.Next(arch.BufferWords - outLen + 1), outLen,
            [.. Enumerable.Range(0, outLen).Select(_ => (random.NextDouble() - 0.5) * Math.Pow(2, random.Next(-40, 40)))],
            [.. Enumerable.Range(0, outLen).Select(_ => random.NextInt64(long.MinValue, long.MaxValue))]);
        int[] cores = [.. Enumerable.Range(0, arch.TotalCores).OrderBy(_ => random.Next()).Take(random.Next(0, arch.TotalCores + 1))];
        var programs = cores.Select(c =>
        {
            ImmutableArray<Instruction> code = [.. Enumerable.Range(0, random.Next(0, 30)).Select(_ => RandomInstruction(random))];
            ImmutableArray<DataSegment> data = [.. Enumerable.Range(0, random.Next(0, 3)).Select(_ =>
            {
                int len = random.Next(1, Math.Min(arch.LocalWords, 10) + 1);
                return new DataSegment(random.Next(arch.LocalWords - len + 1), [.. Enumerable.Range(0, len).Select(_ => random.NextInt64(long.MinValue, long.MaxValue))]);
            })];
            return new CoreProgram(c, code, data);
        });
        return new ProgramImage(arch, input, output, [.. programs]);
    }

    /// <summary>A one-core program header: input 4 codes at buffer 0, output 4 words at buffer 8.</summary>
    public const string OneCoreHeader = """
        .arch tiles=1 cores_per_tile=1 crossbars_per_core=2 rows=4 cols=4 cell_bits=2 dac_bits=1 adc_bits=8 local_words=64 buffer_words=64
        .input tile=0 addr=0 len=4 scale=1 zero_point=0 qmin=-1000 qmax=1000
        .output tile=0 addr=8 len=4
        .output_scale 1 1 1 1
        .output_zero_point 0 0 0 0
        """;

    /// <summary>A weight image with crossbar 0 of core 0 programmed with zeros for <see cref="OneCoreHeader"/>.</summary>
    public static WeightImage ZeroWeights(int cores = 1, int rows = 4, int cols = 4, int cellBits = 2) =>
        new(rows, cols, cellBits, Enumerable.Range(0, cores).Select(c => KeyValuePair.Create(new CrossbarId(c, 0), new byte[rows * cols])));

    /// <summary>Minimal valid uses of each opcode on the <see cref="OneCoreHeader"/> machine (inputs are zero).</summary>
    public static ImmutableDictionary<Opcode, Instruction[]> Examples { get; } = new Dictionary<Opcode, Instruction[]>
    {
        [Opcode.Nop] = [Instruction.Nop()],
        [Opcode.Halt] = [Instruction.Halt()],
        [Opcode.Load] = [Instruction.Load(0, 0, 4)],
        [Opcode.Store] = [Instruction.Store(8, 0, 4)],
        [Opcode.Set] = [Instruction.Set(0, -5)],
        [Opcode.Mvm] = [Instruction.Mvm(0, 0, 8, 4, 4, 2, 0, false)],
        [Opcode.VClear] = [Instruction.VClear(0, 4)],
        [Opcode.VCopy] = [Instruction.VCopy(8, 0, 4)],
        [Opcode.VAdd] = [Instruction.VAdd(8, 0, 0, 4)],
        [Opcode.VSum] = [Instruction.VSum(8, 0, 4)],
        [Opcode.VAxpy] = [Instruction.VAxpy(8, 0, 3, 4)],
        [Opcode.VMax] = [Instruction.VMax(8, 0, 0, 4)],
        [Opcode.VMaxV] = [Instruction.VMaxV(8, 0, 4, 4)],
        [Opcode.VRequant] = [Instruction.VRequant(8, 0, 32, 4)],
        [Opcode.VLut] = [Instruction.VLut(8, 0, 48, 4)],
        [Opcode.Send] = [Instruction.Send(0, 0, 1, 0)],
        [Opcode.Recv] = [Instruction.Send(0, 0, 1, 0), Instruction.Recv(0, 8, 1, 0)],
        [Opcode.VAct] = [Instruction.VAct(8, 0, 52, 4, (long)ActivationFunction.Sigmoid)],
    }.ToImmutableDictionary();

    /// <summary>Data the examples need: requant params at 32, a lookup table at 48, an activation block at 52.</summary>
    public static ImmutableArray<DataSegment> ExampleData { get; } =
    [
        new DataSegment(32, [0, -10, 10, 1, 0, 1, 0, 1, 0, 1, 0]),
        new DataSegment(48, [0, 1, 7]),
        new DataSegment(52, new ActivationParams(0, 255, 0.05, 0, 255, 1.0 / 255, 0).ToWords().ToImmutableArray()),
    ];
}
