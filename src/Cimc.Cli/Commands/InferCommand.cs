using System.CommandLine;
using Cimc.Data;
using Cimc.Ir;
using Cimc.Reference;

namespace Cimc.Cli.Commands;

/// <summary>`cimc infer MODEL --input X.npy --output Y.npy [--activation A]`: the float reference outputs.</summary>
internal static class InferCommand
{
    public static Command Create(CliContext context)
    {
        Argument<string> model = CommonOptions.Model();
        Option<string?> activation = CommonOptions.Activation();
        var input = new Option<string>("--input") { Description = "inputs (.npy, .csv or IDX), batch first", Required = true };
        var output = new Option<string>("--output") { Description = "where to write the outputs (.npy, float32)", Required = true };
        var command = new Command("infer", "Run the float reference model on inputs and write its outputs.") { model, input, output, activation };
        command.SetAction(parse =>
        {
            Graph graph = CommonOptions.LoadModel(parse.GetValue(model)!, parse.GetValue(activation));
            NdArray x = DataFiles.ReadArray(parse.GetValue(input)!);
            NdArray y = FloatExecutor.Run(graph, x);
            Npy.Write(parse.GetValue(output)!, y);
            context.Output.WriteLine($"wrote {parse.GetValue(output)} [{string.Join(",", y.Shape)}]");
            return 0;
        });
        return command;
    }
}
