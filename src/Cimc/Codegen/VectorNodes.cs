using Cimc.Isa;
using Cimc.Quantization;

namespace Cimc.Codegen;

/// <summary>
/// Pooling and residual adds on the vector unit of a core of their own (docs/quantization.md,
/// "Convolutional networks"), one output pixel at a time, C channels per instruction (or, when the
/// core's memory cannot hold vectors of C, the channels in groups it can hold):
/// <list type="bullet">
/// <item>max pool: load the first cell inside the map, then vmaxv with each further one (padding never wins);</item>
/// <item>average pool: the sum of the cells inside the map (vadd), minus their count times z_x (vaxpy),
///   then vrequant with the multiplier of the window's divisor n (params per distinct n);</item>
/// <item>add: each input minus its zero point (vaxpy), requantized to the common scale (vrequant, unclamped),
///   summed (vadd) and clamped with the output zero point (vrequant with m = 1, r = 0).</item>
/// </list>
/// Memory of such a core: [signal | staging | zero points | A (lanes) | B (lanes) | parameter blocks (3 + 2 lanes words each)].
/// </summary>
internal sealed class VectorNodes(GraphPlan plan, Emitter em, ArchHeader arch, int stagingWords, string memoryOwner)
{
    private const int Signal = 0, Staging = 1;

    private int ZeroPoints => Staging + stagingWords;

    private int A => ZeroPoints + 2;

    public (int Staging, int Signal) Scratch(int core) => (Staging, Signal);

    /// <summary>
    /// Lays out node <paramref name="n"/>'s cores and returns what emits one output row (the wavefront
    /// calls it row by row): copy j of k computes the pixels x mod k = j of the row.
    /// </summary>
    public Action<int> Begin(int n, MapDelivery delivery)
    {
        int[] cores = plan.Exec[n];
        Action<int, int>[] pixel = [.. cores.Select(core => BeginOn(n, core, delivery))];
        return oy =>
        {
            for (int ox = 0; ox < plan.Graph.Nodes[n].Shape.Width; ox++)
            {
                pixel[ox % cores.Length](oy, ox);
            }
        };
    }

    /// <summary>Lays out <paramref name="core"/> for node <paramref name="n"/> and returns what emits one output pixel on it.</summary>
    private Action<int, int> BeginOn(int n, int core, MapDelivery delivery)
    {
        QuantizedNode node = plan.Graph.Nodes[n];
        int c = node.Shape.Channels;
        int tile = arch.TileOf(core);
        MapShape input = plan.ShapeOf(node.Inputs[0]);
        int lanes = Lanes(node, input, c);
        int b = A + lanes, next = b + lanes;
        var divisors = new Dictionary<int, int>();
        int Params(long zp, long lo, long hi, FixedPoint scale)
        {
            int at = next;
            em.Data(core, at, [zp, lo, hi, .. Enumerable.Repeat(new[] { scale.Multiplier, (long)scale.Shift }, lanes).SelectMany(w => w)]);
            next += 3 + (2 * lanes);
            GraphCodeGenerator.Fits(next, arch.LocalWords, node.Name, core, memoryOwner);
            return at;
        }

        (int pa, int pb, int py) = (0, 0, 0);
        if (node is AddNode add)
        {
            ActivationQuant qa = QuantOf(node.Inputs[0]), qb = QuantOf(node.Inputs[1]);
            em.Data(core, ZeroPoints, [qa.ZeroPoint, qb.ZeroPoint]);
            pa = Params(0, long.MinValue, long.MaxValue, add.ScaleA);
            pb = Params(0, long.MinValue, long.MaxValue, add.ScaleB);
            py = Params(node.Output.ZeroPoint, add.Relu ? node.Output.ZeroPoint : 0, node.Output.Max, new FixedPoint(1, 0));
        }
        else if (node is AvgPoolNode)
        {
            em.Data(core, ZeroPoints, [QuantOf(node.Inputs[0]).ZeroPoint]);
        }

        GraphCodeGenerator.Fits(next, arch.LocalWords, node.Name, core, memoryOwner);
        return (oy, ox) =>
        {
            List<Instruction> code = em[core];
            for (int c0 = 0; c0 < c; c0 += lanes)
            {
                int len = Math.Min(lanes, c - c0);
                switch (node)
                {
                    case MaxPoolNode pool:
                        Reduce(node.Inputs[0], c0, len, Window.Cells(pool.Window, input, oy, ox).ToList(), Opcode.VMaxV);
                        break;
                    case AvgPoolNode pool:
                        {
                            var cells = Window.Cells(pool.Window, input, oy, ox).ToList();
                            Reduce(node.Inputs[0], c0, len, cells, Opcode.VAdd);
                            int divisor = Divisor(pool, input, oy, ox);
                            if (!divisors.TryGetValue(divisor, out int pd))
                            {
                                ActivationQuant x = QuantOf(node.Inputs[0]), y = node.Output;
                                pd = divisors[divisor] = Params(y.ZeroPoint, 0, y.Max, FixedPoint.FromReal(x.Scale / (divisor * y.Scale)));
                            }

                            code.Add(Instruction.VAxpy(A, ZeroPoints, -cells.Count, len));
                            code.Add(Instruction.VRequant(A, A, pd, len));
                            break;
                        }

                    case AddNode:
                        Load(A, node.Inputs[0], c0, len, oy, ox);
                        code.Add(Instruction.VAxpy(A, ZeroPoints, -1, len));
                        code.Add(Instruction.VRequant(A, A, pa, len));
                        Load(b, node.Inputs[1], c0, len, oy, ox);
                        code.Add(Instruction.VAxpy(b, ZeroPoints + 1, -1, len));
                        code.Add(Instruction.VRequant(b, b, pb, len));
                        code.Add(Instruction.VAdd(A, A, b, len));
                        code.Add(Instruction.VRequant(A, A, py, len));
                        break;
                }

                delivery.Deliver(core, n, oy, ox, c0, c0 + len, A);
            }
        };

        void Load(int dst, int map, int c0, int len, int y, int x)
        {
            MapCopy copy = plan.CopyOf(map, tile);
            int index = plan.ShapeOf(map).IndexOf(c0, y, x);
            plan.Load(copy, index, len);
            em[core].Add(Instruction.Load(dst, copy.At(index), len));
        }

        void Reduce(int map, int c0, int len, List<(int Y, int X)> cells, Opcode op)
        {
            Load(A, map, c0, len, cells[0].Y, cells[0].X);
            foreach ((int y, int x) in cells.Skip(1))
            {
                Load(b, map, c0, len, y, x);
                em[core].Add(op == Opcode.VMaxV ? Instruction.VMaxV(A, A, b, len) : Instruction.VAdd(A, A, b, len));
            }
        }
    }

    /// <summary>
    /// Channels per vector instruction: all C when the core's memory holds A, B and the parameter
    /// blocks at that width, else as many as it holds (every lane of a block has the same parameters,
    /// so one block serves each group of channels in turn).
    /// </summary>
    private int Lanes(QuantizedNode node, MapShape input, int c)
    {
        int blocks = node switch
        {
            AddNode => 3,
            AvgPoolNode pool => Enumerable.Range(0, node.Shape.Height)
                .SelectMany(oy => Enumerable.Range(0, node.Shape.Width).Select(ox => Divisor(pool, input, oy, ox))).Distinct().Count(),
            _ => 0,
        };
        long whole = A + (2L * c) + (blocks * (3L + (2L * c)));
        int fit = (arch.LocalWords - A - (3 * blocks)) / (2 + (2 * blocks));
        return whole <= arch.LocalWords ? c : Math.Clamp(fit, 1, c);
    }

    private static int Divisor(AvgPoolNode pool, MapShape input, int oy, int ox) =>
        pool.CountIncludePad ? Window.CountWithPadding(pool.Window, input, oy, ox) : Window.Cells(pool.Window, input, oy, ox).Count();

    private ActivationQuant QuantOf(int map) => map == QuantizedGraph.NetworkInput ? plan.InputQuant : plan.Graph.Nodes[map].Output;
}
