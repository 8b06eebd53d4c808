using Cimc.Architectures;
using Cimc.Isa;

namespace Cimc.Performance;

/// <summary>
/// What reprogramming crossbars costs (docs/cost-model.md section 3b). The figures are PUMA's for
/// writing one whole 128 x 128 crossbar (Ankit et al., ASPLOS 2019; puma-simulator
/// include/constants.py: xbar_wr_lat = 351,000 / 32 ns = 10,968.75 ns, xbar_wr_pow = (676,000 / 32) /
/// (328,000 / 32) mW = 2.061 mW, "for entire xbar", peripherals included), spread over its cells and
/// rows: energy = 2.061 mW x 10,968.75 ns / 16,384 cells = 1.380 pJ per cell, latency = 10,968.75 ns /
/// 128 rows = 85.69 ns per row, a row's cells written together and a crossbar's rows one after another.
/// A core writes its crossbars one after another (they share its write drivers); cores write in parallel.
/// </summary>
public static class CellWrites
{
    public const double PumaCrossbarWriteNs = 351_000.0 / 32;
    public const double PumaCrossbarWriteMw = (676_000.0 / 32) / (328_000.0 / 32);
    public const int PumaCrossbarCells = 128 * 128;

    /// <summary>Energy per cell written, pJ (mW x ns = pJ).</summary>
    public const double EnergyPjPerCell = PumaCrossbarWriteMw * PumaCrossbarWriteNs / PumaCrossbarCells;

    /// <summary>Latency per crossbar row written, ns.</summary>
    public const double NsPerRow = PumaCrossbarWriteNs / 128;

    /// <summary>Writing a program's crossbars: cells written, their energy, and the time until the slowest core is done.</summary>
    public sealed record Cost(long Cells, double EnergyPj, double Ns, int Crossbars);

    /// <summary>
    /// Every crossbar the program's mvms use holds weights of this segment, so all its rows x cols cells
    /// are written (its unused cells to level 0), whatever the previous segment left there.
    /// </summary>
    public static Cost Of(ProgramImage program, Architecture arch)
    {
        int rows = arch.Core.Crossbar.Rows, cols = arch.Core.Crossbar.Cols;
        var perCore = program.Cores.Select(c => c.Code.Where(i => i.Opcode == Opcode.Mvm).Select(i => (int)i["xb"]).Distinct().Count()).ToList();
        int crossbars = perCore.Sum();
        long cells = (long)crossbars * rows * cols;
        return new Cost(cells, cells * EnergyPjPerCell, perCore.DefaultIfEmpty(0).Max() * rows * NsPerRow, crossbars);
    }
}
