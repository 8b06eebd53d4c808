using System.CommandLine;
using Cimc.Ir;

namespace Cimc.Cli.Commands;

/// <summary>`cimc inspect MODEL [--activation A] [--json] [--emit graph]`: layers, shapes, parameter count.</summary>
internal static class InspectCommand
{
    public static Command Create(CliContext context)
    {
        var model = new ModelOptions();
        Option<bool> json = CommonOptions.Json();
        var emit = new Option<string?>("--emit") { Description = "print a stage's text form instead: graph" };
        emit.AcceptOnlyFromAmong("graph");
        var command = new Command("inspect", "Show a model's layers, shapes and parameter count.") { model.Model, model.Activation, json, emit };
        command.SetAction(parse =>
        {
            Graph graph = model.Load(parse);
            if (parse.GetValue(emit) == "graph")
            {
                context.Output.Write(GraphPrinter.Print(graph));
                return 0;
            }

            ModelSummary summary = ModelSummary.Of(graph);
            context.Output.Write(parse.GetValue(json) ? CommonOptions.ToJson(summary) + "\n" : summary.ToTable());
            return 0;
        });
        return command;
    }
}
