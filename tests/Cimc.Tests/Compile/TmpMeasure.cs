using Cimc.Architectures;
using Cimc.Data;
using Cimc.Import;
using Cimc.Mapping;
using Cimc.Passes;
using Cimc.Placement;

namespace Cimc.Tests.Compile;

public sealed class TmpMeasure
{
    [Fact]
    public void Measure()
    {
        string dir = Path.Combine(TestPaths.Examples, "fashion-mnist");
        var lines = new List<string>();
        foreach (string arch in new[] { "isaac", "puma" })
        {
            foreach (string m in new[] { "lenet", "resnet" })
            {
                Architecture a = ArchitectureCatalog.Preset(arch);
                foreach (int cpt in new[] { a.Tile.Cores, 1 })
                {
                    Architecture b = a with { Tile = a.Tile with { Cores = cpt } };
                    Compilation c = Compiler.Compile(ModelLoader.Load(Path.Combine(dir, m + ".onnx")), b, Compiler.OptionsFor(b, 8, 8),
                        Npy.Read(Path.Combine(dir, "calibration.npy")).Take(64), settings: CompileSettings.Default with { Replication = ReplicationChoice.Balance });
                    PlacedModel placed = c.Placed!;
                    PlacedModel linear = Placer.Place(placed.Mapped, Compiler.Shape(b)) with { Lowering = placed.Lowering };
                    var h = Compiler.Header(b);
                    lines.Add($"{m} {arch} cpt={cpt}: linear {Codegen.CopyPlacement.DeliveryCost(linear, h)} chosen {Codegen.CopyPlacement.DeliveryCost(placed, h)}");
                }
            }
        }

        File.WriteAllLines("/tmp/cp/measure.txt", lines);
    }
}
