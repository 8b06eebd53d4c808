namespace Cimc.Ir;

/// <summary>
/// Folds an inference batch norm y = (x - mean) / sqrt(var + eps) * gamma + beta into the
/// convolution or dense layer that computed x: with s = gamma / sqrt(var + eps) per output
/// channel, W' = W * s and b' = (b - mean) * s + beta, computed in double and rounded once. Every
/// importer folds through here, so ONNX, TorchScript and whole-module files agree.
/// </summary>
public static class BatchNormFold
{
    /// <summary>The folded layer; gamma and beta may be null (an affine-free batch norm).</summary>
    public static Op Fold(Op layer, ReadOnlySpan<float> mean, ReadOnlySpan<float> variance, float[]? gamma, float[]? beta, double epsilon)
    {
        (FloatTensor weight, FloatTensor? bias, int channels) = layer switch
        {
            Conv2d c => (c.Weight, c.Bias, c.OutChannels),
            Dense d => (d.Weight, d.Bias, d.OutFeatures),
            _ => throw new ArgumentException($"a batch norm folds into a convolution or dense layer, not {layer.Mnemonic}", nameof(layer)),
        };
        if (mean.Length != channels || variance.Length != channels || (gamma?.Length ?? channels) != channels || (beta?.Length ?? channels) != channels)
        {
            throw new ArgumentException($"batch norm statistics must have {channels} values, one per channel");
        }

        var factor = new double[channels];
        var folded = new float[channels];
        for (int o = 0; o < channels; o++)
        {
            factor[o] = (gamma?[o] ?? 1.0) / Math.Sqrt(variance[o] + epsilon);
            folded[o] = (float)((((bias?[o] ?? 0f) - (double)mean[o]) * factor[o]) + (beta?[o] ?? 0f));
        }

        var scaled = new float[weight.Length];
        int per = weight.Length / channels;
        for (int i = 0; i < scaled.Length; i++)
        {
            scaled[i] = (float)(weight[i] * factor[i / per]);
        }

        var newWeight = new FloatTensor(weight.Shape, scaled);
        return layer switch
        {
            // The file's integer weights no longer describe the scaled weights.
            Conv2d c => c with { Weight = newWeight, Bias = FloatTensor.Vector(folded), Quantized = null },
            Dense d => d with { Weight = newWeight, Bias = FloatTensor.Vector(folded), Quantized = null },
            _ => throw new InvalidOperationException(),
        };
    }

    /// <summary>Output channels of a layer a batch norm can fold into, or null.</summary>
    public static int? Channels(Op layer) => layer switch
    {
        Conv2d c => c.OutChannels,
        Dense d => d.OutFeatures,
        _ => null,
    };
}
