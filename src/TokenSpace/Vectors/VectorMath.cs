using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TokenSpace.Vectors;

/// <summary>
/// The dot products behind every query. One fixed accumulation order (two 8-lane accumulators,
/// then the tail) is used everywhere, so a score computed by a single query, a batch or a
/// re-ranking pass is the same float, bit for bit. Each fast kernel has a scalar twin that the
/// tests use as the oracle.
/// </summary>
static class VectorMath
{
    /// <summary>Σ a[i]·b[i] in float32, in the library's fixed order.</summary>
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        int n = a.Length;
        if (b.Length != n) ThrowLengths();
        ref float pa = ref MemoryMarshal.GetReference(a);
        ref float pb = ref MemoryMarshal.GetReference(b);
        int i = 0;
        float sum = 0f;
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var acc0 = Vector256<float>.Zero;
            var acc1 = Vector256<float>.Zero;
            for (; i <= n - 16; i += 16)
            {
                acc0 = MulAdd(Vector256.LoadUnsafe(ref pa, (nuint)i), Vector256.LoadUnsafe(ref pb, (nuint)i), acc0);
                acc1 = MulAdd(Vector256.LoadUnsafe(ref pa, (nuint)(i + 8)), Vector256.LoadUnsafe(ref pb, (nuint)(i + 8)), acc1);
            }
            if (i <= n - 8)
            {
                acc0 = MulAdd(Vector256.LoadUnsafe(ref pa, (nuint)i), Vector256.LoadUnsafe(ref pb, (nuint)i), acc0);
                i += 8;
            }
            sum = Vector256.Sum(acc0 + acc1);
        }
        for (; i < n; i++) sum += Unsafe.Add(ref pa, i) * Unsafe.Add(ref pb, i);
        return sum;
    }

    /// <summary>The oracle for <see cref="Dot"/>: a plain loop in double (not bit-identical; close).</summary>
    public static double DotScalar(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += (double)a[i] * b[i];
        return sum;
    }

    /// <summary>
    /// ‖a‖₂ with the squares summed in double: exact enough and free of overflow and underflow for
    /// every finite float32 row (a float32 sum of squares is 0 for values near 1e-23 and ∞ near 2e19).
    /// </summary>
    public static double Norm(ReadOnlySpan<float> a)
    {
        ref float p = ref MemoryMarshal.GetReference(a);
        int i = 0;
        double sum = 0;
        if (Vector256.IsHardwareAccelerated && a.Length >= 8)
        {
            var acc0 = Vector256<double>.Zero;
            var acc1 = Vector256<double>.Zero;
            for (; i <= a.Length - 8; i += 8)
            {
                var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref p, (nuint)i));
                acc0 += lo * lo;
                acc1 += hi * hi;
            }
            sum = Vector256.Sum(acc0 + acc1);
        }
        for (; i < a.Length; i++) sum += (double)Unsafe.Add(ref p, i) * Unsafe.Add(ref p, i);
        return Math.Sqrt(sum);
    }

    /// <summary>The oracle for <see cref="Norm"/>: √ of a plain loop over squares in double.</summary>
    public static double NormScalar(ReadOnlySpan<float> a) => Math.Sqrt(DotScalar(a, a));

    /// <summary>
    /// <paramref name="x"/> / <paramref name="norm"/> into <paramref name="dst"/>, divided in double so a
    /// norm beyond float32's range still gives the unit row; a zero norm gives a zero row.
    /// </summary>
    public static void Scale(ReadOnlySpan<float> x, double norm, Span<float> dst)
    {
        if (norm == 0)
        {
            dst.Clear();
            return;
        }
        if (dst.Length < x.Length) ThrowLengths();
        ref float px = ref MemoryMarshal.GetReference(x);
        ref float pd = ref MemoryMarshal.GetReference(dst);
        int j = 0;
        // Widening, an IEEE division and the rounding narrow give each value exactly what the scalar loop gives
        // (the tail, and the oracle ScaleScalar), so streamed unit rows equal held ones bit for bit. In place is fine.
        if (Vector256.IsHardwareAccelerated)
        {
            var n = Vector256.Create(norm);
            for (; j <= x.Length - 8; j += 8)
            {
                var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref px, (nuint)j));
                Vector256.Narrow(lo / n, hi / n).StoreUnsafe(ref pd, (nuint)j);
            }
        }
        for (; j < x.Length; j++) Unsafe.Add(ref pd, j) = (float)(Unsafe.Add(ref px, j) / norm);
    }

    /// <summary>The oracle for <see cref="Scale"/>: each value divided in double and rounded, one at a time.</summary>
    public static void ScaleScalar(ReadOnlySpan<float> x, double norm, Span<float> dst)
    {
        for (int j = 0; j < x.Length; j++) dst[j] = norm == 0 ? 0f : (float)(x[j] / norm);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> MulAdd(Vector256<float> a, Vector256<float> b, Vector256<float> acc) =>
        Fma.IsSupported ? Fma.MultiplyAdd(a, b, acc) : acc + a * b;

    static void ThrowLengths() => throw new ArgumentException("spans must have the same length");
}
