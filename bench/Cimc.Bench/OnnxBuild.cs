using Cimc.Import.Onnx.Proto;
using Google.Protobuf;
using DataType = Cimc.Import.Onnx.Proto.TensorProto.Types.DataType;

namespace Cimc.Bench;

/// <summary>
/// The few protobuf pieces the generated benchmark models (MLP-L4, ResNet-18) are made of, written with
/// cimc's own ONNX classes so the bench needs no exporter. Also linked into the tests, which check the
/// generated ResNet against ONNX Runtime.
/// </summary>
public static class OnnxBuild
{
    /// <summary>A float32 initializer in little-endian raw_data, as torch.onnx.export writes weights.</summary>
    public static TensorProto Floats(string name, long[] dims, float[] data)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("raw_data is little-endian");
        }

        var t = new TensorProto { Name = name, DataType = (int)DataType.Float };
        t.Dims.AddRange(dims);
        var bytes = new byte[data.Length * sizeof(float)];
        Buffer.BlockCopy(data, 0, bytes, 0, bytes.Length);
        t.RawData = ByteString.CopyFrom(bytes);
        return t;
    }

    public static NodeProto Node(string op, string[] inputs, string output, string name, params AttributeProto[] attributes) =>
        Node(op, inputs, [output], name, attributes);

    public static NodeProto Node(string op, string[] inputs, string[] outputs, string name, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = name };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        return node;
    }

    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    public static AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    /// <summary>A float value [N, dims...] with a dynamic batch (dim_param "N").</summary>
    public static ValueInfoProto Value(string name, params long[] dims)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "N" });
        foreach (long d in dims)
        {
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)DataType.Float, Shape = shape } },
        };
    }

    /// <summary>A model of one graph at the default ONNX domain's opset.</summary>
    public static ModelProto Model(GraphProto graph, long opset)
    {
        var model = new ModelProto { IrVersion = 8, ProducerName = "cimc-bench", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        return model;
    }

    /// <summary>Values uniform in +-bound.</summary>
    public static float[] Uniform(Random rng, int count, float bound)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = ((float)rng.NextDouble() * 2f - 1f) * bound;
        }

        return values;
    }
}
