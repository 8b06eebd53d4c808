using Cimc.Import.Onnx.Proto;
using Google.Protobuf;

namespace Cimc.Tests.Fuzz;

/// <summary>
/// Mutations that know the ONNX protobuf: a field of the parsed model (a dimension, an element
/// type, raw data, an op type, a node or value name, an attribute, the opset, the graph's inputs
/// and outputs) is edited and the model serialized again, so the edit reaches the importer's
/// checks instead of the protobuf parser's.
/// </summary>
internal static class OnnxMutations
{
    /// <summary>Names a hostile file might carry: terminal escapes, NUL, control bytes, ops cimc may or may not read.</summary>
    private static readonly string[] Names =
    [
        "\u001b[2J\u001b[H", "Relu\0", "a\nb", "\u0007bell", "\u009b31m", "\u202Egnp.exe", "", "Conv", "LogSoftmax", "Clip",
        "Transpose", "Dropout", "Gemm", "MatMul", "Add", "Softmax", "Cast", "Constant", "Reshape", "Flatten", "Identity",
    ];

    private static readonly long[] Dims = [0, 1, -1, 2, 3, 4, 1L << 20, 1L << 31, 1L << 40, long.MaxValue, long.MinValue];

    public static (byte[] Bytes, string What) Any(Random rng, byte[] seed)
    {
        ModelProto model = ModelProto.Parser.ParseFrom(seed);
        string what = Edit(rng, model);
        return (model.ToByteArray(), what);
    }

    private static string Edit(Random rng, ModelProto model)
    {
        GraphProto g = model.Graph;
        NodeProto? node = g.Node.Count > 0 ? g.Node[rng.Next(g.Node.Count)] : null;
        TensorProto? init = g.Initializer.Count > 0 ? g.Initializer[rng.Next(g.Initializer.Count)] : null;
        switch (rng.Next(14))
        {
            case 0 when init is not null && init.Dims.Count > 0:
                {
                    int d = rng.Next(init.Dims.Count);
                    init.Dims[d] = Dims[rng.Next(Dims.Length)];
                    return $"initializer '{init.Name}' dim {d} = {init.Dims[d]}";
                }

            case 1 when init is not null:
                init.DataType = rng.Next(28);
                return $"initializer '{init.Name}' data_type = {init.DataType}";
            case 2 when init is not null && !init.RawData.IsEmpty:
                init.RawData = ByteString.CopyFrom(init.RawData.Span[..rng.Next(init.RawData.Length)]);
                return $"initializer '{init.Name}' raw_data cut to {init.RawData.Length}";
            case 3 when init is not null && init.Dims.Count > 0:
                {
                    // A consistent empty tensor: passes the size checks and reaches the compiler.
                    int d = rng.Next(init.Dims.Count);
                    init.Dims[d] = 0;
                    init.RawData = ByteString.Empty;
                    init.FloatData.Clear();
                    init.Int32Data.Clear();
                    init.Int64Data.Clear();
                    init.DoubleData.Clear();
                    return $"initializer '{init.Name}' emptied by dim {d} = 0";
                }
            case 4 when node is not null:
                node.OpType = Names[rng.Next(Names.Length)];
                return $"op_type = {Escape(node.OpType)}";
            case 5 when node is not null:
                node.Name = Names[rng.Next(Names.Length)];
                return $"node name = {Escape(node.Name)}";
            case 6 when node is not null && node.Input.Count > 0:
                {
                    string[] values = [.. g.Node.SelectMany(n => n.Output), .. g.Initializer.Select(i => i.Name), .. g.Input.Select(i => i.Name), "", "\u001b]0;x\u0007"];
                    int i = rng.Next(node.Input.Count);
                    node.Input[i] = values[rng.Next(values.Length)];
                    return $"node input {i} = {Escape(node.Input[i])}";
                }

            case 7 when node is not null && node.Attribute.Count > 0:
                {
                    AttributeProto a = node.Attribute[rng.Next(node.Attribute.Count)];
                    a.I = Dims[rng.Next(Dims.Length)];
                    a.F = rng.Next(3) switch { 0 => float.NaN, 1 => 1e30f, _ => -1f };
                    a.Type = (AttributeProto.Types.AttributeType)rng.Next(15);
                    return $"attribute '{a.Name}' = type {a.Type}, i {a.I}, f {a.F}";
                }

            case 8:
                model.OpsetImport[0].Version = new long[] { 0, 1, 6, 7, 8, 12, 22, 25, 26, long.MaxValue }[rng.Next(10)];
                return $"opset = {model.OpsetImport[0].Version}";
            case 9 when g.Input.Count > 0 && g.Input[0].Type?.TensorType?.Shape is { } shape && shape.Dim.Count > 0:
                {
                    int d = rng.Next(shape.Dim.Count);
                    shape.Dim[d] = new TensorShapeProto.Types.Dimension { DimValue = Dims[rng.Next(Dims.Length)] };
                    return $"graph input dim {d} = {shape.Dim[d].DimValue}";
                }

            case 10 when g.Input.Count > 0 && g.Input[0].Type?.TensorType is { } tt:
                tt.ElemType = rng.Next(28);
                return $"graph input elem_type = {tt.ElemType}";
            case 11 when node is not null:
                g.Node.Remove(node);
                return $"node '{node.Name}' removed";
            case 12 when node is not null:
                g.Node.Insert(rng.Next(g.Node.Count + 1), node.Clone());
                return $"node '{node.Name}' duplicated";
            default:
                if (g.Output.Count > 0 && rng.Next(2) == 0)
                {
                    g.Output[0].Name = Names[rng.Next(Names.Length)];
                    return $"graph output name = {Escape(g.Output[0].Name)}";
                }

                g.Initializer.Clear();
                return "initializers removed";
        }
    }

    private static string Escape(string s) => string.Concat(s.Select(c => char.IsControl(c) ? $"\\u{(int)c:X4}" : c.ToString()));
}
