using Cimc.Architectures;
using Cimc.Exploration;
using Cimc.Simulation.Devices;

namespace Cimc.Tests.Exploration;

public sealed class ArchitectureCacheTests
{
    [Fact]
    public void Points_read_through_the_cache_get_the_settings_they_get_without_it()
    {
        DesignSpace space = DesignSpace.Parse("""{ "arch": "puma", "params": { "core.adc.bits": [6, 8], "weight-bits": [8, 16], "tile.cores": [4, 8] } }""");
        var cache = new ArchitectureCache();
        for (long i = 0; i < space.Size; i++)
        {
            DesignPoint point = space.PointAt(i);
            PointSettings cached = PointSettings.Of(point, DeviceModel.Ideal, cache), plain = PointSettings.Of(point, DeviceModel.Ideal);
            Assert.Equal(ArchitectureJson.Write(plain.Arch), ArchitectureJson.Write(cached.Arch));
            Assert.Equal(plain.Options, cached.Options);
        }
    }

    [Fact]
    public void The_cache_reads_each_set_of_keys_once_and_starts_afresh_for_another_base()
    {
        var cache = new ArchitectureCache();
        int reads = 0;
        Architecture Read(Architecture b, IReadOnlyList<(string Path, string Value)> keys)
        {
            reads++;
            return b with { Name = $"{b.Name}+{keys.Count}" };
        }

        Architecture puma = ArchitectureCatalog.Preset("puma"), isaac = ArchitectureCatalog.Preset("isaac");
        Architecture first = cache.Get(puma, [("core.adc.bits", "6")], Read);
        Assert.Same(first, cache.Get(puma, [("core.adc.bits", "6")], Read));
        Assert.NotSame(first, cache.Get(puma, [("core.adc.bits", "8")], Read));
        Assert.Equal(2, reads);
        cache.Get(isaac, [("core.adc.bits", "6")], Read);
        cache.Get(puma, [("core.adc.bits", "6")], Read);
        Assert.Equal(4, reads);
    }

    [Fact]
    public void An_invalid_architecture_fails_every_time_it_is_asked_for()
    {
        DesignSpace space = DesignSpace.Parse("""{ "arch": "isaac", "params": { "core.crossbar.rows": [-3], "weight-bits": [4, 8] } }""");
        var cache = new ArchitectureCache();
        for (long i = 0; i < space.Size; i++)
        {
            Assert.Throws<Cimc.Diagnostics.CimcException>(() => PointSettings.Of(space.PointAt(i), DeviceModel.Ideal, cache));
        }
    }
}
