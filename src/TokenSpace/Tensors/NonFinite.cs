using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace TokenSpace.Tensors;

/// <summary>
/// Finds NaN and ±∞ in float32 data: a value is non-finite exactly when all eight exponent bits
/// are set, so the vector path compares masked bits instead of classifying floats one by one.
/// </summary>
public static class NonFinite
{
    const uint ExponentMask = 0x7F80_0000;

    /// <summary>Elements per parallel unit (4 MB of floats).</summary>
    const int UnitLength = 1 << 20;

    /// <summary>The index of the first NaN or infinity in <paramref name="values"/>, or -1.</summary>
    public static int IndexOf(ReadOnlySpan<float> values)
    {
        var bits = MemoryMarshal.Cast<float, uint>(values);
        ref uint p = ref MemoryMarshal.GetReference(bits);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var mask = Vector256.Create(ExponentMask);
            for (; i <= bits.Length - 32; i += 32)
            {
                var hit = Vector256.Equals(Vector256.LoadUnsafe(ref p, (nuint)i) & mask, mask)
                    | Vector256.Equals(Vector256.LoadUnsafe(ref p, (nuint)(i + 8)) & mask, mask)
                    | Vector256.Equals(Vector256.LoadUnsafe(ref p, (nuint)(i + 16)) & mask, mask)
                    | Vector256.Equals(Vector256.LoadUnsafe(ref p, (nuint)(i + 24)) & mask, mask);
                if (hit != Vector256<uint>.Zero) break; // the scalar loop below finds which one
            }
        }
        for (; i < bits.Length; i++)
        {
            if ((bits[i] & ExponentMask) == ExponentMask) return i;
        }
        return -1;
    }

    /// <summary>The oracle for <see cref="IndexOf"/>: <see cref="float.IsFinite"/> on each value in turn.</summary>
    public static int IndexOfScalar(ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i])) return i;
        }
        return -1;
    }

    /// <summary><see cref="IndexOf"/> over fixed units of <paramref name="values"/> spread over the threads (a mapped matrix is read
    /// once).</summary>
    public static int IndexOfParallel(ReadOnlyMemory<float> values)
    {
        int units = (values.Length + UnitLength - 1) / UnitLength;
        var found = new int[units];
        Threads.For(units, u =>
        {
            int start = u * UnitLength;
            int i = IndexOf(values.Span.Slice(start, Math.Min(UnitLength, values.Length - start)));
            found[u] = i < 0 ? -1 : start + i;
        });
        foreach (int i in found)
        {
            if (i >= 0) return i;
        }
        return -1;
    }

    /// <summary>The exponent bits of float16 and of bfloat16: a 16-bit value is NaN or ±∞ exactly when all of them are set.</summary>
    public const ushort Float16Exponent = 0x7C00, BFloat16Exponent = 0x7F80;

    /// <summary>
    /// The index of the first NaN or infinity among 16-bit values (float16 or bfloat16 bit patterns, told apart by
    /// <paramref name="exponent"/>), or -1: fixed units spread over the threads, as <see cref="IndexOfParallel"/>.
    /// </summary>
    public static int IndexOf16(ReadOnlyMemory<ushort> bits, ushort exponent)
    {
        int units = (bits.Length + UnitLength - 1) / UnitLength;
        var found = new int[units];
        Threads.For(units, u =>
        {
            int start = u * UnitLength;
            var span = bits.Span.Slice(start, Math.Min(UnitLength, bits.Length - start));
            ref ushort p = ref MemoryMarshal.GetReference(span);
            int i = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                var mask = Vector256.Create(exponent);
                for (; i <= span.Length - 32; i += 32)
                {
                    var hit = Vector256.Equals(Vector256.LoadUnsafe(ref p, (nuint)i) & mask, mask)
                        | Vector256.Equals(Vector256.LoadUnsafe(ref p, (nuint)(i + 16)) & mask, mask);
                    if (hit != Vector256<ushort>.Zero) break; // the scalar loop below finds which one
                }
            }
            for (; i < span.Length && (span[i] & exponent) != exponent; i++) { }
            found[u] = i < span.Length ? start + i : -1;
        });
        foreach (int i in found)
        {
            if (i >= 0) return i;
        }
        return -1;
    }
}
