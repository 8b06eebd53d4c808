namespace Cimc.Import.Torch.TorchScript;

internal enum TokenKind
{
    Name,
    Int,
    Float,
    String,
    Op,
    Newline,
    Indent,
    Dedent,
    End,
}

/// <summary>One token of TorchScript's serialized Python; <see cref="Value"/> holds parsed literals.</summary>
internal sealed record Token(TokenKind Kind, string Text, int Line, object? Value = null)
{
    public bool Is(string op) => Kind is TokenKind.Op or TokenKind.Name && Text == op;

    public override string ToString() => Kind switch
    {
        TokenKind.Newline => "end of line",
        TokenKind.Indent => "indent",
        TokenKind.Dedent => "dedent",
        TokenKind.End => "end of file",
        _ => $"'{Text}'",
    };
}
