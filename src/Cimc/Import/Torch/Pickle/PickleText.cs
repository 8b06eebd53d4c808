using System.Globalization;
using System.Numerics;

namespace Cimc.Import.Torch.Pickle;

/// <summary>Short, bounded descriptions of pickle values for diagnostics (never recursive).</summary>
internal static class PickleText
{
    public static string TypeName(object? value) => value switch
    {
        null => "None",
        bool => "bool",
        long or BigInteger => "int",
        double => "float",
        string => "str",
        byte[] => "bytes",
        PyTuple => "tuple",
        List<object?> => "list",
        PyDict => "dict",
        PySet => "set",
        PyGlobal g => g.FullName,
        PyObject o => o.ClassName,
        TorchTensor => "tensor",
        StorageRef => "storage",
        _ => value.GetType().Name,
    };

    public static string Short(object? value) => value switch
    {
        null => "None",
        bool b => b ? "True" : "False",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        string s => s.Length <= 60 ? $"'{s}'" : $"'{s[..57]}...'",
        _ => TypeName(value),
    };
}
