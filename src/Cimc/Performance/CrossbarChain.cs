namespace Cimc.Performance;

/// <summary>
/// The crossbars' time alone as a lower bound on one inference (docs/cost-model.md section 3,
/// <c>mvm_sequence_bound_ns</c>), over the network's DAG of crossbar layers. Per layer L, a bound
/// on when its last mvm ends:
/// <code>
/// last(L) = max( m(L),
///                last(P) + m(L)   for each producer P all of whose outputs L reads,
///                series(x)        for each crossbar x that only L uses )
/// </code>
/// m(L) is L's shortest mvm (K' slice times, plus the 2-slice fill when its crossbar runs only that
/// mvm); series(x) is the fill plus every mvm the crossbar runs in the inference, one after another
/// (a convolution's crossbars run once per output window; a replicated convolution's copy c of k
/// only for its windows, the columns x mod k = c, so its series counts ceil(W / k) windows a row:
/// docs/isa.md, "Replicated convolutions"). m(L) is the same for every copy (the same blocks), and
/// the copies' cores, which the layer spans do not list, count in the shared series below, so the
/// bound stays true with copies. The producer's last mvm feeds some
/// output that some mvm of L reads, which can start only then. Every core halts after its mvms, so
/// the latency is at least every last(L) and every crossbar's series (shared ones too); the bound
/// is the largest. A chain of dense layers (one mvm per crossbar) gives the sum of the layers'
/// shortest mvms, as before graphs; a DAG gives its longest path, not the sum of its branches.
/// Vector work (pools, adds) and data movement are not counted here; the program's own bounds
/// (<see cref="TimingBounds"/>) count them.
/// </summary>
internal static class CrossbarChain
{
    public static double Ns(PerformanceInput input, TimingPlan plan)
    {
        var owner = new Dictionary<int, int>();
        for (int l = 0; l < input.Layers.Length; l++)
        {
            foreach (int core in input.Layers[l].Cores)
            {
                owner[core] = owner.ContainsKey(core) ? -1 : l; // a core shared by layers belongs to none
            }
        }

        double[] ownSeries = new double[input.Layers.Length];
        double anySeries = 0;
        for (int s = 0; s < input.Program.Cores.Length; s++)
        {
            int[] slots = input.Program.Cores[s].SlotsByPc();
            var series = new Dictionary<int, double>();
            for (int pc = 0; pc < slots.Length; pc++)
            {
                TimedOp op = plan.Ops[s][pc];
                if (op.Kind == TimedKind.Mvm && slots[pc] <= 0) // what the first sample runs
                {
                    series[op.Xb] = series.TryGetValue(op.Xb, out double ns) ? ns + (op.Slices * op.SliceNs) : (op.Slices + CostModel.FillSlices) * op.SliceNs;
                }
            }

            double longest = series.Values.DefaultIfEmpty(0).Max();
            anySeries = Math.Max(anySeries, longest);
            if (owner.TryGetValue(input.Program.Cores[s].Core, out int layer) && layer >= 0)
            {
                ownSeries[layer] = Math.Max(ownSeries[layer], longest);
            }
        }

        double[] last = new double[input.Layers.Length];
        bool[] done = new bool[input.Layers.Length];
        double Last(int l)
        {
            if (!done[l])
            {
                done[l] = true; // producers come from earlier nodes: no cycles
                LayerSpan layer = input.Layers[l];
                double m = TimingBounds.LayerMvmNs(input, plan, [.. layer.Cores]);
                IEnumerable<LayerInput> producers = layer.Inputs ?? (l > 0 ? [new LayerInput(l - 1, true)] : []);
                double after = producers.Where(p => p.ReadsAll && p.Layer >= 0 && p.Layer < last.Length)
                    .Select(p => Last(p.Layer)).DefaultIfEmpty(0).Max();
                last[l] = Math.Max(after + m, ownSeries[l]);
            }

            return last[l];
        }

        double bound = anySeries;
        for (int l = 0; l < last.Length; l++)
        {
            bound = Math.Max(bound, Last(l));
        }

        return bound;
    }
}
