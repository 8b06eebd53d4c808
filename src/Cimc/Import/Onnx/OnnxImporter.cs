using System.Collections.Immutable;
using Cimc.Diagnostics;
using Cimc.Import.Onnx.Proto;
using Cimc.Ir;
using Google.Protobuf;
using DataType = Cimc.Import.Onnx.Proto.TensorProto.Types.DataType;

namespace Cimc.Import.Onnx;

/// <summary>
/// Reads an ONNX model (default domain, opsets 7 to 25) into a verified float <see cref="Graph"/>.
/// Opsets 22 to 25 change the ops cimc reads only by adding element types (bfloat16, float8, int4)
/// and Q/DQ attributes, which are refused where they matter; opsets 7 and 8 differ from 9 only in
/// ops cimc does not read.
/// Steps: parse the protobuf; check the opset; find the one real graph input (older exporters
/// also list initializers as inputs) and the one output; sort the nodes; drop nodes the output
/// does not depend on; lower each node (<see cref="OnnxLowering"/>); verify.
/// Every problem with the file is a <see cref="CimcException"/> naming the node, initializer or
/// value concerned.
/// </summary>
public static class OnnxImporter
{
    public const long MinOpset = 7;
    public const long MaxOpset = 25;

    /// <summary>The file budget's bytes plus room for the graph itself.</summary>
    public const long MaxFileBytes = ReadBudget.MaxBytes + (64L << 20);

    public static Graph Import(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new CimcException("file-not-found", path, "no such file");
        }

        // The whole file is parsed in memory (and raw data copied once more); past the file budget of
        // values there is nothing cimc could import anyway.
        if (info.Length > MaxFileBytes)
        {
            throw new CimcException("file-too-large", path,
                $"the file is {info.Length} bytes; cimc reads ONNX files up to {MaxFileBytes} bytes ({ReadBudget.MaxElements} float32 weights and the graph)");
        }

        return Import(File.ReadAllBytes(path), path);
    }

    /// <summary>Imports a model held in memory; <paramref name="source"/> is where messages say it came from.</summary>
    public static Graph Import(byte[] bytes, string source)
    {
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new CimcException("onnx-invalid", source, $"not a valid ONNX model: {e.Message}");
        }

        return Import(model, Path.GetFileNameWithoutExtension(source));
    }

    /// <summary>Imports a parsed model; <paramref name="fallbackName"/> names the graph when the file does not.</summary>
    public static Graph Import(ModelProto model, string fallbackName)
    {
        GraphProto graph = model.Graph
            ?? throw new CimcException("onnx-no-graph", fallbackName, "the model has no graph (is this an ONNX file?)");
        if (graph.Node.Count == 0)
        {
            throw new CimcException("onnx-no-nodes", fallbackName, "the model's graph has no nodes");
        }

        long opset = DefaultOpset(model, fallbackName);
        var initializers = new Dictionary<string, TensorProto>(StringComparer.Ordinal);
        foreach (TensorProto t in graph.Initializer)
        {
            if (!initializers.TryAdd(t.Name, t))
            {
                throw new CimcException("onnx-duplicate-value", $"initializer '{t.Name}'", "is defined twice");
            }
        }

        List<ValueInfoProto> inputs = [.. graph.Input.Where(i => !initializers.ContainsKey(i.Name))];
        string[] names = [.. graph.Node.Select((n, i) => n.Name.Length > 0 ? n.Name : $"op_{i}")];
        string Where(int i) => $"node '{names[i]}' ({graph.Node[i].OpType}, opset {opset})";

        // Structure first (a cycle or a dangling input says more about a broken file than its input count).
        var defined = new HashSet<string>(initializers.Keys.Concat(inputs.Select(i => i.Name)), StringComparer.Ordinal);
        int[] order = OnnxGraphSorter.Sort(graph.Node, defined, Where);
        ValueInfoProto input = Single(inputs, "input", fallbackName);
        ValueInfoProto output = Single([.. graph.Output], "output", fallbackName);
        int[] live = LiveNodes(graph.Node, order, output.Name);

        var lowering = new OnnxLowering(opset, initializers, CountUses(graph.Node, live, output.Name));
        string inputName = lowering.AddInput(input.Name, InputType(input));
        foreach (int i in live)
        {
            lowering.Lower(graph.Node[i], names[i], Where(i));
        }

        (string outName, TensorType outType) = lowering.Output(output.Name);
        CheckDeclaredShape(output, outType);
        string graphName = graph.Name.Length > 0 ? OnnxLowering.Sanitize(graph.Name) : fallbackName;
        var result = new Graph(graphName, [new ValueInfo(inputName, InputType(input))], [.. lowering.Nodes], [new ValueInfo(outName, outType)]);
        return GraphVerifier.EnsureValid(result);
    }

    /// <summary>The version of the default ("" or "ai.onnx") operator set the model imports.</summary>
    private static long DefaultOpset(ModelProto model, string where)
    {
        OperatorSetIdProto? id = model.OpsetImport.FirstOrDefault(o => o.Domain is "" or "ai.onnx");
        if (id is null)
        {
            throw new CimcException("onnx-opset", where, "the model imports no default-domain opset");
        }

        if (id.Version is < MinOpset or > MaxOpset)
        {
            throw new CimcException("onnx-opset", where,
                $"opset {id.Version} is not supported; cimc reads opsets {MinOpset} to {MaxOpset} (re-export with e.g. opset_version=17)");
        }

        return id.Version;
    }

    private static ValueInfoProto Single(List<ValueInfoProto> values, string what, string where) => values.Count switch
    {
        1 => values[0],
        0 => throw new CimcException("onnx-graph-" + what, where, $"the graph has no {what}"),
        _ => throw new CimcException("onnx-graph-" + what, where,
            $"the graph has {values.Count} {what}s ({string.Join(", ", values.Select(v => $"'{v.Name}'"))}); cimc compiles graphs with one {what}"),
    };

    /// <summary>
    /// The graph input's type. Float and double inputs are accepted; a dimension given by name
    /// (dim_param), left out, or not positive is dynamic (typically the batch).
    /// </summary>
    private static TensorType InputType(ValueInfoProto input)
    {
        string where = $"graph input '{input.Name}'";
        TypeProto.Types.Tensor tensor = input.Type?.TensorType
            ?? throw new CimcException("onnx-input-type", where, "is not a tensor");
        ElementType element = (DataType)tensor.ElemType switch
        {
            DataType.Float => ElementType.Float32,
            DataType.Double => ElementType.Float64,
            _ => throw new CimcException("onnx-input-type", where, $"has element type {OnnxTensors.Name(tensor.ElemType)}; cimc accepts FLOAT or DOUBLE inputs"),
        };
        if (tensor.Shape is null)
        {
            throw new CimcException("onnx-input-shape", where, "has no shape; cimc needs at least the input's rank");
        }

        ImmutableArray<int> dims = [.. tensor.Shape.Dim.Select(d =>
            d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue && d.DimValue > 0 ? Narrow(d.DimValue, where) : TensorType.Dynamic)];

        // Bound the known dimensions so that later shape arithmetic cannot overflow.
        Limits.CheckedElementCount(dims.Where(d => d > 0).Select(d => (long)d), where);
        return new TensorType(element, dims);
    }

    private static int Narrow(long dim, string where) => dim <= int.MaxValue
        ? (int)dim
        : throw new CimcException("tensor-too-large", where, $"dimension {dim} is too large");

    /// <summary>
    /// The declared output shape must agree with the computed one: the rank, and every dimension
    /// both give as a number (a fixed batch of 3 in the input cannot become 2 in the output).
    /// </summary>
    private static void CheckDeclaredShape(ValueInfoProto output, TensorType computed)
    {
        TensorShapeProto? shape = output.Type?.TensorType?.Shape;
        if (shape is null)
        {
            return;
        }

        string where = $"graph output '{output.Name}'";
        if (shape.Dim.Count != computed.Rank)
        {
            throw new CimcException("shape-mismatch", where, $"is declared with rank {shape.Dim.Count} but the graph computes {computed}");
        }

        for (int d = 0; d < computed.Rank; d++)
        {
            TensorShapeProto.Types.Dimension dim = shape.Dim[d];
            bool fixedDeclared = dim.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue && dim.DimValue > 0;
            if (fixedDeclared && computed.Dims[d] >= 0 && dim.DimValue != computed.Dims[d])
            {
                string declared = string.Join(",", shape.Dim.Select(x => x.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? x.DimValue.ToString(System.Globalization.CultureInfo.InvariantCulture) : "?"));
                throw new CimcException("shape-mismatch", where,
                    $"is declared [{declared}] but the graph computes {computed}{(d == 0 ? " (the batch sizes differ)" : "")}");
            }
        }
    }

    /// <summary>
    /// Nodes the output depends on, in sorted order. Exporters sometimes leave unused nodes behind
    /// (shape computations, an unused Dropout mask); they need no support.
    /// </summary>
    private static int[] LiveNodes(IReadOnlyList<NodeProto> nodes, int[] order, string output)
    {
        var needed = new HashSet<string>(StringComparer.Ordinal) { output };
        var live = new List<int>();
        for (int k = order.Length - 1; k >= 0; k--)
        {
            NodeProto node = nodes[order[k]];
            if (node.Output.Any(needed.Contains))
            {
                live.Add(order[k]);
                needed.UnionWith(node.Input.Where(i => i.Length > 0));
            }
        }

        live.Reverse();
        return [.. live];
    }

    /// <summary>How many times each value is read by live nodes, plus one for the graph output.</summary>
    private static Dictionary<string, int> CountUses(IReadOnlyList<NodeProto> nodes, int[] live, string output)
    {
        var uses = new Dictionary<string, int>(StringComparer.Ordinal) { [output] = 1 };
        foreach (int i in live)
        {
            foreach (string input in nodes[i].Input.Where(n => n.Length > 0))
            {
                uses[input] = uses.GetValueOrDefault(input) + 1;
            }
        }

        return uses;
    }
}
