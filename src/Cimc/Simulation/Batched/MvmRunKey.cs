using Cimc.Isa;

namespace Cimc.Simulation.Batched;

/// <summary>
/// A run of mvms by every field but its input and output addresses: two runs of one core with equal
/// keys read the same crossbars the same way, so their blocks can share one <see cref="MvmWeights"/>.
/// Every other field is kept, including any a later ISA adds, so a new field can never make two
/// different runs share weights.
/// </summary>
internal sealed class MvmRunKey : IEquatable<MvmRunKey>
{
    private readonly long[] _fields;
    private readonly int _hash;

    public MvmRunKey(ReadOnlySpan<Instruction> run)
    {
        var fields = new List<long>();
        var hash = new HashCode();
        foreach (Instruction op in run)
        {
            int src = op.Spec.IndexOf("src"), dst = op.Spec.IndexOf("dst");
            fields.Add(op.Fields.Length);
            for (int f = 0; f < op.Fields.Length; f++)
            {
                if (f != src && f != dst)
                {
                    fields.Add(op.Fields[f]);
                }
            }
        }

        _fields = [.. fields];
        foreach (long f in _fields)
        {
            hash.Add(f);
        }

        _hash = hash.ToHashCode();
    }

    public bool Equals(MvmRunKey? other) => other is not null && _fields.AsSpan().SequenceEqual(other._fields);

    public override bool Equals(object? obj) => Equals(obj as MvmRunKey);

    public override int GetHashCode() => _hash;
}
