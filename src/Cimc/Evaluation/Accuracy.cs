using Cimc.Data;
using Cimc.Diagnostics;

namespace Cimc.Evaluation;

/// <summary>Top-1 accuracy of a model (any function from a batch to its scores) on a labelled set.</summary>
public sealed record AccuracyResult(int Correct, int Total, int[] Predictions)
{
    public double Accuracy => Total == 0 ? 0 : (double)Correct / Total;
}

public static class Accuracy
{
    /// <summary>Runs <paramref name="model"/> over the images in chunks and compares argmax with the labels.</summary>
    /// <param name="progress">called with the number of samples done after each chunk</param>
    public static AccuracyResult Evaluate(Func<NdArray, NdArray> model, NdArray images, Labels labels, int chunk = 2048, Action<int>? progress = null)
    {
        if (images.Rows != labels.Count)
        {
            throw new CimcException("data-mismatch", "--labels", $"{images.Rows} images but {labels.Count} labels");
        }

        // An accuracy of 0/0 would read as a result; an empty data set is the user's mistake.
        if (images.Rows == 0 || images.RowLength == 0)
        {
            throw new CimcException("empty-data", "--images", "the data set holds no samples");
        }

        var predictions = new int[images.Rows];
        int correct = 0;
        for (int start = 0; start < images.Rows; start += chunk)
        {
            int count = Math.Min(chunk, images.Rows - start);
            var batch = new NdArray(images.Shape.SetItem(0, count), images.Data.AsSpan(start * images.RowLength, count * images.RowLength).ToArray());
            NdArray scores = model(batch);
            if (start == 0)
            {
                CheckLabels(labels, scores.RowLength);
            }

            for (int i = 0; i < count; i++)
            {
                int p = ArgMax(scores.Row(i));
                predictions[start + i] = p;
                if (p == labels.Values[start + i])
                {
                    correct++;
                }
            }

            progress?.Invoke(count);
        }

        return new AccuracyResult(correct, images.Rows, predictions);
    }

    /// <summary>A label the model cannot predict would only count as wrong: it is a mistake in the data, said as one.</summary>
    private static void CheckLabels(Labels labels, int classes)
    {
        for (int i = 0; i < labels.Count; i++)
        {
            if (labels.Values[i] < 0 || labels.Values[i] >= classes)
            {
                throw new CimcException("bad-labels", "--labels",
                    $"label {labels.Values[i]} (sample {i}) is outside the model's {classes} classes (0 to {classes - 1})");
            }
        }
    }

    /// <summary>Index of the largest value; the first one wins ties, as numpy and PyTorch do.</summary>
    public static int ArgMax(ReadOnlySpan<float> scores)
    {
        int best = 0;
        for (int i = 1; i < scores.Length; i++)
        {
            if (scores[i] > scores[best])
            {
                best = i;
            }
        }

        return best;
    }
}
