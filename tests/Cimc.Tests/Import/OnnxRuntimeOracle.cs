using Cimc.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Cimc.Tests.Import;

/// <summary>ONNX Runtime as an independent reference: runs a model file on an input.</summary>
internal static class OnnxRuntimeOracle
{
    /// <summary>
    /// Runs the model's single input and output. The input is reshaped to the model's rank when only
    /// the per-sample layout differs (e.g. [N,784] data for a [N,1,28,28] model), and converted
    /// to double for a double input; a double output is returned as float. ONNX Runtime optimizes
    /// the graph by default; QDQ models are then fused into integer kernels (QLinearMatMul), so tests
    /// of the ops' own semantics pass <see cref="GraphOptimizationLevel.ORT_DISABLE_ALL"/>.
    /// </summary>
    public static float[] Run(string modelPath, NdArray input, GraphOptimizationLevel optimization = GraphOptimizationLevel.ORT_ENABLE_ALL)
    {
        using var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR, GraphOptimizationLevel = optimization };
        using var session = new InferenceSession(modelPath, options);
        (string name, NodeMetadata meta) = session.InputMetadata.Single();
        long[] shape = Shape(meta.Dimensions, input);
        using OrtValue value = meta.ElementDataType == TensorElementType.Double
            ? OrtValue.CreateTensorValueFromMemory(Array.ConvertAll(input.Data, v => (double)v), shape)
            : OrtValue.CreateTensorValueFromMemory(input.Data, shape);
        string outputName = session.OutputMetadata.Keys.Single();
        using var runOptions = new RunOptions();
        using IDisposableReadOnlyCollection<OrtValue> results = session.Run(runOptions, [name], [value], [outputName]);
        return session.OutputMetadata[outputName].ElementDataType == TensorElementType.Double
            ? Array.ConvertAll(results[0].GetTensorDataAsSpan<double>().ToArray(), v => (float)v)
            : results[0].GetTensorDataAsSpan<float>().ToArray();
    }

    private static long[] Shape(int[] declared, NdArray input)
    {
        if (declared.Length == input.Rank)
        {
            return [.. input.Shape.Select(d => (long)d)];
        }

        // Keep the batch, take the rest from the model.
        return [input.Rows, .. declared.Skip(1).Select(d => (long)d)];
    }
}

internal static class Close
{
    /// <summary>Asserts |a - e| <= abs + rel * |e| elementwise, naming the first index that differs.</summary>
    public static void Assert(float[] expected, float[] actual, double abs = 1e-4, double rel = 1e-4)
    {
        Xunit.Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double tolerance = abs + (rel * Math.Abs(expected[i]));
            if (!(Math.Abs(expected[i] - actual[i]) <= tolerance))
            {
                Xunit.Assert.Fail($"value {i}: expected {expected[i]}, got {actual[i]} (tolerance {tolerance:g3})");
            }
        }
    }
}
