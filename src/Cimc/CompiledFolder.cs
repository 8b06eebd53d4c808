using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cimc.Architectures;
using Cimc.Diagnostics;
using Cimc.Isa;
using Cimc.Performance;
using Cimc.Simulation.Devices;

namespace Cimc;

/// <summary>
/// The folder `cimc compile` writes, read and written in one place: program.bin, weights.bin,
/// summary.json and, when asked for (--emit asm), program.asm. summary.json holds the <see cref="CompileSummary"/> fields plus
/// `architecture`, the full description the program was compiled for (a custom file or a preset with
/// overridden bits), so the folder can be simulated without the file it came from. Reading checks
/// every part and reports damage in one line naming the file.
/// </summary>
public sealed record CompiledFolder(string Path, ProgramImage Program, CompileSummary? Summary, Architecture? Architecture)
{
    private readonly Lazy<WeightImage> _weights = new(() => WeightImage.Load(System.IO.Path.Combine(Path, WeightsFile)));

    /// <summary>
    /// weights.bin, read (and checked) on first use: `cimc run` needs it, while `cimc simulate DIR`
    /// costs the program alone and never reads the largest file of the folder.
    /// </summary>
    public WeightImage Weights => Segmented is null ? _weights.Value
        : throw new InvalidOperationException("a segmented folder's weights are SegmentWeights");

    /// <summary>
    /// A weight-reloading program of several segments (program.bin version 6), else null;
    /// <see cref="Program"/> is then its first segment (the machine and the network input).
    /// </summary>
    public SegmentedProgram? Segmented { get; init; }

    /// <summary>Each segment's weight image (weights.bin version 2), read on first use like <see cref="Weights"/>.</summary>
    public ImmutableArray<WeightImage> SegmentWeights => _segmentWeights ??= SegmentedProgram.LoadWeights(PathOf(WeightsFile), Segmented?.Segments.Length ?? 1);

    private ImmutableArray<WeightImage>? _segmentWeights;

    public const string SummaryFile = "summary.json";
    public const string ProgramFile = "program.bin";
    public const string WeightsFile = "weights.bin";
    public const string AssemblyFile = "program.asm";
    private const string ArchitectureKey = "architecture";

    /// <summary>Whether the host applies a softmax to the dequantized outputs (the model ended with one).</summary>
    public bool HostSoftmax => Summary?.HostSoftmax ?? false;

    /// <summary>The architecture to simulate on: the one compiled for, else the preset of that name (folders from before it was kept).</summary>
    public Architecture RequireArchitecture() =>
        Architecture
        ?? (Summary is { } s && ArchitectureCatalog.IsPreset(s.Arch) ? ArchitectureCatalog.Preset(s.Arch)
            : throw new CimcException("bad-summary", PathOf(SummaryFile), Summary is null
                ? "no summary.json (expected the output of cimc compile)"
                : $"holds no architecture description for '{Summary.Arch}' (written by an older cimc); give the chip with --arch FILE"));

    /// <summary>The program and its layers' placement, as the performance model takes them.</summary>
    public PerformanceInput Performance(Architecture arch)
    {
        CompileSummary summary = Summary ?? throw new CimcException("file-not-found", PathOf(SummaryFile), "no summary.json (expected the output of cimc compile)");
        if (summary.Layers.SelectMany(l => l.Cores).Any(c => c >= arch.TotalCores))
        {
            throw new CimcException("bad-summary", PathOf(SummaryFile), $"places a layer on a core that {arch.Name} does not have (damaged, or compiled for another chip)");
        }

        return new PerformanceInput(Program, arch, [.. summary.Layers.Select(l => new LayerSpan(l.Name, l.InFeatures, l.OutFeatures, l.Cores)
        {
            Windows = l.Windows ?? 1,
            Inputs = l.Inputs,
        })]);
    }

    /// <summary>Each segment's program and layers, as the performance model takes them (a folder of one program: that program).</summary>
    public ImmutableArray<PerformanceInput> SegmentPerformance(Architecture arch)
    {
        PerformanceInput whole = Performance(arch);
        if (Segmented is null)
        {
            return [whole];
        }

        if (Summary!.Segments != Segmented.Segments.Length || Summary.Layers.Any(l => l.Segment < 0 || l.Segment >= Summary.Segments))
        {
            throw new CimcException("bad-summary", PathOf(SummaryFile), $"does not describe the {Segmented.Segments.Length} segments of program.bin (damaged, or from another compile)");
        }

        return [.. Segmented.Segments.Select((p, k) => whole with
        {
            Program = p,
            Layers = [.. Summary.Layers.Zip(whole.Layers).Where(z => z.First.Segment == k).Select(z => z.Second)],
        })];
    }

    private string PathOf(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>
    /// Writes the files of <paramref name="c"/>, program.asm only with <paramref name="assembly"/>
    /// (its text is as large as the program); a device given at compile time is recorded for `cimc run`.
    /// </summary>
    public static CompileSummary Write(string folder, Compilation c, DeviceModel? device = null, bool assembly = false)
    {
        CompileSummary summary = device is null ? c.Summary() : c.Summary() with { Device = device };
        Directory.CreateDirectory(folder);
        string asm = System.IO.Path.Combine(folder, AssemblyFile);
        if (assembly)
        {
            File.WriteAllText(asm, c.IsSegmented
                ? string.Concat(c.Segments.Select((s, k) => $"; segment {k} of {c.Segments.Length}: crossbars reprogrammed from weights.bin segment {k}\n{Disassembler.Disassemble(s.Program!)}\n"))
                : Disassembler.Disassemble(c.Program!));
        }
        else
        {
            // A program.asm left by an earlier compile into the same folder would describe another program.
            File.Delete(asm);
        }

        if (c.IsSegmented)
        {
            new SegmentedProgram([.. c.Segments.Select(s => s.Program!)]).Save(System.IO.Path.Combine(folder, ProgramFile));
            SegmentedProgram.SaveWeights(System.IO.Path.Combine(folder, WeightsFile), [.. c.Segments.Select(s => s.Weights!)]);
        }
        else
        {
            c.Program!.Save(System.IO.Path.Combine(folder, ProgramFile));
            c.Weights!.Save(System.IO.Path.Combine(folder, WeightsFile));
        }

        JsonObject json = JsonSerializer.SerializeToNode(summary, JsonFormat.Options)!.AsObject();
        json[ArchitectureKey] = JsonNode.Parse(ArchitectureJson.Write(c.Architecture));
        File.WriteAllText(System.IO.Path.Combine(folder, SummaryFile), json.ToJsonString(JsonFormat.Options) + "\n");
        return summary;
    }

    /// <summary>
    /// Reads a compiled folder. program.bin and weights.bin must be there and program.bin valid
    /// (weights.bin is read and checked when <see cref="Weights"/> is first used); summary.json may
    /// be missing (a folder assembled by hand), but when present it must be a complete summary.
    /// </summary>
    public static CompiledFolder Read(string folder)
    {
        if (!Directory.Exists(folder))
        {
            throw new CimcException("file-not-found", folder, "no such folder (expected the output of cimc compile)");
        }

        string programPath = System.IO.Path.Combine(folder, ProgramFile), weightsPath = System.IO.Path.Combine(folder, WeightsFile);
        foreach (string path in new[] { programPath, weightsPath })
        {
            if (!File.Exists(path))
            {
                throw new CimcException("file-not-found", path, "missing (expected the output of cimc compile)");
            }
        }

        SegmentedProgram? segmented = SegmentedProgram.IsSegmented(programPath) ? SegmentedProgram.Load(programPath) : null;
        ProgramImage program = segmented?.First ?? ProgramImage.Load(programPath);
        string summaryPath = System.IO.Path.Combine(folder, SummaryFile);
        (CompileSummary? summary, Architecture? arch) = File.Exists(summaryPath) ? ReadSummary(summaryPath) : (null, null);
        if (arch is not null && Compiler.Header(arch) != program.Arch)
        {
            throw new CimcException("bad-summary", summaryPath, $"its architecture '{arch.Name}' is not the one program.bin was compiled for");
        }

        if (segmented is not null && summary is not null && summary.Segments != segmented.Segments.Length)
        {
            throw new CimcException("bad-summary", summaryPath, $"says {summary.Segments} segments but program.bin holds {segmented.Segments.Length}");
        }

        return new CompiledFolder(folder, program, summary, arch) { Segmented = segmented };
    }

    private static (CompileSummary Summary, Architecture? Arch) ReadSummary(string path)
    {
        JsonObject json;
        CompileSummary? summary;
        try
        {
            json = JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { MaxDepth = 32 }) as JsonObject
                ?? throw new CimcException("bad-summary", path, "not a JSON object (expected the summary.json of cimc compile)");
            summary = json.Deserialize<CompileSummary>(JsonFormat.Options);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or NotSupportedException or ArgumentException)
        {
            throw new CimcException("bad-summary", path, $"damaged or not written by cimc compile ({e.Message})");
        }

        Check(summary, path);
        Architecture? arch = json[ArchitectureKey] is JsonObject a ? ArchitectureJson.Parse(a.ToJsonString(), $"{path}: architecture") : null;
        return (summary!, arch);
    }

    /// <summary>The fields the commands rely on, present and sensible.</summary>
    private static void Check(CompileSummary? s, string path)
    {
        string? problem = s is null ? "is empty"
            : string.IsNullOrEmpty(s.Model) ? "has no model"
            : string.IsNullOrEmpty(s.Arch) ? "has no arch"
            : s.Layers.IsDefaultOrEmpty ? "has no layers"
            : s.Layers.Any(l => l is null || string.IsNullOrEmpty(l.Name) || l.InFeatures < 1 || l.OutFeatures < 1 || l.Cores.IsDefaultOrEmpty || l.Cores.Any(c => c < 0))
                ? "has a damaged layer entry"
            : s.Crossbar is null ? "has no crossbar"
            : null;
        if (problem is not null)
        {
            throw new CimcException("bad-summary", path, $"{problem} (damaged, or not written by cimc compile)");
        }
    }
}
