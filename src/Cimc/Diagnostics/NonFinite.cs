namespace Cimc.Diagnostics;

/// <summary>
/// A NaN or infinite weight cannot be mapped to conductances and would poison every scale computed
/// from it; importers refuse it where the tensor's name is still known.
/// </summary>
public static class NonFinite
{
    /// <summary>Throws naming the first non-finite value and its index in a row-major tensor of shape <paramref name="dims"/>.</summary>
    public static void Refuse(IReadOnlyList<long> dims, ReadOnlySpan<float> data, string code, string location)
    {
        int bad = -1;
        for (int i = 0; i < data.Length; i++)
        {
            if (!float.IsFinite(data[i]))
            {
                bad = i;
                break;
            }
        }

        if (bad < 0)
        {
            return;
        }

        var index = new long[dims.Count];
        long rest = bad;
        for (int d = index.Length - 1; d >= 0; d--)
        {
            index[d] = dims[d] == 0 ? 0 : rest % dims[d];
            rest = dims[d] == 0 ? 0 : rest / dims[d];
        }

        throw new CimcException(code, location, $"contains {data[bad].ToString(System.Globalization.CultureInfo.InvariantCulture)} at [{string.Join(",", index)}]; weights must be finite");
    }
}
