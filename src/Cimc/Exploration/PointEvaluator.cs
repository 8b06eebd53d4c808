using System.Collections.Concurrent;
using System.Globalization;
using Cimc.Data;
using Cimc.Diagnostics;
using Cimc.Evaluation;
using Cimc.Ir;
using Cimc.Performance;
using Cimc.Quantization;
using Cimc.Simulation;
using Cimc.Simulation.Devices;

namespace Cimc.Exploration;

/// <summary>A labelled data set for the accuracy objective.</summary>
public sealed record LabelledSet(NdArray Images, Labels Labels);

/// <summary>
/// Evaluates design points of one model: compile (Compiler), price (PerformanceReport.Evaluate) and,
/// with labelled data, accuracy on the bit-exact simulator. Thread-safe, so points run in parallel.
/// Stage results are shared between points: the quantized model per quantization setting (it does
/// not depend on the chip), and accuracy per quantization, crossbar geometry and device (it does
/// not depend on tiles, cores or placement: the simulator is bit-exact whatever the placement).
/// </summary>
public sealed class PointEvaluator(Graph graph, NdArray? calibration, LabelledSet? data, DeviceModel baseDevice, int batch)
{
    private readonly CalibrationSource? source = calibration is null ? null : new SampleCalibration(calibration, "the calibration samples");
    private readonly ConcurrentDictionary<string, Lazy<Compilation>> quantized = new();
    private readonly ConcurrentDictionary<string, Lazy<double>> accuracy = new();

    public bool HasData => data is not null;

    /// <summary>How many accuracy runs were answered from the cache (for tests and the summary).</summary>
    public int AccuracyCacheHits => accuracyHits;

    private int accuracyHits;

    /// <summary>Evaluates a point; a user-level problem (an invalid architecture, a model that does not fit) makes an invalid row with the reason.</summary>
    public PointResult Evaluate(DesignPoint point)
    {
        try
        {
            PointSettings s = PointSettings.Of(point, baseDevice);
            string qKey = QuantizationKey(s.Options);
            Compilation q = quantized.GetOrAdd(qKey, _ => new Lazy<Compilation>(() => Quantize(s))).Value;
            Compilation c = Compiler.CompileQuantized(q, s.Arch, s.Options, source, settings: s.Compile);
            PerformanceInput input = PerformanceInputs.For(c, batch);
            input.Validate();
            PerformanceReport r = PerformanceReport.Evaluate(input, graph.Name);
            double? acc = data is null ? null : Accuracy(s, qKey, c);
            return new PointResult(point.Key, point.Canonical(), true, null, r.LatencyNs, r.ThroughputPerS, r.EnergyNj, r.AreaMm2, acc,
                r.CrossbarsUsed, r.CoresUsed, r.LowerBoundLatencyNs, r.TopsPerW, r.TopsPerMm2);
        }
        catch (CimcException e)
        {
            return PointResult.Invalid(point, e.Message.ReplaceLineEndings(" "));
        }
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

    private double Accuracy(PointSettings s, string qKey, Compilation c)
    {
        var xb = s.Arch.Core.Crossbar;
        string key = string.Create(CultureInfo.InvariantCulture,
            $"{qKey}|{xb.Rows}x{xb.Cols}c{xb.CellBits}d{s.Arch.Core.Dac.Bits}a{s.Arch.Core.Adc.Bits}|{s.Device}")
            + (s.Device.IsIdeal ? "" : $"|{c.Program!.Arch}"); // a noisy device's draws follow the crossbars' places
        bool computed = false;
        double value = accuracy.GetOrAdd(key, _ => new Lazy<double>(() =>
        {
            computed = true;
            var simulator = new FunctionalSimulator(c.Program!, c.Weights!, s.Device);
            return Evaluation.Accuracy.Evaluate(simulator.Run, data!.Images, data.Labels).Accuracy;
        })).Value;
        if (!computed)
        {
            Interlocked.Increment(ref accuracyHits);
        }

        return value;
    }

    /// <summary>Every field of the quantization options that changes the quantized model.</summary>
    private static string QuantizationKey(QuantizationOptions o) => string.Create(CultureInfo.InvariantCulture,
        $"w{o.WeightBits}a{o.ActivationBits}|{o.Granularity}|{o.SignedWeights}|{o.Calibration}|{o.AsymmetricActivations}|{o.AdcRange}|{o.RowsPerRead}|")
        + string.Join(";", o.PerLayer.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}:{kv.Value.WeightBits}/{kv.Value.ActivationBits}"));
}
