namespace Cimc.Architectures;

// The namespace is plural on purpose: a namespace `Cimc.Architecture` would hide the type
// `Architecture` from every other `Cimc.*` namespace (the compiler finds the namespace first).

/// <summary>
/// A spatial compute-in-memory chip, as data: tiles on a 2D mesh network-on-chip, cores in each
/// tile, crossbars in each core. Every layer's weights stay resident in crossbars, so these
/// numbers bound what fits. Loaded from JSON (<see cref="ArchitectureJson"/>), checked by
/// <see cref="ArchitectureValidator"/>; <see cref="Sources"/> says where each figure comes from.
/// <see cref="Costs"/> (optional in a file) holds energy, latency and area per component; the
/// performance model (src/Cimc/Performance) refuses an architecture without it.
/// </summary>
public sealed record Architecture(
    string Name,
    string Description,
    double ClockGhz,
    ChipSpec Chip,
    TileSpec Tile,
    CoreSpec Core,
    PrecisionSpec DefaultPrecision,
    SourceMap Sources,
    CostSpec? Costs = null)
{
    /// <summary>The chips of the node and the links between them; one chip unless the file (or <c>--chips</c>) says otherwise.</summary>
    public NodeSpec Node { get; init; } = NodeSpec.Single;

    /// <summary>Length of one clock cycle in nanoseconds.</summary>
    public double CycleNs => 1.0 / ClockGhz;

    /// <summary>Chips in the node.</summary>
    public int Chips => Node.Chips;

    /// <summary>Tiles in the node: chips x tiles per chip (tile t is on chip t / chip.tiles).</summary>
    public int TotalTiles => Chips * Chip.Tiles;

    /// <summary>Cores in the node; core ids are global, chip c holding <see cref="CoresPerChip"/> consecutive ids.</summary>
    public long TotalCores => (long)TotalTiles * Tile.Cores;

    public int CoresPerChip => Chip.Tiles * Tile.Cores;

    public int CrossbarsPerTile => Tile.Cores * Core.Crossbars;

    public long TotalCrossbars => TotalCores * Core.Crossbars;

    public long TotalCells => TotalCrossbars * Core.Crossbar.Cells;

    /// <summary>Storage in all crossbars, in bits (cells times bits per cell).</summary>
    public long TotalCellBits => TotalCells * Core.Crossbar.CellBits;

    /// <summary>
    /// The same chip in a node of <paramref name="chips"/> chips, validated (a node of more than one
    /// chip needs <c>node.link</c>; every core id must fit the ISA's core field).
    /// </summary>
    public Architecture WithChips(int chips)
    {
        Architecture result = this with { Node = Node with { Chips = chips } };
        ArchitectureValidator.Validate(result);
        return result;
    }

    /// <summary>
    /// Returns a copy with some crossbar and converter figures replaced (for command-line flags),
    /// validated like a loaded file; a bad value throws a <see cref="Diagnostics.CimcException"/>
    /// naming the key, e.g. <c>core.crossbar.rows</c>.
    /// </summary>
    public Architecture With(
        int? cellBits = null,
        int? dacBits = null,
        int? adcBits = null,
        int? rows = null,
        int? cols = null,
        int? weightBits = null,
        int? activationBits = null,
        SignedWeights? signedWeights = null)
    {
        Architecture result = this with
        {
            Core = Core with
            {
                Crossbar = new CrossbarSpec(rows ?? Core.Crossbar.Rows, cols ?? Core.Crossbar.Cols, cellBits ?? Core.Crossbar.CellBits),
                Dac = new DacSpec(dacBits ?? Core.Dac.Bits),
                Adc = Core.Adc with { Bits = adcBits ?? Core.Adc.Bits },
            },
            DefaultPrecision = new PrecisionSpec(
                weightBits ?? DefaultPrecision.WeightBits,
                activationBits ?? DefaultPrecision.ActivationBits,
                signedWeights ?? DefaultPrecision.SignedWeights),
        };
        ArchitectureValidator.Validate(result);
        return result;
    }
}

/// <summary>The whole chip: how many tiles, where they sit on the mesh, and the network between them.</summary>
public sealed record ChipSpec(int Tiles, MeshSpec Mesh, NocSpec Noc)
{
    /// <summary>
    /// The block of tile positions that shares one router, X by Y tiles: the most nearly square
    /// factorization of <see cref="NocSpec.TilesPerRouter"/> with X >= Y (4 = ISAAC's 2x2
    /// concentration, 2 = 2x1, 8 = 4x2, 1 = every tile its own router).
    /// </summary>
    public (int X, int Y) RouterBlock
    {
        get
        {
            int t = Noc.TilesPerRouter, y = (int)Math.Sqrt(t);
            while (t % y != 0)
            {
                y--;
            }

            return (t / y, y);
        }
    }

    /// <summary>Width of the router mesh: tile columns / block width, rounded up.</summary>
    public int RouterMeshWidth => (Mesh.Width + RouterBlock.X - 1) / RouterBlock.X;

    /// <summary>Height of the router mesh: tile rows / block height, rounded up.</summary>
    public int RouterMeshHeight => (Mesh.Height + RouterBlock.Y - 1) / RouterBlock.Y;

    /// <summary>The router of tile <paramref name="tile"/>, numbered row-major on the router mesh.</summary>
    public int RouterOf(int tile)
    {
        (int x, int y) = TilePosition(tile);
        (int bx, int by) = RouterBlock;
        return (y / by * RouterMeshWidth) + (x / bx);
    }

    /// <summary>Where router <paramref name="router"/> sits on the router mesh.</summary>
    public (int X, int Y) RouterPosition(int router) => (router % RouterMeshWidth, router / RouterMeshWidth);

    /// <summary>
    /// Routers that serve at least one tile (a concentrated mesh when tiles_per_router is above 1):
    /// ceil(tiles / tiles_per_router) when the blocks tile the occupied rows exactly.
    /// </summary>
    public int Routers
    {
        get
        {
            (int bx, int by) = RouterBlock;
            int fullRows = Tiles / Mesh.Width, rest = Tiles % Mesh.Width, count = 0;
            for (int y0 = 0; y0 < Mesh.Height; y0 += by)
            {
                count += y0 < fullRows ? RouterMeshWidth : y0 == fullRows ? (rest + bx - 1) / bx : 0;
            }

            return count;
        }
    }

    /// <summary>Where tile <paramref name="tile"/> sits: tiles are placed row-major, X the column, Y the row.</summary>
    public (int X, int Y) TilePosition(int tile)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(tile);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(tile, Tiles);
        return (tile % Mesh.Width, tile / Mesh.Width);
    }

    /// <summary>Manhattan distance between two tiles on the mesh (X-Y routing).</summary>
    public int MeshDistance(int fromTile, int toTile)
    {
        (int x0, int y0) = TilePosition(fromTile);
        (int x1, int y1) = TilePosition(toTile);
        return Math.Abs(x0 - x1) + Math.Abs(y0 - y1);
    }
}

/// <summary>A 2D mesh of tile positions; <c>Width * Height</c> must be at least the tile count.</summary>
public sealed record MeshSpec(int Width, int Height)
{
    public int Positions => Width * Height;

    public override string ToString() => $"{Width}x{Height}";
}

/// <summary>
/// The network-on-chip: link width, router latency per hop, and how many tiles share a router
/// (ISAAC's concentrated mesh has one router per 4 tiles).
/// </summary>
public sealed record NocSpec(int LinkBits, int HopLatencyCycles, int TilesPerRouter);

/// <summary>A tile: its cores share one buffer (eDRAM in ISAAC and PUMA) over one bus.</summary>
public sealed record TileSpec(int Cores, long BufferBytes, int BusBits)
{
    /// <summary>
    /// Bytes of the buffer one cimc word stands for. Values between layers are activation codes of at
    /// most 16 bits (the quantizer's limit), as ISAAC and PUMA keep 16-bit data in their eDRAM: a
    /// 64 KB buffer holds 32,768 of them. Core memory follows the same convention (one physical 16-bit
    /// entry per word); only the functional model stores words as 64 bits.
    /// </summary>
    public const int BytesPerWord = 2;

    /// <summary>The words (values) the buffer holds: the ISA's <c>buffer_words</c>.</summary>
    public long BufferWords => BufferBytes / BytesPerWord;
}

/// <summary>
/// A core (ISAAC's IMA, PUMA's core): physical crossbars with their converters, shift-and-add units
/// that combine bit slices, input/output registers that feed and drain the crossbars, a vector ALU,
/// and a local memory of 64-bit words for activations, partial sums and constants.
/// </summary>
public sealed record CoreSpec(
    int Crossbars,
    CrossbarSpec Crossbar,
    DacSpec Dac,
    AdcSpec Adc,
    int ShiftAddUnits,
    int InputRegisterEntries,
    int OutputRegisterEntries,
    int VectorLanes,
    int LocalMemoryWords)
{
    /// <summary>
    /// Columns one ADC converts per input slice when every crossbar of its group is active:
    /// <c>ceil(group_crossbars * cols / per_group)</c> (<c>ceil(cols / per_crossbar)</c> unshared).
    /// </summary>
    public int ColumnsPerAdc => ((Adc.GroupCrossbars * Crossbar.Cols) + Adc.PerGroup - 1) / Adc.PerGroup;

    /// <summary>ADC groups per core: <c>crossbars / group_crossbars</c> (the validator requires it to divide).</summary>
    public int AdcGroups => Crossbars / Adc.GroupCrossbars;

    /// <summary>ADCs per core: <c>crossbars / group_crossbars * per_group</c>.</summary>
    public int AdcsPerCore => AdcGroups * Adc.PerGroup;

    /// <summary>The ADC group of crossbar <paramref name="crossbar"/>: consecutive crossbars share one.</summary>
    public int AdcGroupOf(int crossbar) => crossbar / Adc.GroupCrossbars;

    /// <summary>Input slices needed to stream an input of <paramref name="activationBits"/> through the DAC.</summary>
    public int InputSlices(int activationBits) => (activationBits + Dac.Bits - 1) / Dac.Bits;
}

/// <summary>One physical crossbar: <see cref="Rows"/> word lines (inputs) by <see cref="Cols"/> bit lines (outputs), each cell holding <see cref="CellBits"/> bits.</summary>
public sealed record CrossbarSpec(int Rows, int Cols, int CellBits)
{
    public int Cells => Rows * Cols;

    /// <summary>Conductance levels a cell can hold: 2^cell_bits.</summary>
    public int Levels => 1 << CellBits;

    public override string ToString() => $"{Rows}x{Cols}";
}

/// <summary>The row drivers: bits applied per input slice.</summary>
public sealed record DacSpec(int Bits);

/// <summary>
/// The column converters: resolution, and <see cref="PerGroup"/> ADCs shared by each group of
/// <see cref="GroupCrossbars"/> consecutive crossbars of a core (crossbars 0..G-1, G..2G-1, ...); the
/// group's columns take turns on them. <c>GroupCrossbars = 1</c> is JSON's <c>per_crossbar</c>
/// form (ISAAC: 1 ADC per crossbar); PUMA's MVMU is <c>PerGroup = 2, GroupCrossbars = 8</c>.
/// </summary>
public sealed record AdcSpec(int Bits, int PerGroup, int GroupCrossbars = 1);

/// <summary>The precision a compile uses unless told otherwise, and how signed weights are stored.</summary>
public sealed record PrecisionSpec(int WeightBits, int ActivationBits, SignedWeights SignedWeights);

/// <summary>How a signed weight becomes non-negative conductances.</summary>
public enum SignedWeights
{
    /// <summary>A positive and a negative crossbar; the output is their difference.</summary>
    Differential,

    /// <summary>One crossbar of weights biased to be non-negative; the bias is subtracted digitally (ISAAC, PUMA).</summary>
    Offset,

    /// <summary>Two's-complement bit slices; the sign bit's slice counts negatively.</summary>
    TwosComplement,
}
