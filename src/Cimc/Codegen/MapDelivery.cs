using Cimc.Isa;
using Cimc.Quantization;

namespace Cimc.Codegen;

/// <summary>
/// Moves pixels between cores and map copies in tile buffers (<see cref="GraphPlan"/>) and keeps
/// a tile's readers in step with the copy's hub, row by row, in the wavefront order
/// (<see cref="GraphWavefront"/>):
/// <list type="bullet">
/// <item>a producer that is a copy's hub stores straight into it; any other producer sends the
///   pixel's channels to the hub (at most a staging area per message), which receives and stores them;</item>
/// <item>before a node's row step, the hub signals each other reader on the tile (one word) when the
///   step's windows reach rows it has not yet announced, so every load follows the stores of its rows;</item>
/// <item>for a ring copy, after a row step each other reader tells the hub (one word, a release)
///   which rows its windows no longer reach, and the hub receives that before it stores a row into
///   the slot of one of them, so no row is overwritten while it is read.</item>
/// </list>
/// Each receive is emitted after its send in the one global order, so no core waits forever.
/// </summary>
internal sealed class MapDelivery(GraphPlan plan, Emitter em, int stagingWords, Func<int, (int Staging, int Signal)> scratch)
{
    private readonly Dictionary<(int Map, int Tile, int Core), int> announced = [];
    private readonly Dictionary<(int Map, int Tile, int Core), int> released = [];
    private readonly Dictionary<(int Map, int Tile, int Core), Queue<int>> releases = [];
    private readonly Dictionary<(int Map, int Tile, int Core), int> heard = [];

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
            Free(t.Copy, y);
            Put(core, t.Copy.Hub, t.Copy.At((((y * shape.Width) + x) * t.Stride) + t.Offset + c0), src, c1 - c0, Streams.Input(map + 1));
        }
    }

    /// <summary>
    /// Row <paramref name="y"/> of the network input's other copies and concat slices: its first
    /// copy's hub (the host wrote that copy) loads it pixel by pixel and hands each pixel on like a producer.
    /// </summary>
    public void SpreadInputRow(int y)
    {
        MapCopy first = plan.Input;
        MapShape shape = plan.Graph.InputShape;
        var targets = plan.Targets(QuantizedGraph.NetworkInput).Where(t => t.Copy != first && !t.Copy.HostWritten).ToList();
        if (targets.Count == 0)
        {
            return;
        }

        int staging = scratch(first.Hub).Staging;
        targets.ForEach(t => Free(t.Copy, y));
        for (int p = y * shape.Width; p < (y + 1) * shape.Width; p++)
        {
            for (int c0 = 0; c0 < shape.Channels; c0 += stagingWords)
            {
                int len = Math.Min(stagingWords, shape.Channels - c0);
                plan.Load(first, (p * shape.Channels) + c0, len);
                em[first.Hub].Add(Instruction.Load(staging, first.At((p * shape.Channels) + c0), len));
                foreach (MapTarget t in targets)
                {
                    Put(first.Hub, t.Copy.Hub, t.Copy.At((p * t.Stride) + t.Offset + c0), staging, len, Streams.Input(0));
                }
            }
        }
    }

    /// <summary>Before node <paramref name="node"/>'s output row <paramref name="row"/>: each hub announces the rows the step reads to its other readers.</summary>
    public void BeforeStep(int node, int row)
    {
        foreach ((MapCopy copy, int reader) in Reads(node))
        {
            var key = (copy.Map, copy.Tile, reader);
            int hi = GraphWavefront.Needs(plan.Graph, node, copy.Map, row).Hi;
            if (hi > announced.GetValueOrDefault(key))
            {
                announced[key] = hi;
                em[copy.Hub].Add(Instruction.Send(reader, scratch(copy.Hub).Signal, 1, Streams.Signal(node)));
                em[reader].Add(Instruction.Recv(copy.Hub, scratch(reader).Signal, 1, Streams.Signal(node)));
            }
        }
    }

    /// <summary>After node <paramref name="node"/>'s output row <paramref name="row"/>: each other reader of a ring releases the rows its later windows no longer reach.</summary>
    public void AfterStep(int node, int row)
    {
        foreach ((MapCopy copy, int reader) in Reads(node).Where(r => r.Copy.IsRing))
        {
            var key = (copy.Map, copy.Tile, reader);
            int done = row == plan.Graph.Nodes[node].Shape.Height - 1 ? copy.Height : GraphWavefront.Needs(plan.Graph, node, copy.Map, row + 1).Lo;
            done = Math.Min(done, copy.Height - copy.Rows); // rows past this are never overwritten
            if (done > released.GetValueOrDefault(key))
            {
                released[key] = done;
                (releases.TryGetValue(key, out var q) ? q : releases[key] = new()).Enqueue(done);
                em[reader].Add(Instruction.Send(copy.Hub, scratch(reader).Signal, 1, Streams.Release(copy.Map + 1)));
            }
        }
    }

    /// <summary>The copies node <paramref name="node"/> reads that another core stores (not the host's), with each reader core that is not their hub.</summary>
    private IEnumerable<(MapCopy Copy, int Reader)> Reads(int node)
    {
        foreach (int map in plan.Graph.Nodes[node].Inputs.Distinct())
        {
            foreach (int core in plan.Runners(node).Order())
            {
                MapCopy copy = plan.CopyOf(map, plan.TileOfCore(core));
                if (core != copy.Hub && !copy.HostWritten)
                {
                    yield return (copy, core);
                }
            }
        }
    }

    /// <summary>Before the hub stores row <paramref name="y"/> of a ring: the releases of the row that had its slot, from every other reader.</summary>
    private void Free(MapCopy copy, int y)
    {
        if (!copy.IsRing || y < copy.Rows)
        {
            return;
        }

        int need = y - copy.Rows + 1;
        foreach (int reader in plan.ReadersOf(copy).Select(r => r.Core).Where(c => c != copy.Hub).Distinct())
        {
            var key = (copy.Map, copy.Tile, reader);
            while (heard.GetValueOrDefault(key) < need)
            {
                heard[key] = releases.TryGetValue(key, out var q) && q.Count > 0 ? q.Dequeue()
                    : throw new InvalidOperationException($"codegen: core {reader} has not released row {need - 1} of map {copy.Map} on tile {copy.Tile} before it is overwritten");
                em[copy.Hub].Add(Instruction.Recv(reader, scratch(copy.Hub).Signal, 1, Streams.Release(copy.Map + 1)));
            }
        }
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
