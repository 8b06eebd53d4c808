using System.Collections.Immutable;
using System.Globalization;
using Cimc.Diagnostics;
using Cimc.Isa;
using Cimc.Mapping;

namespace Cimc.Codegen;

/// <summary>
/// Where one core keeps one layer's words (word addresses in its local memory). A core holds only
/// what its own crossbar blocks need, never whole-layer vectors, so that memories of the chips'
/// sizes (ISAAC's IMA registers, PUMA's core register file) suffice:
/// <code>
/// [ input rows (the row blocks it reads, ascending, consecutive ones contiguous) | acc (ColLo..ColHi)
///   | partial sums (widest block it receives) | input sum (offset encoding) | signal
///   | staging (a chunk it relays or lands but does not keep) | per column block it roots: bias, requant params
///   | activation parameter block ]
/// </code>
/// Requantized codes and activations overwrite the root's accumulators in place. Cores hold one
/// layer each (placement), so layouts of different layers never share a core.
/// </summary>
internal sealed class CoreMemoryLayout
{
    private readonly ImmutableArray<(int Lo, int Hi, int Addr)> inputRuns;
    private readonly int colLo;
    private readonly Dictionary<int, (int Bias, int Params)> constants;

    private CoreMemoryLayout(ImmutableArray<(int Lo, int Hi, int Addr)> inputRuns, int acc, int colLo, int partials, int inputSum, int signal,
        int staging, Dictionary<int, (int Bias, int Params)> constants, int activation, int words)
    {
        this.inputRuns = inputRuns;
        Acc = acc;
        this.colLo = colLo;
        Partials = partials;
        InputSum = inputSum;
        Signal = signal;
        Staging = staging;
        this.constants = constants;
        Activation = activation;
        Words = words;
    }

    /// <summary>First accumulator word (column ColLo).</summary>
    public int Acc { get; }

    public int Partials { get; }

    public int InputSum { get; }

    public int Signal { get; }

    /// <summary>Landing area for words this core passes on without keeping; -1 if it needs none.</summary>
    public int Staging { get; }

    /// <summary>The vact parameter block; -1 if this core runs no activation.</summary>
    public int Activation { get; }

    public int Words { get; }

    /// <summary>The runs of input rows this core holds, [Lo, Hi), ascending.</summary>
    public IEnumerable<(int Lo, int Hi)> InputRuns => inputRuns.Select(r => (r.Lo, r.Hi));

    public bool HoldsRow(int row) => inputRuns.Any(r => row >= r.Lo && row < r.Hi);

    /// <summary>Address of input row <paramref name="row"/>; rows of one run are contiguous.</summary>
    public int InputAddr(int row)
    {
        foreach ((int lo, int hi, int addr) in inputRuns)
        {
            if (row >= lo && row < hi)
            {
                return addr + (row - lo);
            }
        }

        throw new InvalidOperationException($"codegen: input row {row} is not held by this core");
    }

    public int AccAddr(int col) => Acc + (col - colLo);

    /// <summary>Bias and requantization block addresses of a column block this core roots.</summary>
    public (int Bias, int Params) ConstantsOf(int colBlock) =>
        constants.TryGetValue(colBlock, out var c) ? c : throw new InvalidOperationException($"codegen: column block {colBlock} has no constants on this core");

    /// <summary>What a core of a layer holds, decided by the schedule before anything is emitted.</summary>
    internal sealed record Needs(CoreSpan Core, IReadOnlyList<CrossbarBlock> Blocks, int PartialWords, bool InputSum,
        int StagingWords, IReadOnlyList<ColumnBlock> Roots, bool Activation);

    /// <summary>
    /// Lays out one core; a layout that exceeds the memory is a does-not-fit diagnostic naming the
    /// parts. When the plain layout does not fit, the partial sums it receives overlay its input
    /// rows: an mvm reads its rows when it issues (docs/isa.md), and the core receives partial sums
    /// only after its last mvm and its input sum, so the rows are dead by then (the schedule's
    /// dependences keep any reordering after those reads: a write after a read of the same words).
    /// If that does not fit either, the staging area overlays the accumulators
    /// (<see cref="StagingOnAccumulators"/>): the core relays chunks before its mvms and lands output
    /// pieces after it has stored its own results, and the schedule then clears (or biases) the
    /// accumulators after the layer's input has arrived instead of before.
    /// </summary>
    public static CoreMemoryLayout For(Needs needs, int localWords, string layerName, string memoryOwner)
    {
        CoreMemoryLayout best = Lay(needs, false, false);
        foreach ((bool partials, bool staging) in new[] { (true, false), (true, true) })
        {
            if (best.Words <= localWords)
            {
                break;
            }

            CoreMemoryLayout overlaid = Lay(needs, partials, staging);
            best = overlaid.Words < best.Words ? overlaid : best;
        }

        return best.Words <= localWords ? best : throw TooLarge(best, needs, localWords, layerName, memoryOwner);
    }

    /// <summary>The fewest words a layout of <paramref name="needs"/> takes, with the overlays <see cref="For"/> may use.</summary>
    public static long FewestWords(Needs needs) =>
        new[] { (false, false), (true, false), (true, true) }.Min(o => (long)Lay(needs, o.Item1, o.Item2).Words);

    /// <summary>The staging area is the accumulators' words: the accumulators may be cleared only once the layer's input has arrived.</summary>
    public bool StagingOnAccumulators => Staging >= 0 && Staging == Acc;

    private static CimcException TooLarge(CoreMemoryLayout layout, Needs needs, int localWords, string layerName, string memoryOwner)
    {
        var inv = CultureInfo.InvariantCulture;
        int inputs = layout.inputRuns.Sum(r => r.Hi - r.Lo), accWords = needs.Core.ColHi - needs.Core.ColLo;
        int partials = layout.Partials >= layout.Acc ? needs.PartialWords : 0; // overlaid partial sums take no words of their own
        int staging = layout.StagingOnAccumulators ? 0 : needs.StagingWords;
        int constantsAt = layout.Signal + 1 + staging;
        string parts = string.Join(", ", new (string Name, long Words)[]
        {
            ("inputs", inputs), ("accumulators", accWords), ("partial sums", partials),
            ("staging", staging), ("control", layout.Signal + 1 - (layout.Acc + accWords + partials)), ("constants", layout.Words - constantsAt),
        }.Where(p => p.Words > 0).Select(p => string.Create(inv, $"{p.Name} {p.Words:N0}")));
        return new CimcException("does-not-fit", $"layer '{layerName}'",
            string.Create(inv, $"needs {layout.Words:N0} words of core local memory on core {needs.Core.Core} ({parts}) but {memoryOwner} have {localWords:N0}"));
    }

    /// <summary>
    /// The layout in the order of the class comment; with <paramref name="overlayPartials"/> the
    /// partial sums sit on the input rows, with <paramref name="overlayStaging"/> the staging area on
    /// the accumulators, each when it fits there.
    /// </summary>
    private static CoreMemoryLayout Lay(Needs needs, bool overlayPartials, bool overlayStaging)
    {
        // Row blocks the core reads, merged where consecutive, packed from address 0.
        var runs = ImmutableArray.CreateBuilder<(int Lo, int Hi, int Addr)>();
        int next = 0;
        foreach ((int lo, int hi) in needs.Blocks.Select(b => (b.RowStart, b.RowStart + b.RowCount)).Distinct().OrderBy(r => r.Item1))
        {
            if (runs.Count > 0 && runs[^1].Hi >= lo)
            {
                int extra = Math.Max(0, hi - runs[^1].Hi);
                runs[^1] = (runs[^1].Lo, Math.Max(hi, runs[^1].Hi), runs[^1].Addr);
                next += extra;
                continue;
            }

            runs.Add((lo, hi, next));
            next += hi - lo;
        }

        int acc = next, accWords = needs.Core.ColHi - needs.Core.ColLo;
        bool overlaid = overlayPartials && needs.PartialWords <= next;
        bool stagingOnAcc = overlayStaging && needs.StagingWords > 0 && needs.StagingWords <= accWords;
        int partials = overlaid ? 0 : acc + accWords;
        int inputSum = acc + accWords + (overlaid ? 0 : needs.PartialWords);
        int signal = inputSum + (needs.InputSum ? 1 : 0);
        int staging = stagingOnAcc ? acc : signal + 1;
        int constantsAt = signal + 1 + (stagingOnAcc ? 0 : needs.StagingWords);
        var constants = new Dictionary<int, (int, int)>();
        int c = constantsAt;
        foreach (ColumnBlock block in needs.Roots)
        {
            constants[block.Index] = (c, c + block.ColCount);
            c += block.ColCount + 3 + (2 * block.ColCount);
        }

        int activation = needs.Activation && needs.Roots.Count > 0 ? c : -1;
        long words = (long)c + (activation >= 0 ? ActivationParams.Words : 0);
        return new CoreMemoryLayout(runs.ToImmutable(), acc, needs.Core.ColLo, partials, needs.InputSum ? inputSum : -1, signal,
            needs.StagingWords > 0 ? staging : -1, constants, activation, (int)Math.Min(words, int.MaxValue));
    }
}
