using System.Globalization;
using System.Text;
using Cimc.Placement;

namespace Cimc.Mapping;

/// <summary>The mapped and placed model's text form (`cimc compile --emit mapped`): one line per crossbar block.</summary>
public static class MappedPrinter
{
    public static string Print(PlacedModel placed) => Print(placed.Mapped, placed);

    /// <summary>The mapped model before placement: the same lines without cores.</summary>
    public static string Print(MappedModel mapped) => Print(mapped, null);

    private static string Print(MappedModel mapped, PlacedModel? placed)
    {
        CrossbarGeometry g = mapped.Geometry;
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"mapped {mapped.Model.Name}: crossbars {g.Rows}x{g.Cols}, {g.CellBits}-bit cells, {g.DacBits}-bit DAC, {g.AdcBits}-bit ADC, signed weights {mapped.Encoding.ToString().ToLowerInvariant()}");
        for (int l = 0; l < mapped.Layers.Length; l++)
        {
            MappedLayer m = mapped.Layers[l];
            PlacedLayer? layer = placed?.Layers[l];
            string where = layer is null ? "" : $" on cores {string.Join(",", layer.Cores)} (lead {layer.Lead})";
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"layer {m.Layer.Name}: {m.Layer.InFeatures}x{m.Layer.OutFeatures}, {m.StoredWeightBits}-bit stored weights in {m.Slices} slices x {m.Polarities} polarities, {m.RowBlocks} row blocks x {m.ColBlocks} column blocks = {m.Crossbars} crossbars{where}, utilization {m.Utilization(g):P1}");
            for (int i = 0; i < m.Blocks.Length; i++)
            {
                CrossbarBlock b = m.Blocks[i];
                string at = layer is null ? "" : $"core {layer.Blocks[i].Core} xb {layer.Blocks[i].Crossbar}: ";
                sb.AppendLine(CultureInfo.InvariantCulture,
                    $"  {at}rows [{b.RowStart},{b.RowStart + b.RowCount}) cols [{b.ColStart},{b.ColStart + b.ColCount}) {(b.Polarity > 0 ? "+" : "-")} slice {b.Slice}");
            }

            // Replicas hold the same blocks in the same order on other cores; one line each.
            if (m.Replicas > 1)
            {
                string cores = placed is null || placed.ExtraReplicas.IsEmpty ? ""
                    : ": " + string.Join("; ", placed.ExtraReplicas[l].Select((r, i) => $"replica {i + 1} on cores {string.Join(",", r.Cores)}"));
                sb.AppendLine(CultureInfo.InvariantCulture, $"  {m.Replicas} replicas (replica r serves samples r mod {m.Replicas}){cores}");
            }
        }

        return sb.ToString();
    }
}
