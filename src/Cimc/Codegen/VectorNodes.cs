using Cimc.Isa;
using Cimc.Quantization;

namespace Cimc.Codegen;

/// <summary>
/// Pooling and residual adds on the vector unit of a core of their own (docs/quantization.md,
/// "Convolutional networks"), one output pixel at a time, C channels per instruction:
/// <list type="bullet">
/// <item>max pool: load the first cell inside the map, then vmaxv with each further one (padding never wins);</item>
/// <item>average pool: the sum of the cells inside the map (vadd), minus their count times z_x (vaxpy),
///   then vrequant with the multiplier of the window's divisor n (params per distinct n);</item>
/// <item>add: each input minus its zero point (vaxpy), requantized to the common scale (vrequant, unclamped),
///   summed (vadd) and clamped with the output zero point (vrequant with m = 1, r = 0).</item>
/// </list>
/// Memory of such a core: [signal | staging | zero points | A (C words) | B (C words) | parameter blocks].
/// </summary>
internal sealed class VectorNodes(GraphPlan plan, Emitter em, ArchHeader arch, int stagingWords, string memoryOwner)
{
    private const int Signal = 0, Staging = 1;

    private int ZeroPoints => Staging + stagingWords;

    private int A => ZeroPoints + 2;

    public (int Staging, int Signal) Scratch(int core) => (Staging, Signal);

    /// <summary>Lays out node <paramref name="n"/>'s core and returns what emits one output row (the wavefront calls it row by row).</summary>
    public Action<int> Begin(int n, MapDelivery delivery)
    {
        QuantizedNode node = plan.Graph.Nodes[n];
        int core = plan.Exec[n], c = node.Shape.Channels, b = A + c, parameters = b + c;
        int tile = arch.TileOf(core);

        int next = parameters;
        var divisors = new Dictionary<int, int>();
        int Params(long zp, long lo, long hi, IEnumerable<FixedPoint> scales)
        {
            int at = next;
            em.Data(core, at, [zp, lo, hi, .. scales.SelectMany(s => new[] { s.Multiplier, (long)s.Shift })]);
            next += 3 + (2 * c);
            GraphCodeGenerator.Fits(next, arch.LocalWords, node.Name, core, memoryOwner);
            return at;
        }

        (int pa, int pb, int py) = (0, 0, 0);
        if (node is AddNode add)
        {
            ActivationQuant qa = QuantOf(node.Inputs[0]), qb = QuantOf(node.Inputs[1]);
            em.Data(core, ZeroPoints, [qa.ZeroPoint, qb.ZeroPoint]);
            pa = Params(0, long.MinValue, long.MaxValue, Enumerable.Repeat(add.ScaleA, c));
            pb = Params(0, long.MinValue, long.MaxValue, Enumerable.Repeat(add.ScaleB, c));
            py = Params(node.Output.ZeroPoint, add.Relu ? node.Output.ZeroPoint : 0, node.Output.Max, Enumerable.Repeat(new FixedPoint(1, 0), c));
        }
        else if (node is AvgPoolNode)
        {
            em.Data(core, ZeroPoints, [QuantOf(node.Inputs[0]).ZeroPoint]);
        }

        GraphCodeGenerator.Fits(next, arch.LocalWords, node.Name, core, memoryOwner);
        MapShape input = plan.ShapeOf(node.Inputs[0]);
        return oy =>
        {
            List<Instruction> code = em[core];
            for (int ox = 0; ox < node.Shape.Width; ox++)
            {
                switch (node)
                {
                    case MaxPoolNode pool:
                        Reduce(node.Inputs[0], Window.Cells(pool.Window, input, oy, ox).ToList(), Opcode.VMaxV);
                        break;
                    case AvgPoolNode pool:
                        {
                            var cells = Window.Cells(pool.Window, input, oy, ox).ToList();
                            Reduce(node.Inputs[0], cells, Opcode.VAdd);
                            int divisor = pool.CountIncludePad ? Window.CountWithPadding(pool.Window, input, oy, ox) : cells.Count;
                            if (!divisors.TryGetValue(divisor, out int pd))
                            {
                                ActivationQuant x = QuantOf(node.Inputs[0]), y = node.Output;
                                pd = divisors[divisor] = Params(y.ZeroPoint, 0, y.Max, Enumerable.Repeat(FixedPoint.FromReal(x.Scale / (divisor * y.Scale)), c));
                            }

                            code.Add(Instruction.VAxpy(A, ZeroPoints, -cells.Count, c));
                            code.Add(Instruction.VRequant(A, A, pd, c));
                            break;
                        }

                    case AddNode:
                        Load(A, node.Inputs[0], oy, ox);
                        code.Add(Instruction.VAxpy(A, ZeroPoints, -1, c));
                        code.Add(Instruction.VRequant(A, A, pa, c));
                        Load(b, node.Inputs[1], oy, ox);
                        code.Add(Instruction.VAxpy(b, ZeroPoints + 1, -1, c));
                        code.Add(Instruction.VRequant(b, b, pb, c));
                        code.Add(Instruction.VAdd(A, A, b, c));
                        code.Add(Instruction.VRequant(A, A, py, c));
                        break;
                }

                delivery.Deliver(core, n, oy, ox, 0, c, A);
            }
        };

        void Load(int dst, int map, int y, int x) =>
            em[core].Add(Instruction.Load(dst, plan.CopyOf(map, tile).At(plan.ShapeOf(map).IndexOf(0, y, x)), c));

        void Reduce(int map, List<(int Y, int X)> cells, Opcode op)
        {
            Load(A, map, cells[0].Y, cells[0].X);
            foreach ((int y, int x) in cells.Skip(1))
            {
                Load(b, map, y, x);
                em[core].Add(op == Opcode.VMaxV ? Instruction.VMaxV(A, A, b, c) : Instruction.VAdd(A, A, b, c));
            }
        }
    }

    private ActivationQuant QuantOf(int map) => map == QuantizedGraph.NetworkInput ? plan.InputQuant : plan.Graph.Nodes[map].Output;
}
