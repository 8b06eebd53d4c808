using System.Globalization;
using System.Text;
using Cimc.Placement;

namespace Cimc.Mapping;

/// <summary>The mapped and placed model's text form (`cimc compile --emit mapped`): one line per crossbar block.</summary>
public static class MappedPrinter
{
    public static string Print(PlacedModel placed)
    {
        CrossbarGeometry g = placed.Mapped.Geometry;
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"mapped {placed.Mapped.Model.Name}: crossbars {g.Rows}x{g.Cols}, {g.CellBits}-bit cells, {g.DacBits}-bit DAC, {g.AdcBits}-bit ADC, signed weights {placed.Mapped.Encoding.ToString().ToLowerInvariant()}");
        foreach (PlacedLayer layer in placed.Layers)
        {
            MappedLayer m = layer.Mapped;
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"layer {m.Layer.Name}: {m.Layer.InFeatures}x{m.Layer.OutFeatures}, {m.StoredWeightBits}-bit stored weights in {m.Slices} slices x {m.Polarities} polarities, {m.RowBlocks} row blocks x {m.ColBlocks} column blocks = {m.Crossbars} crossbars on cores {string.Join(",", layer.Cores)} (lead {layer.Lead}), utilization {m.Utilization(g):P1}");
            foreach (PlacedBlock pb in layer.Blocks)
            {
                CrossbarBlock b = pb.Block;
                sb.AppendLine(CultureInfo.InvariantCulture,
                    $"  core {pb.Core} xb {pb.Crossbar}: rows [{b.RowStart},{b.RowStart + b.RowCount}) cols [{b.ColStart},{b.ColStart + b.ColCount}) {(b.Polarity > 0 ? "+" : "-")} slice {b.Slice}");
            }
        }

        return sb.ToString();
    }
}
