namespace Cimc.Mapping;

/// <summary>The crossbar and converter parameters that decide how weights and inputs are sliced.</summary>
public sealed record CrossbarGeometry(int Rows, int Cols, int CellBits, int DacBits, int AdcBits)
{
    /// <summary>Largest value an ADC conversion can return: 2^a - 1.</summary>
    public long AdcMax => (1L << AdcBits) - 1;

    /// <summary>True if no column sum of one input slice can exceed the ADC range.</summary>
    public bool CannotSaturate => (long)Rows * ((1L << DacBits) - 1) * ((1L << CellBits) - 1) <= AdcMax;
}
