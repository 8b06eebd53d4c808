namespace Cimc.Isa;

/// <summary>
/// The operations of the CIM core. The numeric value is the opcode byte of the encoding; everything
/// else about an opcode (mnemonic, fields, latency class, meaning) is in <see cref="InstructionSet"/>.
/// </summary>
public enum Opcode : byte
{
    Nop = 0,
    Halt = 1,
    Load = 2,
    Store = 3,
    Set = 4,
    Mvm = 5,
    VClear = 6,
    VCopy = 7,
    VAdd = 8,
    VSum = 9,
    VAxpy = 10,
    VMax = 11,
    VRequant = 12,
    VLut = 13,
    Send = 14,
    Recv = 15,
    VAct = 16,
    VMaxV = 17,
}
