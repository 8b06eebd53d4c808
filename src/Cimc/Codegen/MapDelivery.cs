using Cimc.Isa;
using Cimc.Quantization;

namespace Cimc.Codegen;

/// <summary>
/// Moves pixels between cores and map copies in tile buffers (<see cref="GraphPlan"/>). A producer
/// that is a copy's hub stores straight into it; any other producer sends the pixel's channels to the
/// hub (at most a staging area per message), which receives and stores them. Before a node reads a
/// copy, the copy's hub signals each other reader on the tile (one word), so reads follow every store.
/// </summary>
internal sealed class MapDelivery(GraphPlan plan, Emitter em, int stagingWords, Func<int, (int Staging, int Signal)> scratch)
{
    /// <summary>Hands over channels [c0, c1) of pixel (y, x) of map <paramref name="map"/>, held at <paramref name="src"/> on <paramref name="core"/>.</summary>
    public void Deliver(int core, int map, int y, int x, int c0, int c1, int src)
    {
        MapShape shape = plan.ShapeOf(map);
        IEnumerable<MapTarget> targets = plan.Targets(map);
        if (map == plan.Graph.Nodes.Length - 1)
        {
            targets = targets.Append(new MapTarget(plan.Output, 0, shape.Channels));
        }

        foreach (MapTarget t in targets)
        {
            int addr = t.Copy.Addr + ((((y * shape.Width) + x) * t.Stride) + t.Offset + c0);
            Put(core, t.Copy.Hub, addr, src, c1 - c0, Streams.Input(map + 1));
        }
    }

    /// <summary>
    /// The network input's other copies and concat slices: its first copy's hub (the host wrote that
    /// copy) loads it pixel by pixel and hands each pixel on like a producer.
    /// </summary>
    public void SpreadInput()
    {
        MapCopy first = plan.Input;
        MapShape shape = plan.Graph.InputShape;
        var targets = plan.Targets(QuantizedGraph.NetworkInput).Where(t => t.Copy != first).ToList();
        int staging = targets.Count > 0 ? scratch(first.Hub).Staging : -1;
        for (int p = 0; p < shape.Pixels && targets.Count > 0; p++)
        {
            for (int c0 = 0; c0 < shape.Channels; c0 += stagingWords)
            {
                int len = Math.Min(stagingWords, shape.Channels - c0);
                em[first.Hub].Add(Instruction.Load(staging, first.Addr + (p * shape.Channels) + c0, len));
                foreach (MapTarget t in targets)
                {
                    Put(first.Hub, t.Copy.Hub, t.Copy.Addr + (p * t.Stride) + t.Offset + c0, staging, len, Streams.Input(0));
                }
            }
        }
    }

    /// <summary>Before <paramref name="reader"/> reads <paramref name="copy"/>: the hub's signal, unless the reader is the hub or the host wrote the copy.</summary>
    public void Await(MapCopy copy, int reader, int node)
    {
        if (reader == copy.Hub || copy.HostWritten)
        {
            return;
        }

        em[copy.Hub].Add(Instruction.Send(reader, scratch(copy.Hub).Signal, 1, Streams.Signal(node)));
        em[reader].Add(Instruction.Recv(copy.Hub, scratch(reader).Signal, 1, Streams.Signal(node)));
    }

    private void Put(int from, int hub, int addr, int src, int len, int tag)
    {
        if (from == hub)
        {
            em[from].Add(Instruction.Store(addr, src, len));
            return;
        }

        int staging = scratch(hub).Staging;
        for (int s = 0; s < len; s += stagingWords)
        {
            int n = Math.Min(stagingWords, len - s);
            em[from].Add(Instruction.Send(hub, src + s, n, tag));
            em[hub].Add(Instruction.Recv(from, staging, n, tag));
            em[hub].Add(Instruction.Store(addr + s, staging, n));
        }
    }
}
