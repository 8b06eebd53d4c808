namespace Cimc.Isa;

/// <summary>
/// A run of <see cref="Count"/> instructions of a core's code, from <see cref="Start"/>, that belongs
/// to sample slot <see cref="Slot"/> of the program's period: it runs only for samples n with
/// n mod period = Slot (docs/isa.md, "Replicated programs"). Instructions outside every section run
/// for every sample.
/// </summary>
public sealed record SlotSection(int Slot, int Start, int Count)
{
    public int End => Start + Count;
}

/// <summary>Where the host writes slot j's input and reads its output (slot 0 uses the .input and .output addresses).</summary>
public sealed record SlotIo(int InputTile, int InputAddr, int OutputTile, int OutputAddr);
