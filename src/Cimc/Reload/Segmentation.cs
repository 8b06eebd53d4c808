using System.Collections.Immutable;
using Cimc.Diagnostics;
using Cimc.Mapping;
using Cimc.Placement;

namespace Cimc.Reload;

/// <summary>
/// A run of consecutive layers, <see cref="FirstLayer"/> onwards, whose crossbars the node holds at
/// once: between segments the crossbars are reprogrammed (docs/isa.md, "Segmented programs").
/// </summary>
public sealed record Segment(int FirstLayer, int LayerCount, int Cores)
{
    public int EndLayer => FirstLayer + LayerCount;
}

/// <summary>
/// Weight reloading's cut of a network too large for its node (`--when-too-large reload`): layers in
/// order, each whole (its cores, as placement gives them: ceil(crossbars / crossbars per core)), as
/// many to a segment as the node's cores hold. Filling each segment before opening the next gives the
/// fewest segments a contiguous cut can have (any cut with fewer would have to put more layers into
/// some prefix than fit). A layer larger than the whole node would have to be split by row or column
/// blocks across reloads, which is not supported: it is refused in one line.
/// </summary>
public static class Segmentation
{
    public static ImmutableArray<Segment> Cut(MappedModel mapped, int crossbarsPerCore, long nodeCores)
    {
        if (mapped.Model.Graph is not null)
        {
            // Maps of a convolutional graph may flow past a cut (residual adds, concats): not yet handled.
            throw new CimcException("not-supported", "--when-too-large reload", "weight reloading cuts chains of dense layers; a network with convolutions, pooling or residual adds cannot be cut into segments yet");
        }

        var segments = ImmutableArray.CreateBuilder<Segment>();
        int first = 0, cores = 0;
        for (int i = 0; i < mapped.Layers.Length; i++)
        {
            int slots = Placer.SlotsOf(mapped.Layers[i] with { Replicas = 1 }, crossbarsPerCore);
            if (slots > nodeCores)
            {
                throw new CimcException("does-not-fit", "--when-too-large reload",
                    $"layer '{mapped.Layers[i].Layer.Name}' alone needs {slots} cores of {crossbarsPerCore} crossbars but the node has {nodeCores}; weight reloading reprograms whole layers, splitting one layer's row or column blocks across reloads is not supported (use more chips: --chips N)");
            }

            if (cores + slots > nodeCores)
            {
                segments.Add(new Segment(first, i - first, cores));
                (first, cores) = (i, 0);
            }

            cores += slots;
        }

        segments.Add(new Segment(first, mapped.Layers.Length - first, cores));
        return segments.ToImmutable();
    }

    /// <summary>
    /// The segments <see cref="Cut"/> would give, or null when some layer alone is larger than the
    /// node (for the message that says what each choice of `--when-too-large` would need).
    /// </summary>
    public static int? Count(MappedModel mapped, int crossbarsPerCore, long nodeCores)
    {
        try
        {
            return Cut(mapped, crossbarsPerCore, nodeCores).Length;
        }
        catch (CimcException)
        {
            return null;
        }
    }

    /// <summary>
    /// The segment's layers as a network of their own: the first takes the codes the previous segment
    /// wrote (its input quantization is that segment's output quantization), the last of a non-final
    /// segment writes codes, and blocks are renumbered from the segment's first layer. Replication is
    /// reset (the replicate passes may choose again for the segment).
    /// </summary>
    public static MappedModel Sub(MappedModel mapped, Segment s)
    {
        bool last = s.EndLayer == mapped.Layers.Length;
        var layers = mapped.Layers.Skip(s.FirstLayer).Take(s.LayerCount)
            .Select(l => l with { Replicas = 1, Blocks = [.. l.Blocks.Select(b => b with { Layer = b.Layer - s.FirstLayer })] })
            .ToImmutableArray();
        var model = mapped.Model with
        {
            Name = $"{mapped.Model.Name} segment {s.FirstLayer}-{s.EndLayer - 1}",
            Layers = [.. layers.Select(l => l.Layer)],
            SoftmaxAtEnd = last && mapped.Model.SoftmaxAtEnd,
        };
        return new MappedModel(model, mapped.Geometry, mapped.Encoding, layers);
    }
}
