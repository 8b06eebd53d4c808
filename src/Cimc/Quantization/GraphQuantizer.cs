using System.Collections.Immutable;
using Cimc.Data;
using Cimc.Diagnostics;
using Cimc.Ir;
using Cimc.Reference;

namespace Cimc.Quantization;

/// <summary>
/// The quantize pass for a convolutional network (docs/quantization.md, "Convolutional networks"):
/// float DAG + calibration samples + options -> <see cref="QuantizedModel"/> with a
/// <see cref="QuantizedGraph"/>. Expects a graph <see cref="LayerGraph.FromGraph"/> accepts;
/// guarantees that every value has one quantization, that a max pool's output and a concat's
/// inputs share their input's / output's, and that every crossbar layer is quantized exactly as a
/// dense layer of a chain (<see cref="Quantizer.QuantizeLayer"/>) on its im2col matrix.
/// Steps: canonicalize; calibrate every value the steps produce; group values that must share a
/// quantization (max pool in and out, concat in and out); give each group bits (the most any
/// crossbar layer reading it streams) and a range (the union of its members' samples); quantize.
/// </summary>
public static class GraphQuantizer
{
    /// <summary>Captured values per calibration source and model, kept as long as both are alive.</summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<SampleCalibration, System.Collections.Concurrent.ConcurrentDictionary<Graph, IReadOnlyDictionary<string, CapturedValue>>> Captures = [];

    public static (LayerChain Layers, QuantizedModel Model) Quantize(Graph graph, CalibrationSource? source, QuantizationOptions options)
    {
        options.Validate();
        SampleCalibration? calibration = source as SampleCalibration;
        if (calibration is null && !FileFixesAll(graph))
        {
            throw new CimcException("no-calibration", "--calibration-data",
                "a convolutional network is quantized from calibration samples: pass --calibration-data FILE (N x C x H x W images as .npy or IDX) or put calibration.npy beside the model");
        }

        Graph given = graph;
        NdArray? samples = null;
        if (calibration is not null)
        {
            FiniteValues.Check(calibration.Samples, $"calibration data ({calibration.Origin})");
            if (calibration.Samples.Data.Length > 0 && !calibration.Samples.Data.AsSpan().ContainsAnyExcept(0f))
            {
                throw new CimcException("bad-calibration", $"calibration data ({calibration.Origin})", "every value is zero, so every range would be empty; give real sample inputs");
            }

            samples = FloatExecutor.Conform(graph.Inputs[0].Type, calibration.Samples);
            graph = WithInputShape(graph, samples);
        }

        LayerGraph lg = LayerGraph.FromGraph(graph);
        ImmutableArray<GraphStep> steps = lg.Steps;

        // Slot 0 is the network input, slot s + 1 step s.
        var groups = new Groups(steps.Length + 1);
        JoinShared(lg, groups);

        int[] bits = GroupBits(lg, groups, options);
        string ValueOf(int slot) => slot == 0 ? lg.InputValue : steps[slot - 1].Value;
        FakeQuant? FileQuantOf(int slot) => slot == 0 ? lg.InputQuant : steps[slot - 1].FileQuant;
        Dictionary<int, FakeQuant> fileQuants = FileQuants(lg, groups, FileQuantOf);
        var wanted = new HashSet<string>(Enumerable.Range(0, steps.Length + 1).Select(ValueOf).Concat(lg.Layers.Select(l => l.PreActivation)), StringComparer.Ordinal);
        // The captured values depend only on the graph and the samples: a search that compiles one
        // model at many precisions (search-precision) runs the float network over them once.
        IReadOnlyDictionary<string, CapturedValue>? captured = calibration is null ? null
            : Captures.GetValue(calibration, _ => new(ReferenceEqualityComparer.Instance)).GetOrAdd(given, _ => GraphCalibration.Capture(graph, samples!, wanted));
        Range RangeOf(IEnumerable<string> values, int b) => captured is null
            ? throw new InvalidOperationException("quantize: a range asked for that the file fixes")
            : options.Calibration is MinMaxCalibration
            ? values.Select(v => captured[v].MinMax).Aggregate((a, r) => new Range(Math.Min(a.Min, r.Min), Math.Max(a.Max, r.Max)))
            : Calibration.RangeOf([.. values.SelectMany(v => captured[v].Values)], options.Calibration, b, options.AsymmetricActivations);

        // One range and quantization per group: the file's where it gives one (a ceiling is then
        // checked by the layer's quantization, as in a chain), else calibrated.
        var ranges = new Dictionary<int, Range>();
        var quants = new Dictionary<int, ActivationQuant>();
        foreach (IGrouping<int, int> group in Enumerable.Range(0, steps.Length + 1).GroupBy(groups.Find))
        {
            if (fileQuants.TryGetValue(group.Key, out FakeQuant? fq))
            {
                quants[group.Key] = ActivationQuant.FromFile(fq);
                continue;
            }

            Range range = WithinCeiling(lg, [.. group], RangeOf(group.Select(ValueOf), bits[group.Key]));
            ranges[group.Key] = range;
            quants[group.Key] = ActivationQuant.ForRange(range, bits[group.Key], options.AsymmetricActivations);
        }

        ActivationQuant QuantOf(int step) => quants[groups.Find(step + 1)];
        var layers = ImmutableArray.CreateBuilder<QuantizedLayer>();
        var nodes = ImmutableArray.CreateBuilder<QuantizedNode>(steps.Length);
        var notes = ImmutableArray.CreateBuilder<string>();
        for (int s = 0; s < steps.Length; s++)
        {
            GraphStep step = steps[s];
            ActivationQuant output = QuantOf(s);
            ActivationQuant In(int k) => QuantOf(step.Inputs[k]);
            nodes.Add(step switch
            {
                LayerStep l => LayerNode(l, s == steps.Length - 1),
                MaxPoolStep p => new MaxPoolNode(p.Name, p.Inputs, p.Shape, output, p.Window),
                AvgPoolStep p => new AvgPoolNode(p.Name, p.Inputs, p.Shape, output, p.Window, p.CountIncludePad),
                AddStep a => new AddNode(a.Name, a.Inputs, a.Shape, output, FixedPoint.FromReal(In(0).Scale / output.Scale), FixedPoint.FromReal(In(1).Scale / output.Scale), a.Relu),
                ConcatStep c => new ConcatNode(c.Name, c.Inputs, c.Shape, output),
                _ => throw new InvalidOperationException($"quantize: no case for {step.GetType().Name}"),
            });

            LayerNode LayerNode(LayerStep l, bool isLast)
            {
                int index = layers.Count, group = groups.Find(s + 1);
                Range Ranges(Quantizer.LayerPoint point, int b) => point switch
                {
                    Quantizer.LayerPoint.Output => ranges[group],
                    Quantizer.LayerPoint.PreActivation => RangeOf([l.PreActivation], b),
                    _ => throw new InvalidOperationException("quantize: a graph layer's input quantization is its producer's"),
                };
                ChainLayer chainLayer = fileQuants.TryGetValue(group, out FakeQuant? fq) ? l.Layer with { OutputQuant = fq } : l.Layer;
                QuantizedLayer layer = Quantizer.QuantizeLayer(chainLayer, Ranges, In(0), options.BitsFor(index, l.Name).WeightBits, bits[group], options, isLast, notes);
                if (!layer.OutputsAccumulator && layer.Output != output)
                {
                    throw new InvalidOperationException($"quantize: layer {l.Name} did not take its group's quantization");
                }

                layers.Add(layer);
                if (layer.OutputsAccumulator && l.FileQuant is not null)
                {
                    notes.Add($"layer {l.Name}: the file quantizes the network output; cimc returns the accumulator, dequantized by the host, instead");
                }

                // A last layer that outputs accumulators has no output codes; its node carries its input quantization as a placeholder.
                return new LayerNode(l.Name, l.Inputs, l.Shape, layer.Output ?? layer.Input, index, l.Conv);
            }
        }

        var quantizedGraph = new QuantizedGraph(lg.InputShape, nodes.MoveToImmutable()) { InputQuant = quants[groups.Find(0)] };
        var model = new QuantizedModel(lg.Name, options, layers.ToImmutable(), lg.SoftmaxAtEnd) { Notes = notes.ToImmutable(), Graph = quantizedGraph };
        return (new LayerChain(lg.Name, [.. lg.Layers.Select(l => l.Layer)], lg.SoftmaxAtEnd), model);
    }

    /// <summary>
    /// The file's quantization of each group that has one. The values of a group share one
    /// quantization on the chip (a max pool keeps its input's, a concat's inputs take its own), so
    /// two different ones in a group cannot be honoured and are refused in one line.
    /// </summary>
    private static Dictionary<int, FakeQuant> FileQuants(LayerGraph lg, Groups groups, Func<int, FakeQuant?> fileQuantOf)
    {
        var found = new Dictionary<int, (FakeQuant Quant, int Slot)>();
        string Name(int slot) => slot == 0 ? "the network input" : $"'{lg.Steps[slot - 1].Name}'";
        for (int slot = 0; slot <= lg.Steps.Length; slot++)
        {
            if (fileQuantOf(slot) is not { } fq)
            {
                continue;
            }

            int g = groups.Find(slot);
            if (found.TryGetValue(g, out var first) && first.Quant != fq)
            {
                throw new CimcException("unsupported-for-compile", $"node {Name(slot)}", FormattableString.Invariant(
                    $"the file quantizes its output (scale {fq.Scale:R}, zero point {fq.ZeroPoint}) unlike {Name(first.Slot)}'s (scale {first.Quant.Scale:R}, zero point {first.Quant.ZeroPoint}); cimc gives a max pool's input and output, and a concat's inputs and output, one quantization"));
            }

            found.TryAdd(g, (fq, slot));
        }

        return found.ToDictionary(p => p.Key, p => p.Value.Quant);
    }

    /// <summary>
    /// True unless the model is a QDQ file that quantizes every activation the quantizer would
    /// calibrate (a chain or a convolutional network), so that calibration samples would go unused.
    /// </summary>
    public static bool NeedsCalibration(Graph graph) =>
        !graph.Nodes.Any(n => n.Op is FakeQuant)
        || (LayerGraph.IsConvolutional(graph) ? !FileFixesAll(graph) : Quantizer.NeedsCalibration(LayerChain.FromGraph(graph)));

    /// <summary>
    /// True when the file quantizes every value calibration would measure: the network input, every
    /// step's output (a max pool or concat through its group), but a last layer's accumulators, and
    /// the pre-activation of every sigmoid, tanh or leaky relu layer. Then no samples are needed.
    /// </summary>
    private static bool FileFixesAll(Graph graph)
    {
        if (graph.Inputs.Length != 1 || graph.Inputs[0].Type.Dims.Skip(1).Any(d => d < 0) || !graph.Nodes.Any(n => n.Op is FakeQuant))
        {
            return false;
        }

        LayerGraph lg = LayerGraph.FromGraph(graph);
        var groups = new Groups(lg.Steps.Length + 1);
        JoinShared(lg, groups);
        var fixedGroups = new HashSet<int>(Enumerable.Range(0, lg.Steps.Length + 1)
            .Where(slot => (slot == 0 ? lg.InputQuant : lg.Steps[slot - 1].FileQuant) is not null).Select(groups.Find));
        return Enumerable.Range(0, lg.Steps.Length + 1).All(slot =>
            fixedGroups.Contains(groups.Find(slot))
            || (slot == lg.Steps.Length && lg.Steps[^1] is LayerStep { Layer.Activation: ActivationKind.None }))
            && lg.Layers.All(l => !l.Layer.UsesActivationUnit || l.Layer.PreActivationQuant is not null);
    }

    /// <summary>
    /// A model file need not record an image model's height and width (a PyTorch file does not):
    /// the calibration samples' shape gives them.
    /// </summary>
    private static Graph WithInputShape(Graph graph, NdArray samples)
    {
        ValueInfo input = graph.Inputs[0];
        if (input.Type.Dims.Skip(1).All(d => d >= 0))
        {
            return graph;
        }

        return graph with { Inputs = [input with { Type = input.Type with { Dims = [TensorType.Dynamic, .. samples.Shape.Skip(1)] } }] };
    }

    /// <summary>
    /// Bits per group: the most any crossbar layer reading one of its values streams (its
    /// activation bits, --precision per layer), a value read only by a pool, add or concat taking its
    /// reader's group's; the last layer's output keeps its own. Repeated until nothing changes
    /// (groups tie earlier values to later readers).
    /// </summary>
    private static int[] GroupBits(LayerGraph lg, Groups groups, QuantizationOptions options)
    {
        ImmutableArray<GraphStep> steps = lg.Steps;
        var layerIndex = new Dictionary<int, int>();
        foreach ((GraphStep step, int s) in steps.Select((st, s) => (st, s)).Where(p => p.st is LayerStep))
        {
            layerIndex[s] = layerIndex.Count;
        }

        var bits = new int[steps.Length + 1];
        var need = new int[steps.Length + 1];
        LayerStep last = (LayerStep)steps[^1];
        need[steps.Length] = options.BitsFor(layerIndex[steps.Length - 1], last.Name).ActivationBits;
        for (bool changed = true; changed;)
        {
            changed = false;
            for (int s = 0; s < steps.Length; s++)
            {
                foreach (int i in steps[s].Inputs)
                {
                    int reads = steps[s] is LayerStep l ? options.BitsFor(layerIndex[s], l.Name).ActivationBits : bits[groups.Find(s + 1)];
                    if (reads > need[i + 1])
                    {
                        need[i + 1] = reads;
                        changed = true;
                    }
                }
            }

            for (int slot = 0; slot < need.Length; slot++)
            {
                int g = groups.Find(slot);
                if (need[slot] > bits[g])
                {
                    bits[g] = need[slot];
                    changed = true;
                }
            }
        }

        for (int g = 0; g < bits.Length; g++)
        {
            bits[g] = bits[g] == 0 ? options.ActivationBits : bits[g];
        }

        return bits;
    }

    /// <summary>
    /// A ReLU with a ceiling (Clip(0, c)) is the ReLU clamp with the top code at c: alone in its
    /// group, a wider range is cut to [0, c] (as for a chain); sharing a quantization with values
    /// that reach beyond c, or with another ceiling, it cannot be compiled.
    /// </summary>
    private static Range WithinCeiling(LayerGraph lg, int[] slots, Range range)
    {
        var clipped = slots.Where(s => s > 0 && lg.Steps[s - 1] is LayerStep l && float.IsFinite(l.Layer.Ceiling)).Select(s => (LayerStep)lg.Steps[s - 1]).ToList();
        if (clipped.Count == 0)
        {
            return range;
        }

        float ceiling = clipped[0].Layer.Ceiling;
        if (slots.Length == 1)
        {
            return range.Max <= ceiling ? range : new Range(0, ceiling);
        }

        if (range.Max > ceiling || clipped.Any(l => l.Layer.Ceiling != ceiling))
        {
            string others = string.Join(", ", slots.Where(s => s == 0 || lg.Steps[s - 1] != clipped[0]).Select(s => s == 0 ? "the network input" : $"'{lg.Steps[s - 1].Name}'"));
            throw new CimcException("unsupported-for-compile", $"layer {clipped[0].Name}",
                FormattableString.Invariant($"its clip at {ceiling} must share one quantization with {others} (a concat or max pool joins them), whose values reach {range.Max:G6}; cimc compiles the clip as the top code and cannot do both"));
        }

        return range;
    }

    /// <summary>A max pool's or concat's output shares its inputs' quantization.</summary>
    private static void JoinShared(LayerGraph lg, Groups groups)
    {
        for (int s = 0; s < lg.Steps.Length; s++)
        {
            if (lg.Steps[s] is MaxPoolStep or ConcatStep)
            {
                foreach (int i in lg.Steps[s].Inputs)
                {
                    groups.Join(i + 1, s + 1);
                }
            }
        }
    }

    /// <summary>Union-find over value slots.</summary>
    private sealed class Groups(int count)
    {
        private readonly int[] _parent = [.. Enumerable.Range(0, count)];

        public int Find(int slot)
        {
            while (_parent[slot] != slot)
            {
                slot = _parent[slot] = _parent[_parent[slot]];
            }

            return slot;
        }

        public void Join(int a, int b)
        {
            int ra = Find(a), rb = Find(b);
            if (ra != rb)
            {
                _parent[Math.Max(ra, rb)] = Math.Min(ra, rb);
            }
        }
    }
}
