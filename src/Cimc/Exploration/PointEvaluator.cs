using System.Collections.Concurrent;
using System.Globalization;
using Cimc.Data;
using Cimc.Diagnostics;
using Cimc.Evaluation;
using Cimc.Ir;
using Cimc.Mapping;
using Cimc.Performance;
using Cimc.Quantization;
using Cimc.Simulation;
using Cimc.Simulation.Devices;

namespace Cimc.Exploration;

/// <summary>A labelled data set for the accuracy objective.</summary>
public sealed record LabelledSet(NdArray Images, Labels Labels);

/// <summary>How exactly a point is evaluated: the analytic estimate, the full compile + simulation, or both (estimate all, simulate those on or near the front).</summary>
public enum Fidelity
{
    Estimate,
    Simulate,
    Auto,
}

/// <summary>
/// Evaluates design points of one model, at either fidelity: <see cref="Simulate"/> compiles
/// (Compiler) and prices the program (PerformanceReport.Evaluate); <see cref="Estimate"/> prices the
/// quantized model analytically (<see cref="Estimator"/>, no code generation). With labelled data
/// both add accuracy on the bit-exact simulator. Thread-safe, so points run in parallel.
/// Stage results are shared between points: the quantized model per quantization setting (it does
/// not depend on the chip); the crossbar blocks per quantized model and crossbar shape (rows,
/// columns, cell bits: the converters and the chip's size do not change them); and accuracy per
/// quantization, crossbar geometry and device (it does not depend on tiles, cores or placement: the
/// simulator is bit-exact whatever the placement), also kept in the results database
/// (<see cref="Accuracies"/>) so that a resumed study reuses it.
/// </summary>
public sealed class PointEvaluator(Graph graph, NdArray? calibration, LabelledSet? data, DeviceModel baseDevice, int batch)
{
    /// <summary>Crossbar cuttings kept at once (each holds every weight's cells; MLP-L4 at 16 bits takes ~90 MB).</summary>
    public const int MappingsKept = 4;

    private readonly CalibrationSource? source = calibration is null ? null : new SampleCalibration(calibration, "the calibration samples");
    private readonly ConcurrentDictionary<string, Lazy<Compilation>> quantized = new();
    private readonly ConcurrentDictionary<string, Lazy<MappedModel>> mapped = new();
    private readonly ConcurrentQueue<string> mappedOrder = new();
    private readonly ConcurrentDictionary<string, Lazy<double>> accuracy = new();
    private readonly ArchitectureCache architectures = new();

    public bool HasData => data is not null;

    /// <summary>Where accuracies are kept between runs (the study's database), if anywhere.</summary>
    public ResultStore? Accuracies { get; init; }

    /// <summary>How many accuracy runs were answered from the cache (for tests and the summary).</summary>
    public int AccuracyCacheHits => accuracyHits;

    /// <summary>How many times weights were cut into crossbar blocks (the rest reused a cutting).</summary>
    public int Mappings => mappings;

    private int accuracyHits;
    private int mappings;

    /// <summary>The full evaluation (compile + simulate), as <see cref="Simulate"/>.</summary>
    public PointResult Evaluate(DesignPoint point) => Simulate(point);

    /// <summary>The evaluation of a fidelity: estimate or simulate (auto is the explorer's business).</summary>
    public Func<DesignPoint, PointResult> At(Fidelity fidelity) => fidelity == Fidelity.Estimate ? Estimate : Simulate;

    /// <summary>Compiles and simulates a point; a user-level problem (an invalid architecture, a model that does not fit) makes an invalid row with the reason.</summary>
    public PointResult Simulate(DesignPoint point)
    {
        try
        {
            PointSettings s = PointSettings.Of(point, baseDevice, architectures);
            string qKey = QuantizationKey(s.Options);
            Compilation c = Compile(s, qKey);
            PerformanceInput input = PerformanceInputs.For(c, batch);
            input.Validate();
            PerformanceObjectives r = PerformanceReport.Objectives(input); // what a row keeps, as the full report computes it
            double? acc = data is null ? null : Accuracy(s, qKey, c);
            return PointResult.Of(point, r.Figures, r.LowerBoundLatencyNs, acc, "simulate");
        }
        catch (CimcException e)
        {
            return PointResult.Invalid(point, e.Message.ReplaceLineEndings(" "));
        }
    }

    /// <summary>
    /// Prices a point from its quantized model alone (<see cref="Estimator"/>); no lower bound. With
    /// labelled data its accuracy comes from the cache, compiling the point once for a quantization,
    /// geometry and device not seen yet.
    /// </summary>
    public PointResult Estimate(DesignPoint point)
    {
        try
        {
            PointSettings s = PointSettings.Of(point, baseDevice, architectures);
            string qKey = QuantizationKey(s.Options);
            Compilation q = quantized.GetOrAdd(qKey, _ => new Lazy<Compilation>(() => Quantize(s))).Value;
            bool shaped = s.Compile.Level != Passes.OptLevel.O0;
            Passes.OptLevel level = s.Compile.Level;
            Estimate e = Estimator.Of(q.Quantized!, s.Arch, batch, ring: shaped, tree: shaped, delivery: level >= Passes.OptLevel.O2, foldBias: level >= Passes.OptLevel.O2,
                replication: s.Compile.Replication ?? (level == Passes.OptLevel.O3 ? ReplicationChoice.Balance : ReplicationChoice.None), budget: s.Compile.ReplicationBudget);
            double? acc = data is null ? null : Accuracy(s, qKey, null);
            return PointResult.Of(point, e, null, acc, "estimate");
        }
        catch (CimcException e)
        {
            return PointResult.Invalid(point, e.Message.ReplaceLineEndings(" ")) with { Fidelity = "estimate" };
        }
    }

    /// <summary>
    /// The point's program, from the shared quantized model and crossbar cutting, through its level's
    /// passes without the verifiers between stages (as `cimc compile` runs by default), and without a
    /// weight image unless accuracy is measured.
    /// </summary>
    private Compilation Compile(PointSettings s, string qKey)
    {
        Compilation q = quantized.GetOrAdd(qKey, _ => new Lazy<Compilation>(() => Quantize(s))).Value;
        Passes.Pass map = Passes.PassCatalog.MapUsing((model, g) => Cut(qKey, model, g));
        Passes.CompileSettings settings = s.Compile with
        {
            Passes = [.. s.Compile.Pipeline().Select(p => p.Name == map.Name ? map : p)],
            Verify = false,
            WeightImage = data is not null, // only accuracy runs the weights
        };
        return Compiler.CompileQuantized(q, s.Arch, s.Options, source, settings: settings);
    }

    /// <summary>The crossbar blocks of a quantized model for a crossbar shape, cut once; the newest few are kept.</summary>
    private MappedModel Cut(string qKey, QuantizedModel model, CrossbarGeometry g)
    {
        string key = string.Create(CultureInfo.InvariantCulture, $"{qKey}|{g.Rows}x{g.Cols}c{g.CellBits}");
        MappedModel blocks = mapped.GetOrAdd(key, k => new Lazy<MappedModel>(() =>
        {
            Interlocked.Increment(ref mappings);
            mappedOrder.Enqueue(k);
            while (mappedOrder.Count > MappingsKept && mappedOrder.TryDequeue(out string? old))
            {
                mapped.TryRemove(old, out _);
            }

            return CrossbarMapper.Map(model, g);
        })).Value;
        return blocks with { Geometry = g }; // the converters' bits do not change the cells
    }

    private Compilation Quantize(PointSettings s)
    {
        Compilation q = Compiler.Compile(graph, s.Arch, s.Options, source, CompileStage.Quantized);
        var layers = q.Chain!.Layers.Select(l => l.Name).Concat(Enumerable.Range(0, q.Chain.Layers.Length).Select(i => i.ToString(CultureInfo.InvariantCulture))).ToHashSet();
        foreach (string layer in s.Options.PerLayer.Keys.Where(k => !layers.Contains(k)))
        {
            throw new CimcException("bad-option", $"weight-bits@{layer}", $"the model has no layer '{layer}' (layers: {string.Join(", ", q.Chain.Layers.Select(l => l.Name))}, or their indices 0 to {q.Chain.Layers.Length - 1})");
        }

        return q;
    }

    /// <summary>Accuracy on the labelled set, by the cache key; computed on <paramref name="c"/> (or a compile of the point) the first time, in memory and in <see cref="Accuracies"/>.</summary>
    private double Accuracy(PointSettings s, string qKey, Compilation? c)
    {
        var xb = s.Arch.Core.Crossbar;
        string key = string.Create(CultureInfo.InvariantCulture,
            $"{qKey}|{xb.Rows}x{xb.Cols}c{xb.CellBits}d{s.Arch.Core.Dac.Bits}a{s.Arch.Core.Adc.Bits}|{s.Device}");
        if (!s.Device.IsIdeal)
        {
            c ??= Compile(s, qKey);
            key += $"|{c.Program!.Arch}"; // a noisy device's draws follow the crossbars' places
        }

        bool computed = false;
        double value = accuracy.GetOrAdd(key, _ => new Lazy<double>(() =>
        {
            if (Accuracies?.FindAccuracy(key) is double stored)
            {
                return stored;
            }

            computed = true;
            Compilation program = c ?? Compile(s, qKey);
            var simulator = new FunctionalSimulator(program.Program!, program.Weights!, s.Device);
            double measured = Evaluation.Accuracy.Evaluate(simulator.Run, data!.Images, data.Labels).Accuracy;
            Accuracies?.InsertAccuracy(key, measured);
            return measured;
        })).Value;
        if (!computed)
        {
            Interlocked.Increment(ref accuracyHits);
        }

        return value;
    }

    /// <summary>Every field of the quantization options that changes the quantized model.</summary>
    private static string QuantizationKey(QuantizationOptions o) => string.Create(CultureInfo.InvariantCulture,
        $"w{o.WeightBits}a{o.ActivationBits}|{o.Granularity}|{o.SignedWeights}|{o.Calibration}|{o.AsymmetricActivations}|{o.AdcRange}|{o.RowsPerRead}|{o.ConvMapping}|")
        + string.Join(";", o.PerLayer.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}:{kv.Value.WeightBits}/{kv.Value.ActivationBits}"));
}
