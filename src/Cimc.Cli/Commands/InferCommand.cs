using System.CommandLine;
using Cimc.Data;
using Cimc.Ir;
using Cimc.Reference;

namespace Cimc.Cli.Commands;

/// <summary>`cimc infer MODEL --input X.npy --output Y.npy [--divide-by D] [--activation A] [--json]`: the float reference outputs.</summary>
internal static class InferCommand
{
    public static Command Create(CliContext context)
    {
        var model = new ModelOptions();
        var input = new Option<string>("--input") { Description = "inputs (.npy, .csv or IDX), batch first", Required = true };
        var output = new Option<string>("--output") { Description = "where to write the outputs (.npy, float32)", Required = true };
        Option<double> divideBy = CommonOptions.DivideBy();
        Option<bool> json = CommonOptions.Json();
        var command = new Command("infer", "Run the float reference model on inputs and write its outputs.") { model.Model, input, output, divideBy, model.Activation, json };
        command.SetAction(parse =>
        {
            Graph graph = model.Load(parse);
            NdArray x = CommonOptions.ReadInputs(parse.GetValue(input)!, parse.GetValue(divideBy), "--input");
            NdArray y = FloatExecutor.Run(graph, x);
            string file = parse.GetValue(output)!;
            Npy.Write(file, y);
            context.Output.WriteLine(parse.GetValue(json)
                ? CommonOptions.ToJson(new { Output = file, Shape = y.Shape, Samples = x.Rows })
                : $"wrote {file} [{string.Join(",", y.Shape)}]");
            return 0;
        });
        return command;
    }
}
