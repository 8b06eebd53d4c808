using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Text;

namespace Cimc.Isa;

/// <summary>program.bin: see docs/isa.md, "program.bin", for the byte layout.</summary>
public sealed partial record ProgramImage
{
    public const string Magic = "CIMCPRG1";
    /// <summary>
    /// Version 2 added mvm's group and ashift fields; version 3 added vact (the special-function
    /// unit) and chip-sized core memories. Version 4 adds the sample slots of a replicated program
    /// (extra slots' I/O, each core's sections); a program with one slot and no sections is written
    /// as version 3, byte for byte as before. Version 5 adds the parts of an input or output split
    /// over several tiles' buffers (written only for such a program). Version 6 is a segmented program
    /// (<see cref="SegmentedProgram"/>). Version 7 (a superset of version 5) adds the input image whose
    /// NCHW samples the host writes HWC, written only for a program with one. Readers accept 3 to 5 and 7.
    /// </summary>
    public const int Version = 3;

    /// <summary>The version of a replicated program (period above 1 or sections).</summary>
    public const int ReplicatedVersion = 4;

    /// <summary>The version of a program whose input or output is split into parts (a superset of version 4).</summary>
    public const int SplitIoVersion = 5;

    /// <summary>The version of a program whose input is an image the host reorders (a superset of version 5).</summary>
    public const int ImageVersion = 7;

    public byte[] ToBytes()
    {
        using var stream = new MemoryStream();
        WriteTo(stream);
        return stream.ToArray();
    }

    /// <summary>Writes program.bin to <paramref name="stream"/> as it goes (no image of the file in memory).</summary>
    public void WriteTo(Stream stream)
    {
        Validate();
        using var w = new BinaryWriter(stream, Encoding.ASCII, leaveOpen: true);
        // BinaryWriter is little-endian on every platform.
        w.Write(Encoding.ASCII.GetBytes(Magic));
        bool image = Input.Image is not null;
        bool split = image || !Input.Parts.IsEmpty || !Output.Parts.IsEmpty;
        bool replicated = split || !IsPlain;
        w.Write(image ? ImageVersion : split ? SplitIoVersion : replicated ? ReplicatedVersion : Version);
        foreach ((_, int value) in Arch.Items())
        {
            w.Write(value);
        }

        w.Write(Input.Tile);
        w.Write(Input.Addr);
        w.Write(Input.Len);
        w.Write(Input.Scale);
        w.Write(Input.ZeroPoint);
        w.Write(Input.QMin);
        w.Write(Input.QMax);
        w.Write(Output.Tile);
        w.Write(Output.Addr);
        w.Write(Output.Len);
        foreach (double s in Output.Scales)
        {
            w.Write(s);
        }

        foreach (long z in Output.ZeroPoints)
        {
            w.Write(z);
        }

        if (replicated)
        {
            w.Write(ExtraSlots.Length);
            foreach (SlotIo io in ExtraSlots)
            {
                w.Write(io.InputTile);
                w.Write(io.InputAddr);
                w.Write(io.OutputTile);
                w.Write(io.OutputAddr);
            }
        }

        if (split)
        {
            foreach (ImmutableArray<IoPart> parts in (ImmutableArray<IoPart>[])[Input.Parts, Output.Parts])
            {
                w.Write(parts.Length);
                foreach (IoPart p in parts)
                {
                    w.Write(p.Tile);
                    w.Write(p.Addr);
                    w.Write(p.Start);
                    w.Write(p.Len);
                }
            }
        }

        if (Input.Image is { } im)
        {
            w.Write(im.Channels);
            w.Write(im.Height);
            w.Write(im.Width);
        }

        w.Write(Cores.Length);
        Span<byte> buffer = stackalloc byte[InstructionSet.InstructionBytes];
        foreach (CoreProgram core in Cores)
        {
            w.Write(core.Core);
            w.Write(core.Code.Length);
            foreach (Instruction instruction in core.Code)
            {
                InstructionEncoding.Encode(instruction, buffer);
                w.Write(buffer);
            }

            if (replicated)
            {
                w.Write(core.Sections.Length);
                foreach (SlotSection section in core.Sections)
                {
                    w.Write(section.Slot);
                    w.Write(section.Start);
                    w.Write(section.Count);
                }
            }

            w.Write(core.Data.Length);
            foreach (DataSegment segment in core.Data)
            {
                w.Write(segment.Addr);
                w.Write(segment.Values.Length);
                foreach (long v in segment.Values)
                {
                    w.Write(v);
                }
            }
        }

        w.Flush();
    }

    private static ImmutableArray<IoPart> ReadParts(ref BinaryCursor r, string what)
    {
        int count = r.ReadCount($"{what} part count", 16);
        var parts = ImmutableArray.CreateBuilder<IoPart>(count);
        for (int i = 0; i < count; i++)
        {
            parts.Add(new IoPart(r.ReadInt32($"{what} part tile"), r.ReadInt32($"{what} part addr"), r.ReadInt32($"{what} part start"), r.ReadInt32($"{what} part len")));
        }

        return parts.MoveToImmutable();
    }

    public void Save(string path)
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        WriteTo(file);
    }

    public static ProgramImage Load(string path) => FromBytes(BinaryFiles.ReadAll(path, "bad-program-file"), path);

    /// <summary>Reads and validates program.bin; anything malformed is a one-line CimcException.</summary>
    public static ProgramImage FromBytes(ReadOnlySpan<byte> bytes, string location = "program.bin")
    {
        var r = new BinaryCursor(bytes, location, "bad-program-file");
        if (!r.Take(8, "magic").SequenceEqual(Encoding.ASCII.GetBytes(Magic)))
        {
            throw r.Error($"not a cimc program (magic is not {Magic})");
        }

        int version = r.ReadInt32("version");
        if (version == SegmentedProgram.Version)
        {
            throw r.Error($"version {version} is a segmented program (weight reloading, docs/isa.md): cimc run and cimc simulate take its folder, this reads one program");
        }

        if (version is not (Version or ReplicatedVersion or SplitIoVersion or ImageVersion))
        {
            // Version 1 encoded mvm without group/ashift; its bits would decode to different fields.
            throw r.Error($"unsupported version {version} (expected {Version} to {SplitIoVersion} or {ImageVersion}; recompile the model to update the program)");
        }

        var archValues = new int[ArchHeader.Names.Count];
        for (int i = 0; i < archValues.Length; i++)
        {
            archValues[i] = r.ReadInt32(ArchHeader.Names[i]);
        }

        ArchHeader arch = ArchHeader.FromValues(archValues);
        arch.Validate(location);
        var input = new InputSpec(r.ReadInt32("input tile"), r.ReadInt32("input addr"), r.ReadInt32("input len"),
            r.ReadDouble("input scale"), r.ReadInt64("input zero point"), r.ReadInt64("input qmin"), r.ReadInt64("input qmax"));
        int outTile = r.ReadInt32("output tile");
        int outAddr = r.ReadInt32("output addr");
        int outLen = r.ReadCount("output len", 16);
        var scales = new double[outLen];
        for (int i = 0; i < outLen; i++)
        {
            scales[i] = r.ReadDouble("output scale");
        }

        var zeroPoints = new long[outLen];
        for (int i = 0; i < outLen; i++)
        {
            zeroPoints[i] = r.ReadInt64("output zero point");
        }

        var output = new OutputSpec(outTile, outAddr, outLen, [.. scales], [.. zeroPoints]);
        bool replicated = version >= ReplicatedVersion;
        var extraSlots = ImmutableArray.CreateBuilder<SlotIo>();
        if (replicated)
        {
            int slotCount = r.ReadCount("extra slot count", 16);
            for (int j = 0; j < slotCount; j++)
            {
                extraSlots.Add(new SlotIo(r.ReadInt32("slot input tile"), r.ReadInt32("slot input addr"), r.ReadInt32("slot output tile"), r.ReadInt32("slot output addr")));
            }
        }

        if (version >= SplitIoVersion)
        {
            input = input with { Parts = ReadParts(ref r, "input") };
            output = output with { Parts = ReadParts(ref r, "output") };
        }

        if (version == ImageVersion)
        {
            input = input with { Image = new InputImage(r.ReadInt32("input channels"), r.ReadInt32("input height"), r.ReadInt32("input width")) };
        }

        // Smallest core record: id, instruction count, segment count.
        int coreCount = r.ReadCount("core count", 12);
        var cores = ImmutableArray.CreateBuilder<CoreProgram>(coreCount);
        for (int c = 0; c < coreCount; c++)
        {
            int id = r.ReadInt32("core id");
            int codeCount = r.ReadCount($"core {id} instruction count", InstructionSet.InstructionBytes);
            var code = ImmutableArray.CreateBuilder<Instruction>(codeCount);
            for (int pc = 0; pc < codeCount; pc++)
            {
                code.Add(InstructionEncoding.Decode(r.Take(InstructionSet.InstructionBytes, "instruction"), $"{location}: core {id} pc {pc}"));
            }

            var sections = ImmutableArray.CreateBuilder<SlotSection>();
            if (replicated)
            {
                int sectionCount = r.ReadCount($"core {id} section count", 12);
                for (int k = 0; k < sectionCount; k++)
                {
                    sections.Add(new SlotSection(r.ReadInt32("section slot"), r.ReadInt32("section start"), r.ReadInt32("section count")));
                }
            }

            int segmentCount = r.ReadCount($"core {id} data segment count", 8);
            var data = ImmutableArray.CreateBuilder<DataSegment>(segmentCount);
            for (int s = 0; s < segmentCount; s++)
            {
                int addr = r.ReadInt32("segment addr");
                int len = r.ReadCount("segment length", 8);
                ReadOnlySpan<byte> raw = r.Take(8L * len, "segment values");
                var values = new long[len];
                for (int i = 0; i < len; i++)
                {
                    values[i] = BinaryPrimitives.ReadInt64LittleEndian(raw.Slice(8 * i, 8));
                }

                data.Add(new DataSegment(addr, [.. values]));
            }

            cores.Add(new CoreProgram(id, code.MoveToImmutable(), data.MoveToImmutable()) { Sections = sections.ToImmutable() });
        }

        r.ExpectEnd();
        var program = new ProgramImage(arch, input, output, cores.MoveToImmutable()) { ExtraSlots = extraSlots.ToImmutable() };
        program.Validate(location);
        return program;
    }
}
