using System.Runtime.InteropServices;

namespace TokenSpace.Tensors;

/// <summary>Finds NaN and infinity in float buffers, at memory speed.</summary>
public static class Finite
{
    /// <summary>The index of the first NaN or ±infinity in <paramref name="values"/>, or −1 when every value is finite.</summary>
    /// <remarks>A float is not finite exactly when its eight exponent bits are all set: as an int that is the range
    /// [0x7F800000, int.MaxValue] (positive sign) or [0xFF800000, −1] (negative), two vectorised range searches.</remarks>
    public static int IndexOfNonFinite(ReadOnlySpan<float> values)
    {
        var bits = MemoryMarshal.Cast<float, int>(values);
        int positive = bits.IndexOfAnyInRange(0x7F800000, int.MaxValue);
        int negative = bits.IndexOfAnyInRange(unchecked((int)0xFF800000), -1);
        return positive < 0 ? negative : negative < 0 ? positive : Math.Min(positive, negative);
    }
}
