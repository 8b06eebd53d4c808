namespace Cimc.Mapping;

/// <summary>The crossbar and converter parameters that decide how weights and inputs are sliced.</summary>
public sealed record CrossbarGeometry(int Rows, int Cols, int CellBits, int DacBits, int AdcBits)
{
    /// <summary>Largest value an ADC conversion can return: 2^a - 1.</summary>
    public long AdcMax => (1L << AdcBits) - 1;
}
