using Cimc.Import.Onnx.Proto;
using Google.Protobuf;
using DataType = Cimc.Import.Onnx.Proto.TensorProto.Types.DataType;

namespace Cimc.Tests.Import;

/// <summary>
/// Builds small ONNX models in memory with cimc's own generated protobuf classes, so importer tests
/// need no exporter. ONNX Runtime runs the same bytes, which checks both the field numbers of
/// cimc's onnx.proto and the meaning cimc gives to each op.
/// </summary>
internal static class OnnxModels
{
    public static ModelProto Model(IEnumerable<NodeProto> nodes, IEnumerable<TensorProto> initializers, long[] inputDims, int outputRank = 2, long opset = 13, string input = "x", string output = "y")
    {
        var graph = new GraphProto { Name = "test" };
        graph.Node.AddRange(nodes);
        graph.Initializer.AddRange(initializers);
        graph.Input.Add(Value(input, inputDims));
        graph.Output.Add(Value(output, [.. Enumerable.Repeat(-1L, outputRank)]));
        var model = new ModelProto { IrVersion = 10, ProducerName = "cimc-tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        return model;
    }

    /// <summary>A float tensor value; a dimension of -1 is dynamic (dim_param "N").</summary>
    public static ValueInfoProto Value(string name, long[] dims, DataType element = DataType.Float)
    {
        var shape = new TensorShapeProto();
        foreach (long d in dims)
        {
            shape.Dim.Add(d < 0 ? new TensorShapeProto.Types.Dimension { DimParam = "N" } : new TensorShapeProto.Types.Dimension { DimValue = d });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)element, Shape = shape } },
        };
    }

    public static NodeProto Node(string op, string[] inputs, string[] outputs, string name = "", params AttributeProto[] attributes) =>
        Bench.OnnxBuild.Node(op, inputs, outputs, name, attributes);

    public static AttributeProto Int(string name, long value) => Bench.OnnxBuild.Int(name, value);

    public static AttributeProto Ints(string name, params long[] values) => Bench.OnnxBuild.Ints(name, values);

    public static AttributeProto Text(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    public static AttributeProto Float(string name, float value) => Bench.OnnxBuild.Float(name, value);

    public static AttributeProto Tensor(string name, TensorProto value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Tensor, T = value };

    /// <summary>A float32 tensor in float_data, or in little-endian raw_data.</summary>
    public static TensorProto Floats(string name, long[] dims, float[] data, bool raw = false)
    {
        var t = new TensorProto { Name = name, DataType = (int)DataType.Float };
        t.Dims.AddRange(dims);
        if (raw)
        {
            t.RawData = ByteString.CopyFrom(data.SelectMany(BitConverter.GetBytes).ToArray());
        }
        else
        {
            t.FloatData.AddRange(data);
        }

        return t;
    }

    public static TensorProto Doubles(string name, long[] dims, float[] data, bool raw = false)
    {
        var t = new TensorProto { Name = name, DataType = (int)DataType.Double };
        t.Dims.AddRange(dims);
        if (raw)
        {
            t.RawData = ByteString.CopyFrom(data.SelectMany(v => BitConverter.GetBytes((double)v)).ToArray());
        }
        else
        {
            t.DoubleData.AddRange(data.Select(v => (double)v));
        }

        return t;
    }

    /// <summary>A float16 tensor, in raw_data or as 16-bit patterns in int32_data.</summary>
    public static TensorProto Halves(string name, long[] dims, float[] data, bool raw = false)
    {
        var t = new TensorProto { Name = name, DataType = (int)DataType.Float16 };
        t.Dims.AddRange(dims);
        ushort[] bits = [.. data.Select(v => BitConverter.HalfToUInt16Bits((Half)v))];
        if (raw)
        {
            t.RawData = ByteString.CopyFrom(bits.SelectMany(BitConverter.GetBytes).ToArray());
        }
        else
        {
            t.Int32Data.AddRange(bits.Select(b => (int)b));
        }

        return t;
    }

    public static TensorProto Longs(string name, params long[] data)
    {
        var t = new TensorProto { Name = name, DataType = (int)DataType.Int64 };
        t.Dims.Add(data.Length);
        t.Int64Data.AddRange(data);
        return t;
    }

    /// <summary>Deterministic values in [-1, 1), scaled.</summary>
    public static float[] Random(int count, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => ((float)rng.NextDouble() * 2f - 1f) * scale)];
    }

    public static string Save(ModelProto model)
    {
        string path = Path.Combine(Path.GetTempPath(), $"cimc-onnx-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, model.ToByteArray());
        return path;
    }
}
