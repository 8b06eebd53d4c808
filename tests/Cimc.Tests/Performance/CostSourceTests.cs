using Cimc.Architectures;

namespace Cimc.Tests.Performance;

public sealed class CostSourceTests
{
    [Theory]
    [InlineData("isaac")]
    [InlineData("puma")]
    [InlineData("edge")]
    public void Every_cost_group_of_every_preset_cites_its_own_source(string preset)
    {
        Architecture arch = ArchitectureCatalog.Preset(preset);
        Assert.NotNull(arch.Costs);
        foreach (string group in new[] { "crossbar", "adc", "dac", "sample_hold", "shift_add", "local_memory", "tile_buffer", "tile_bus", "alu", "noc", "offchip" })
        {
            Assert.True(arch.Sources.ContainsKey($"costs.{group}"), $"{preset}: no source for costs.{group}");
        }
    }
}
