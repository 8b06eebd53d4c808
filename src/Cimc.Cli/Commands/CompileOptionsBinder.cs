using System.CommandLine;
using Cimc.Architectures;
using Cimc.Data;
using Cimc.Diagnostics;
using Cimc.Quantization;

namespace Cimc.Cli.Commands;

/// <summary>
/// The options that choose a chip and a quantization, shared by compile, accuracy (and later
/// simulate), so they are spelled and checked one way everywhere.
/// </summary>
internal sealed class CompileOptionsBinder
{
    public Option<string> Arch { get; } = new("--arch") { Description = "architecture preset (isaac, puma, edge) or a JSON file" };

    public Option<string?> Chips { get; } = new("--chips") { Description = "chips in the node: a number, or auto (the fewest that hold the network); default: the architecture's node (1 chip for the presets)" };

    public Option<string?> WhenTooLarge { get; } = new("--when-too-large")
    {
        Description = "a network the node cannot hold: reload (cut into segments, crossbars reprogrammed between them), multichip (add chips, as --chips auto), fail; default: refuse, naming what each would need",
    };

    public Option<string?> WeightBits { get; } = new("--weight-bits") { Description = "weight bits, 1 to 16 (default: the architecture's)" };

    public Option<string?> ActivationBits { get; } = new("--activation-bits") { Description = "activation bits, 1 to 16 (default: the architecture's)" };

    public Option<string?> CellBits { get; } = new("--cell-bits") { Description = "bits per crossbar cell (overrides the architecture)" };

    public Option<string?> DacBits { get; } = new("--dac-bits") { Description = "DAC bits per input slice (overrides the architecture)" };

    public Option<string?> AdcBits { get; } = new("--adc-bits") { Description = "ADC resolution in bits (overrides the architecture)" };

    public Option<string?> Granularity { get; } = new("--granularity") { Description = "weight scales: per-tensor or per-channel (default per-channel)" };

    public Option<string?> SignedWeights { get; } = new("--signed-weights") { Description = "signed weight encoding: differential, offset or twos-complement (default: the architecture's)" };

    public Option<string?> Calibration { get; } = new("--calibration") { Description = "how activation ranges are calibrated: minmax (default), percentile:P or mse" };

    public Option<string?> CalibrationData { get; } = new("--calibration-data") { Description = "calibration inputs (.npy, .csv or IDX); default: calibration.npy beside the model" };

    public Option<string?> Precision { get; } = new("--precision") { Description = "JSON file of per-layer weight_bits/activation_bits (mixed precision)" };

    public Option<bool> Asymmetric { get; } = new("--asymmetric") { Description = "asymmetric activation ranges (zero points over all 2^b codes) instead of symmetric" };

    public Option<string?> AdcRange { get; } = new("--adc-range") { Description = "ADC step: unit (saturating, default), full (never saturates) or calibrated (covers calibration sums)" };

    public Option<string> SweepCsv { get; } = new("--csv") { Description = "where a sweep writes its table as CSV", DefaultValueFactory = _ => "accuracy-sweep.csv" };

    public Option<string> SweepPlot { get; } = new("--plot") { Description = "where a sweep writes its SVG plot", DefaultValueFactory = _ => "accuracy-sweep.svg" };

    public Option<string?> RowsPerRead { get; } = new("--rows-per-read") { Description = "crossbar rows activated per read, a whole number (default: all)" };

    public Option<string?> ConvMapping { get; } = new("--conv-mapping")
    {
        Description = "how convolutions are cut into crossbar row blocks: im2col (default; blocks may span kernel positions) or per-position (one Cin x Cout matrix per kernel position, as PUMA; docs/quantization.md section 7)",
    };

    public Option<string?> InputRange { get; } = new("--input-range")
    {
        Description = "without calibration data, the range every input value lies in, LO,HI (default 0,1); activation ranges are then bounded from the weights",
    };

    public Option<double> CalibrationDivideBy { get; } = new("--calibration-divide-by") { Description = "divide calibration values by D", DefaultValueFactory = _ => 1.0 };

    public Option<string?> OptLevel { get; } = new("--opt-level", "-O") { Description = "optimization level: 0, 1, 2 or 3; 2 when not given (docs/optimizations.md)" };

    public Option<string?> Passes { get; } = new("--passes") { Description = "run these passes, in this order, instead of the level's, e.g. quantize,map,place-greedy,reduce-tree,broadcast-ring,emit" };

    public Option<string?> Placement { get; } = new("--placement") { Description = "where layers' cores go: linear, greedy, anneal, rows or best; the level's when not given" };

    public Option<string?> Replication { get; } = new("--replication")
    {
        Description = "weight replication for streamed inputs: none, balance or max; the level's when not given (balance at -O3, none below; docs/optimizations.md)",
    };

    public Option<string?> ReplicationBudget { get; } = new("--replication-budget")
    {
        Description = "crossbars replication may fill in all: a count (e.g. 4096) or a fraction of the chip (e.g. 0.5); the whole chip when not given",
    };

    public Option<string?> SliceSplit { get; } = new("--slice-split")
    {
        Description = "input bit-slice split for latency: none, auto or K (each crossbar block gets K copies on spare crossbars, each converting 1/K of the input's bit slices; dense networks; none when not given; docs/optimizations.md)",
    };

    public Option<string?> DumpAfter { get; } = new("--dump-after") { Description = "print the IR after this pass in its text form" };

    public Option<bool> TimePasses { get; } = new("--time-passes") { Description = "print each pass's time" };

    public Option<string?> PassEstimates { get; } = new("--pass-estimates")
    {
        Description = "which passes summary.json prices with the timing model: all, final or auto (every pass up to 8,192 crossbars, the last one up to 65,536, none above: cimc simulate prices those)",
    };

    public Option<bool> Verify { get; } = new("--verify") { Description = "check each stage's IR between passes (placement, tags, every receive matched by a send)" };

    public Option<int> Seed { get; } = new("--placement-seed") { Description = "seed of the annealing placement", DefaultValueFactory = _ => 1 };

    /// <summary>The pass pipeline the options ask for; <paramref name="output"/> receives --dump-after's text.</summary>
    public Cimc.Passes.CompileSettings Settings(ParseResult parse, TextWriter output) => new()
    {
        Level = parse.GetValue(OptLevel) is { } level ? Cimc.Passes.Pipelines.ParseLevel(level) : Cimc.Passes.Pipelines.Default,
        Placement = parse.GetValue(Placement) is { } placement ? Cimc.Passes.Pipelines.ParsePlacement(placement) : null,
        Passes = parse.GetValue(Passes) is { } list ? Cimc.Passes.Pipelines.Parse(list) : null,
        Replication = parse.GetValue(Replication) is { } replication ? Cimc.Passes.Pipelines.ParseReplication(replication) : null,
        ReplicationBudget = parse.GetValue(ReplicationBudget) is { } budget ? Cimc.Mapping.ReplicationBudget.Parse(budget) : Cimc.Mapping.ReplicationBudget.WholeChip,
        SliceSplit = parse.GetValue(SliceSplit) is { } split ? Cimc.Mapping.SliceSplitChoice.Parse(split) : null,
        Verify = parse.GetValue(Verify),
        PassEstimates = parse.GetValue(PassEstimates) is { } scope ? ParsePassEstimates(scope) : Cimc.Passes.PassEstimates.Auto,
        DumpAfter = parse.GetValue(DumpAfter),
        Dump = output.Write,
        Seed = parse.GetValue(Seed),
        AutoChips = parse.GetValue(Chips) is "auto",
        WhenTooLarge = ParseWhenTooLarge(parse.GetValue(WhenTooLarge), parse.GetValue(Chips)),
    };

    private static Cimc.Passes.WhenTooLarge ParseWhenTooLarge(string? value, string? chips) => value switch
    {
        null => Cimc.Passes.WhenTooLarge.Explain,
        "reload" when chips is "auto" => throw new CimcException("bad-option", "--when-too-large", "reload keeps the node's chips; --chips auto sizes the node instead (give one, or --chips N)"),
        "reload" => Cimc.Passes.WhenTooLarge.Reload,
        "multichip" => Cimc.Passes.WhenTooLarge.Multichip,
        "fail" => Cimc.Passes.WhenTooLarge.Fail,
        _ => throw new CimcException("bad-option", "--when-too-large", $"must be reload, multichip or fail (got '{value}')"),
    };

    /// <summary>With --time-passes, one line per pass that ran: its time and, once placed, its mesh traffic.</summary>
    public static void WritePassTimes(ParseResult parse, CompileOptionsBinder binder, Compilation c, TextWriter output)
    {
        if (!parse.GetValue(binder.TimePasses))
        {
            return;
        }

        foreach (Cimc.Passes.AppliedPass p in c.Passes)
        {
            string traffic = p.TrafficHops is { } th ? $"  traffic x hops {th}, busiest link {p.BusiestLinkWords} words"
                : p.Replicas is { } k ? $"  replicas {string.Join(",", k)}, estimated {p.EstimatedInferencesPerSecond:F0} inferences/s"
                : p.SliceCopies is { } copies ? $"  input-slice copies {string.Join(",", copies)}" : "";
            output.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"pass {p.Name,-15} {p.Milliseconds,9:F2} ms{traffic}"));
        }
    }

    /// <param name="sweeps">true for `cimc accuracy`, where the design options take lists</param>
    public void AddTo(Command command, bool archRequired, bool sweeps = false)
    {
        Arch.Required = archRequired;
        if (sweeps)
        {
            foreach (Option option in new Option[] { WeightBits, ActivationBits, CellBits, DacBits, AdcBits, SignedWeights, AdcRange })
            {
                option.Description += "; a comma-separated list sweeps every combination (e.g. 4,6,8)";
            }
        }

        foreach (Option option in new Option[] { Arch, Chips, WhenTooLarge, WeightBits, ActivationBits, CellBits, DacBits, AdcBits, Granularity, SignedWeights, Calibration, CalibrationData, CalibrationDivideBy, InputRange, Precision, Asymmetric, AdcRange, RowsPerRead, ConvMapping,
            OptLevel, Passes, Placement, Replication, ReplicationBudget, SliceSplit, DumpAfter, TimePasses, PassEstimates, Verify, Seed })
        {
            command.Options.Add(option);
        }
    }

    /// <summary>The first of these options (other than --arch) given on the command line, or null.</summary>
    public string? FirstGiven(ParseResult parse) =>
        new Option[] { WeightBits, ActivationBits, CellBits, DacBits, AdcBits, Granularity, SignedWeights, Calibration, CalibrationData, CalibrationDivideBy, InputRange, Precision, Asymmetric, AdcRange, RowsPerRead, ConvMapping, SweepCsv, SweepPlot }
            .FirstOrDefault(o => parse.GetResult(o) is { Implicit: false })?.Name;

    /// <summary>One point of a design grid: the values that `cimc accuracy` may sweep (null = default).</summary>
    public sealed record DesignChoice(int? WeightBits, int? ActivationBits, int? CellBits, int? DacBits, int? AdcBits, string? SignedWeights, string? AdcRange);

    /// <summary>Every combination of the listed values (one point when nothing is a list).</summary>
    public IReadOnlyList<DesignChoice> Grid(ParseResult parse)
    {
        IReadOnlyList<int?> Ints(Option<string?> option) => ParseList(parse.GetValue(option), option.Name, ParseBits);
        IReadOnlyList<string?> Words(Option<string?> option) => ParseList(parse.GetValue(option), option.Name, (v, _) => v);
        return [..
            from w in Ints(WeightBits)
            from a in Ints(ActivationBits)
            from c in Ints(CellBits)
            from d in Ints(DacBits)
            from adc in Ints(AdcBits)
            from sw in Words(SignedWeights)
            from range in Words(AdcRange)
            select new DesignChoice(w, a, c, d, adc, sw, range)];
    }

    /// <summary>The single design point of a command that compiles once.</summary>
    public DesignChoice Single(ParseResult parse)
    {
        IReadOnlyList<DesignChoice> grid = Grid(parse);
        return grid.Count == 1 ? grid[0]
            : throw new CimcException("bad-option", "options", "lists of values (e.g. --adc-bits 4,6,8) are for cimc accuracy sweeps; give one value here");
    }

    private static Cimc.Passes.PassEstimates ParsePassEstimates(string text) => text switch
    {
        "all" => Cimc.Passes.PassEstimates.All,
        "final" => Cimc.Passes.PassEstimates.Final,
        "auto" => Cimc.Passes.PassEstimates.Auto,
        _ => throw new CimcException("bad-option", "--pass-estimates", $"must be all, final or auto (got {text})"),
    };

    /// <summary>--rows-per-read as a number (0 = all rows), with a message naming the option for anything else.</summary>
    private int RowsPerReadValue(ParseResult parse) => parse.GetValue(RowsPerRead) is not { } text ? 0
        : ParseBits(text, "--rows-per-read") is >= 1 and int v ? v
        : throw new CimcException("bad-option", "--rows-per-read", $"must be at least 1 (got {text})");

    private static IReadOnlyList<T?> ParseList<T>(string? text, string option, Func<string, string, T> parseOne)
    {
        if (text is null)
        {
            return [default];
        }

        string[] parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return parts.Length == 0
            ? throw new CimcException("bad-option", option, "needs a value")
            : [.. parts.Select(p => (T?)parseOne(p, option)).Distinct()];
    }

    private static int? ParseBits(string text, string option) =>
        int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int v)
            ? v
            : throw new CimcException("bad-option", option, $"'{text}' is not a whole number");

    public Architecture LoadArchitecture(ParseResult parse) => LoadArchitecture(parse, Single(parse));

    public Architecture LoadArchitecture(ParseResult parse, DesignChoice choice) =>
        WithChips(ArchitectureCatalog.Load(parse.GetValue(Arch)!).With(cellBits: choice.CellBits, dacBits: choice.DacBits, adcBits: choice.AdcBits), parse.GetValue(Chips));

    /// <summary>
    /// --chips N sizes the node now; auto is resolved by the compile once the network is mapped
    /// (<see cref="Cimc.Passes.CompileSettings.AutoChips"/>), so the architecture keeps its own count until then.
    /// </summary>
    public static Architecture WithChips(Architecture arch, string? chips) => chips switch
    {
        null or "auto" => arch,
        _ when int.TryParse(chips, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int n) => n >= 1
            ? arch.WithChips(n)
            : throw new CimcException("bad-option", "--chips", $"must be at least 1 or auto (got {chips})"),
        _ => throw new CimcException("bad-option", "--chips", $"must be a whole number or auto (got '{chips}')"),
    };

    public QuantizationOptions Quantization(ParseResult parse, Architecture arch) => Quantization(parse, arch, Single(parse));

    public QuantizationOptions Quantization(ParseResult parse, Architecture arch, DesignChoice choice)
    {
        QuantizationOptions options = Compiler.OptionsFor(
            arch,
            choice.WeightBits,
            choice.ActivationBits,
            parse.GetValue(Granularity) is { } g ? QuantizationOptions.ParseGranularity(g) : Cimc.Quantization.Granularity.PerChannel,
            choice.SignedWeights is { } s ? QuantizationOptions.ParseEncoding(s) : null);
        options = options with
        {
            Calibration = CalibrationMethodOrFile(parse) is { Method: { } method } ? method : options.Calibration,
            AsymmetricActivations = parse.GetValue(Asymmetric),
            AdcRange = choice.AdcRange is { } r ? QuantizationOptions.ParseAdcRange(r) : Cimc.Quantization.AdcRange.Unit,
            RowsPerRead = RowsPerReadValue(parse),
            ConvMapping = parse.GetValue(ConvMapping) is { } mapping ? QuantizationOptions.ParseConvMapping(mapping) : Cimc.Quantization.ConvMapping.Im2col,
        };

        // A precision file's defaults give way to explicit --weight-bits / --activation-bits.
        if (parse.GetValue(Precision) is { } file)
        {
            options = PrecisionFile.Apply(options, file);
            options = options with
            {
                WeightBits = choice.WeightBits ?? options.WeightBits,
                ActivationBits = choice.ActivationBits ?? options.ActivationBits,
            };
        }

        return options.Validate();
    }

    /// <summary>
    /// --calibration names a method; an existing file there is taken as calibration data, as
    /// --calibration-data, so that older command lines keep working.
    /// </summary>
    private (CalibrationMethod? Method, string? File) CalibrationMethodOrFile(ParseResult parse)
    {
        string? value = parse.GetValue(Calibration);
        if (value is null)
        {
            return (null, null);
        }

        return File.Exists(value) ? (null, value) : (CalibrationMethod.Parse(value), null);
    }

    /// <summary>
    /// Where activation ranges come from: --calibration-data (or a file given to --calibration), else
    /// calibration.npy beside the model, else bounds from the weights for inputs in --input-range.
    /// </summary>
    public CalibrationSource FindCalibration(ParseResult parse, string modelPath)
    {
        string? data = parse.GetValue(CalibrationData) ?? CalibrationMethodOrFile(parse).File;
        if (parse.GetValue(InputRange) is not null)
        {
            // A declared range is what the user asked for: no file beside the model overrides it.
            return data is null ? DeclaredInputRange(parse)
                : throw new CimcException("bad-option", "--input-range", "is for compiling without calibration data; give either --input-range or --calibration-data");
        }

        return CalibrationFiles.Find(data, modelPath, parse.GetValue(CalibrationDivideBy), InputRangeCalibration.Default);
    }

    /// <summary>True when the command line names calibration data (not counting calibration.npy beside the model).</summary>
    public bool CalibrationDataGiven(ParseResult parse) => parse.GetValue(CalibrationData) is not null || CalibrationMethodOrFile(parse).File is not null;

    public InputRangeCalibration DeclaredInputRange(ParseResult parse) =>
        parse.GetValue(InputRange) is { } text ? InputRangeCalibration.Parse(text) : InputRangeCalibration.Default;
}
