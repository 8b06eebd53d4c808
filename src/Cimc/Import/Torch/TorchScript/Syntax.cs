using System.Collections.Immutable;

namespace Cimc.Import.Torch.TorchScript;

/// <summary>Expressions of TorchScript's Python subset. Line numbers feed diagnostics.</summary>
internal abstract record Expr(int Line);

internal sealed record NameExpr(string Name, int Line) : Expr(Line);

/// <summary>A literal: long, double, string, bool or null (None).</summary>
internal sealed record ConstExpr(object? Value, int Line) : Expr(Line);

internal sealed record AttributeExpr(Expr Target, string Name, int Line) : Expr(Line);

internal sealed record CallExpr(Expr Target, ImmutableArray<Expr> Args, ImmutableArray<KeyValuePair<string, Expr>> Keywords, int Line) : Expr(Line);

internal sealed record SubscriptExpr(Expr Target, Expr Index, int Line) : Expr(Line);

internal sealed record BinaryExpr(string Op, Expr Left, Expr Right, int Line) : Expr(Line);

internal sealed record UnaryExpr(string Op, Expr Operand, int Line) : Expr(Line);

internal sealed record ConditionalExpr(Expr Condition, Expr Then, Expr Else, int Line) : Expr(Line);

internal sealed record ListExpr(ImmutableArray<Expr> Items, int Line) : Expr(Line);

internal sealed record TupleExpr(ImmutableArray<Expr> Items, int Line) : Expr(Line);

/// <summary>Statements of a function body or class body.</summary>
internal abstract record Stmt(int Line);

internal sealed record AssignStmt(Expr Target, Expr Value, int Line) : Stmt(Line);

/// <summary>`name : Type [= value]`: class attribute declarations and annotated assignments.</summary>
internal sealed record AnnotatedStmt(Expr Target, Expr Annotation, Expr? Value, int Line) : Stmt(Line);

internal sealed record ReturnStmt(Expr? Value, int Line) : Stmt(Line);

internal sealed record IfStmt(Expr Condition, ImmutableArray<Stmt> Then, ImmutableArray<Stmt> Else, int Line) : Stmt(Line);

internal sealed record ExprStmt(Expr Value, int Line) : Stmt(Line);

internal sealed record PassStmt(int Line) : Stmt(Line);

/// <summary>A statement cimc parses but cannot interpret (loops, raise, assert...): an error only if reached.</summary>
internal sealed record UnsupportedStmt(string Keyword, int Line) : Stmt(Line);

internal sealed record Parameter(string Name, Expr? Default);

internal sealed record FunctionDef(string Name, ImmutableArray<Parameter> Parameters, ImmutableArray<Stmt> Body, string File, int Line);

/// <summary>A TorchScript class: its methods and its `name : Final[T] = value` constants.</summary>
internal sealed record ClassDef(string Name, ImmutableDictionary<string, FunctionDef> Methods, ImmutableDictionary<string, Expr> Constants, int Line);

/// <summary>One parsed `code/...py` file.</summary>
internal sealed record CodeFile(ImmutableArray<ClassDef> Classes, ImmutableArray<FunctionDef> Functions);
