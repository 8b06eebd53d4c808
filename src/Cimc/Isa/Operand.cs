namespace Cimc.Isa;

/// <summary>
/// What an instruction field is, beyond its bits: the operand semantics of the ISA table. The
/// dependence analysis, the simulators' bounds checks, the timing model's instruction kinds, the
/// event counts and the architecture limits (<see cref="IsaLimits"/>) all read this, so none of
/// them restates per opcode which words an instruction touches.
/// </summary>
public enum FieldRole : byte
{
    /// <summary>A value the instruction uses as it is (imm, ibits, shift, fn, ...).</summary>
    Immediate,

    /// <summary>A number of words: the extent of one or more ranges.</summary>
    Length,

    /// <summary>The first word of a range of <see cref="FieldSpec.Space"/>, used as <see cref="FieldSpec.Access"/> says, <see cref="FieldSpec.Extent"/> words long.</summary>
    Address,

    /// <summary>One crossbar of the executing core, read: below crossbars_per_core.</summary>
    Crossbar,

    /// <summary>Crossbar rows an mvm drives: at most the crossbar's rows.</summary>
    CrossbarRows,

    /// <summary>Crossbar columns an mvm converts: at most the crossbar's columns.</summary>
    CrossbarCols,

    /// <summary>A core of the chip, the far end of a message channel: below the chip's cores.</summary>
    Core,

    /// <summary>
    /// The tag of the message channel between this core and the <see cref="Core"/> field's core:
    /// written (a message queued) by send, read (a message taken) by recv, <see cref="FieldSpec.Extent"/> words.
    /// </summary>
    Channel,
}

/// <summary>How many words a range covers: <c>Fixed + Scale * field</c> (the field named <see cref="Field"/>), or <see cref="Fixed"/> alone.</summary>
public readonly record struct Extent(string? Field, int Scale, int Fixed)
{
    public static Extent Words(string field) => new(field, 1, 0);

    public static Extent Constant(int words) => new(null, 0, words);

    /// <summary>"len", "1", "3+2*len".</summary>
    public string Describe() => (Field, Scale, Fixed) switch
    {
        (null, _, var f) => f.ToString(System.Globalization.CultureInfo.InvariantCulture),
        (var n, 1, 0) => n,
        (var n, var s, 0) => $"{s}*{n}",
        (var n, 1, var f) => $"{f}+{n}",
        (var n, var s, var f) => $"{f}+{s}*{n}",
    };
}
