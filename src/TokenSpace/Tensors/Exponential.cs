using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TokenSpace.Tensors;

/// <summary>
/// <c>e^x</c> in single precision for the hot loops (GELU, attention's softmax): within 1 ulp of the exact value
/// for normal results, at about half the cost of <see cref="Vector.Exp(Vector{float})"/>, which computes
/// in double. The scalar and the vector forms take the same steps, so every lane equals the scalar result.
/// </summary>
/// <remarks>
/// <c>x = n·ln 2 + r</c> with n = round(x / ln 2) and |r| ≤ ½ ln 2 (ln 2 in two parts, so r is exact to
/// float precision); <c>e^r</c> by its Taylor series to degree 7 (truncation below 1e-8 relative); then
/// <c>2^n</c> applied as two exponent-field scalings, so results that overflow become +∞ and results below
/// the normal range go gradually to 0. Inputs are clamped to [−104, 89], past which the result is 0 or +∞
/// anyway; NaN stays NaN.
/// </remarks>
public static class Exponential
{
    const float Log2E = 1.44269504f, Ln2Hi = 0.693145752f, Ln2Lo = 1.42860677e-6f, Low = -104f, High = 89f;
    const float C2 = 1f / 2, C3 = 1f / 6, C4 = 1f / 24, C5 = 1f / 120, C6 = 1f / 720, C7 = 1f / 5040;

    /// <summary><c>e^x</c> in every lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Exp(Vector<float> x)
    {
        // Low and High first: a NaN operand is the one these instructions return.
        x = Vector.MinNative(new Vector<float>(High), Vector.MaxNative(new Vector<float>(Low), x));
        var n = Vector.Round(x * new Vector<float>(Log2E));
        var r = Vector.FusedMultiplyAdd(n, new Vector<float>(-Ln2Lo), Vector.FusedMultiplyAdd(n, new Vector<float>(-Ln2Hi), x));
        var p = Vector.FusedMultiplyAdd(new Vector<float>(C7), r, new Vector<float>(C6));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(C5));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(C4));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(C3));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(C2));
        p = Vector.FusedMultiplyAdd(p, r, Vector<float>.One);
        p = Vector.FusedMultiplyAdd(p, r, Vector<float>.One);
        var k = Vector.ConvertToInt32Native(n);
        var half = Vector.ShiftRightArithmetic(k, 1);
        return p * Power(half) * Power(k - half);
    }

    /// <summary><c>e^x</c> in every lane of a 512-bit vector, by the same steps (GELU's loop where AVX-512 runs it).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        x = Vector512.MinNative(Vector512.Create(High), Vector512.MaxNative(Vector512.Create(Low), x));
        var n = Vector512.Round(x * Log2E);
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Lo), Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Hi), x));
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(C7), r, Vector512.Create(C6));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C5));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C4));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C3));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C2));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
        var k = Vector512.ConvertToInt32Native(n);
        var half = Vector512.ShiftRightArithmetic(k, 1);
        return p * Power(half) * Power(k - half);
    }

    /// <summary><c>e^x</c>, by the same steps as the vector form.</summary>
    public static float Exp(float x)
    {
        x = Math.Min(Math.Max(x, Low), High);
        float n = MathF.Round(x * Log2E);
        float r = MathF.FusedMultiplyAdd(n, -Ln2Lo, MathF.FusedMultiplyAdd(n, -Ln2Hi, x));
        float p = MathF.FusedMultiplyAdd(C7, r, C6);
        p = MathF.FusedMultiplyAdd(p, r, C5);
        p = MathF.FusedMultiplyAdd(p, r, C4);
        p = MathF.FusedMultiplyAdd(p, r, C3);
        p = MathF.FusedMultiplyAdd(p, r, C2);
        p = MathF.FusedMultiplyAdd(p, r, 1f);
        p = MathF.FusedMultiplyAdd(p, r, 1f);
        int k = (int)n, half = k >> 1;
        return p * Power(half) * Power(k - half);
    }

    /// <summary>
    /// <c>result[i] = e^(x[i]·scale + shift)</c> (one fused multiply-add, then <see cref="Exp(Vector{float})"/>), returning the sum of
    /// the results: whole vectors lane by lane, then the tail (in order, or where AVX-512 runs as one more vector with the lanes past
    /// the end left out), then the lanes added. <paramref name="result"/> may be <paramref name="x"/>. The softmaxes' shared middle
    /// step (attention's rows, the loss over the vocabulary).
    /// </summary>
    public static float ExpSum(ReadOnlySpan<float> x, float scale, float shift, Span<float> result)
    {
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported) return ExpSum512(x, scale, shift, result);
        int W = Vector<float>.Count, i = 0;
        var vScale = new Vector<float>(scale);
        var vShift = new Vector<float>(shift);
        var vSum = Vector<float>.Zero;
        for (; i + W <= x.Length; i += W)
        {
            var e = Exp(Vector.FusedMultiplyAdd(new Vector<float>(x[i..]), vScale, vShift));
            e.CopyTo(result[i..]);
            vSum += e;
        }
        float sum = Vector.Sum(vSum);
        for (; i < x.Length; i++)
        {
            result[i] = Exp(MathF.FusedMultiplyAdd(x[i], scale, shift));
            sum += result[i];
        }
        return sum;
    }

    /// <summary>
    /// <see cref="ExpSum"/> in 512-bit vectors, the tail too: attention's rows are t + 1 long, so a scalar tail averaged 7.5 of
    /// them a row (shakespeare-char-small's attention forward, 4 layers, 2 threads, Zen 5, alternating runs: 2.19 -> 1.97 ms).
    /// </summary>
    static unsafe float ExpSum512(ReadOnlySpan<float> x, float scale, float shift, Span<float> result)
    {
        const int W = 16;
        int i = 0, n = x.Length;
        var vScale = Vector512.Create(scale);
        var vShift = Vector512.Create(shift);
        var vSum = Vector512<float>.Zero;
        fixed (float* px = x, pr = result)
        {
            for (; i + W <= n; i += W)
            {
                var e = Exp(Vector512.FusedMultiplyAdd(Vector512.Load(px + i), vScale, vShift));
                e.Store(pr + i);
                vSum += e;
            }
            if (i < n)
            {
                // Masked: the lanes past the end are neither read nor written, and add nothing.
                var inside = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(n - i)).AsSingle();
                var e = Exp(Vector512.FusedMultiplyAdd(Avx512F.MaskLoad(px + i, inside, Vector512<float>.Zero), vScale, vShift));
                Avx512F.MaskStore(pr + i, inside, e);
                vSum += e & inside;
            }
        }
        return Vector512.Sum(vSum);
    }

    /// <summary><c>2^k</c> for k in [−126, 127], built in the exponent field.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector<float> Power(Vector<int> k) => Vector.AsVectorSingle(Vector.ShiftLeft(k + new Vector<int>(127), 23));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Power(Vector512<int> k) => Vector512.ShiftLeft(k + Vector512.Create(127), 23).AsSingle();

    static float Power(int k) => BitConverter.Int32BitsToSingle((k + 127) << 23);
}
