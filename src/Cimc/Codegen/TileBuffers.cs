using Cimc.Diagnostics;

namespace Cimc.Codegen;

/// <summary>
/// Hands out regions of each tile's shared buffer, never overlapping within a tile, first come first
/// served from address 0. The network input must be allocated first (it sits at address 0 of its
/// tile). <see cref="CheckCapacity"/> refuses a program whose regions exceed a tile's buffer, listing
/// what the tile holds.
/// </summary>
internal sealed class TileBuffers(int bufferWords)
{
    public int BufferWords => bufferWords;

    private readonly SortedDictionary<int, List<(string What, int Addr, int Words)>> regions = [];

    public int Allocate(int tile, string what, int words)
    {
        var list = regions.TryGetValue(tile, out var l) ? l : regions[tile] = [];
        int addr = list.Count == 0 ? 0 : list[^1].Addr + list[^1].Words;
        list.Add((what, addr, words));
        return addr;
    }

    /// <summary>Whether every tile's regions fit its buffer (what <see cref="CheckCapacity"/> refuses otherwise).</summary>
    public bool Fit => regions.Values.All(list => list.Sum(r => (long)r.Words) <= bufferWords);

    /// <summary>Refuses the first tile over capacity, naming its regions and the buffer every tile would fit in (a chip large enough).</summary>
    public void CheckCapacity()
    {
        long most = regions.Values.Select(list => list.Sum(r => (long)r.Words)).DefaultIfEmpty(0).Max();
        foreach ((int tile, var list) in regions)
        {
            long needed = list.Sum(r => (long)r.Words);
            if (needed > bufferWords)
            {
                string parts = string.Join(", ", list.Select(r => $"{r.What} {r.Words}"));
                throw new CimcException("does-not-fit", $"tile {tile} buffer",
                    $"needs {needed} words ({parts}) but a tile buffer has {bufferWords}; a chip whose tile buffers hold {most} words ({most * Architectures.TileSpec.BytesPerWord} bytes) would hold every tile's maps");
            }
        }
    }
}
