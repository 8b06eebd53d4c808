using Cimc.Data;
using Cimc.Diagnostics;
using Cimc.Ir;
using Cimc.Reference;

namespace Cimc.Quantization;

/// <summary>
/// One float value of the graph over the calibration samples: its exact min-max range and its
/// values, every one or (for a large tensor) an evenly strided subset of at most 2^17, which is
/// all the percentile and MSE searches use anyway (<see cref="Calibration"/>).
/// </summary>
public sealed record CapturedValue(Range MinMax, float[] Values);

/// <summary>
/// Calibration of a DAG: runs the float reference (<see cref="FloatExecutor"/>) over the samples a
/// few at a time, keeps the values asked for, and drops every other one after its last reader,
/// so a deep network on many samples holds little.
/// </summary>
public static class GraphCalibration
{
    private const int MaxValues = 1 << 17;
    private const int Chunk = 32;

    public static IReadOnlyDictionary<string, CapturedValue> Capture(Graph graph, NdArray samples, IReadOnlySet<string> wanted)
    {
        if (samples.Rows == 0)
        {
            throw new CimcException("bad-calibration", "calibration", "the calibration set is empty");
        }

        var lastUse = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < graph.Nodes.Length; i++)
        {
            foreach (string name in graph.Nodes[i].Inputs)
            {
                lastUse[name] = i;
            }
        }

        var captured = new Dictionary<string, Collector>(StringComparer.Ordinal);
        int perSample = samples.RowLength;
        for (int first = 0; first < samples.Rows; first += Chunk)
        {
            int rows = Math.Min(Chunk, samples.Rows - first);
            var chunk = new NdArray([rows, .. samples.Shape.Skip(1)], samples.Data.AsSpan(first * perSample, rows * perSample).ToArray());
            var values = new Dictionary<string, NdArray>(StringComparer.Ordinal) { [graph.Inputs[0].Name] = chunk };
            Keep(graph.Inputs[0].Name, chunk);
            for (int i = 0; i < graph.Nodes.Length; i++)
            {
                Node node = graph.Nodes[i];
                NdArray y = FloatExecutor.Apply(node, [.. node.Inputs.Select(name => values[name])]);
                values[node.Output] = y;
                Keep(node.Output, y);
                foreach (string name in node.Inputs.Where(name => lastUse[name] == i))
                {
                    values.Remove(name);
                }
            }

            void Keep(string name, NdArray value)
            {
                if (wanted.Contains(name))
                {
                    if (!captured.TryGetValue(name, out Collector? c))
                    {
                        captured[name] = c = new Collector((long)samples.Rows * (value.Data.Length / rows));
                    }

                    c.Add(value.Data);
                }
            }
        }

        return captured.ToDictionary(p => p.Key, p => p.Value.Result(), StringComparer.Ordinal);
    }

    /// <summary>Accumulates one value's range and a strided subset of its elements, chunk after chunk.</summary>
    private sealed class Collector(long total)
    {
        private readonly long _step = Math.Max(1, (total + MaxValues - 1) / MaxValues);
        private readonly List<float> _values = [];
        private long _seen;
        private double _min = double.PositiveInfinity, _max = double.NegativeInfinity;

        public void Add(float[] data)
        {
            foreach (float v in data)
            {
                if (float.IsFinite(v))
                {
                    _min = Math.Min(_min, v);
                    _max = Math.Max(_max, v);
                }
            }

            long start = (_step - (_seen % _step)) % _step;
            for (long i = start; i < data.Length; i += _step)
            {
                _values.Add(data[i]);
            }

            _seen += data.Length;
        }

        public CapturedValue Result() => new(double.IsInfinity(_min) ? new Range(0, 0) : new Range(_min, _max), [.. _values]);
    }
}
