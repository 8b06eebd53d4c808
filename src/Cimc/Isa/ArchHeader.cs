using Cimc.Diagnostics;

namespace Cimc.Isa;

/// <summary>
/// The machine a program was compiled for: the `.arch` directive and the first block of program.bin.
/// Limits follow from the encoding (<see cref="IsaLimits"/>): 16-bit core ids, 8-bit crossbar index,
/// 13-bit rows and columns, 24-bit addresses.
/// </summary>
public sealed record ArchHeader(
    int Tiles,
    int CoresPerTile,
    int CrossbarsPerCore,
    int Rows,
    int Cols,
    int CellBits,
    int DacBits,
    int AdcBits,
    int LocalWords,
    int BufferWords)
{
    public int TotalCores => Tiles * CoresPerTile;

    public int TileOf(int core) => core / CoresPerTile;

    /// <summary>The fields in `.arch` order, with their assembly names.</summary>
    public IEnumerable<(string Name, int Value)> Items()
    {
        yield return ("tiles", Tiles);
        yield return ("cores_per_tile", CoresPerTile);
        yield return ("crossbars_per_core", CrossbarsPerCore);
        yield return ("rows", Rows);
        yield return ("cols", Cols);
        yield return ("cell_bits", CellBits);
        yield return ("dac_bits", DacBits);
        yield return ("adc_bits", AdcBits);
        yield return ("local_words", LocalWords);
        yield return ("buffer_words", BufferWords);
    }

    public static IReadOnlyList<string> Names { get; } =
        ["tiles", "cores_per_tile", "crossbars_per_core", "rows", "cols", "cell_bits", "dac_bits", "adc_bits", "local_words", "buffer_words"];

    public static ArchHeader FromValues(IReadOnlyList<int> v) =>
        new(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9]);

    /// <summary>Refuses values outside what the encoding and simulator support.</summary>
    public void Validate(string location)
    {
        Check("tiles", Tiles, 1, IsaLimits.Cores);
        Check("cores_per_tile", CoresPerTile, 1, IsaLimits.Cores);
        if ((long)Tiles * CoresPerTile > IsaLimits.Cores)
        {
            throw new CimcException("bad-arch", location, $"tiles * cores_per_tile = {(long)Tiles * CoresPerTile} exceeds {IsaLimits.Cores} ({IsaLimits.Field(FieldRole.Core)})");
        }

        Check("crossbars_per_core", CrossbarsPerCore, 0, IsaLimits.CrossbarsPerCore);
        Check("rows", Rows, 1, IsaLimits.Rows);
        Check("cols", Cols, 1, IsaLimits.Cols);
        Check("cell_bits", CellBits, 1, 8);
        Check("dac_bits", DacBits, 1, 16);
        Check("adc_bits", AdcBits, 1, 32);
        Check("local_words", LocalWords, 1, IsaLimits.LocalWords);
        Check("buffer_words", BufferWords, 1, IsaLimits.BufferWords);

        void Check(string name, int value, long min, long max)
        {
            if (value < min || value > max)
            {
                throw new CimcException("bad-arch", location, $"{name} = {value} is outside [{min}, {max}]");
            }
        }
    }
}
