using System.Numerics;
using System.Runtime.Intrinsics;

namespace TokenSpace.Tensors;

// Legend: N elements.

/// <summary>
/// GELU in its tanh form (GPT-2's, PyTorch <c>approximate="tanh"</c>):
/// <c>out = ½ x (1 + tanh(√(2/π) (x + 0.044715 x³)))</c>.
/// </summary>
public static class Gelu
{
    const int ElementsPerUnit = 16384;
    const float A = 0.044715f;
    /// <summary>2·√(2/π).</summary>
    const float TwoS = 1.59576912f;

    /// <summary>Applies GELU elementwise.</summary>
    /// <param name="output">(N), overwritten.</param>
    /// <param name="input">(N).</param>
    public static unsafe void Forward(Span<float> output, ReadOnlySpan<float> input)
    {
        using var timer = KernelProfile.Time(KernelProfile.Part.Activations);
        int N = input.Length;
        fixed (float* pOut = output, pInp = input)
        {
            nint o = (nint)pOut, x = (nint)pInp;
            Threads.For((N + ElementsPerUnit - 1) / ElementsPerUnit, 8L * N, unit =>
            {
                int i = unit * ElementsPerUnit, end = Math.Min(N, i + ElementsPerUnit), W = Vector<float>.Count;
                float* xs = (float*)x, ys = (float*)o;
                if (Vector512.IsHardwareAccelerated)
                    for (; i + 16 <= end; i += 16)
                    {
                        var v = Vector512.Load(xs + i);
                        (v * Sigma(v)).Store(ys + i);
                    }
                for (; i + W <= end; i += W)
                {
                    var v = Vector.Load(xs + i);
                    (v * Sigma(v)).Store(ys + i);
                }
                for (; i < end; i++) ys[i] = xs[i] * Sigma(xs[i]);
            });
        }
    }

    /// <summary>
    /// Adds <c>dOut · gelu′(x)</c> into <paramref name="dInput"/>, or writes it there when
    /// <paramref name="accumulate"/> is false (sparing the read of a buffer that would only hold zeros);
    /// <paramref name="dInput"/> may then be <paramref name="dOut"/> itself.
    /// </summary>
    /// <param name="dInput">(N), accumulated into or overwritten.</param>
    /// <param name="input">(N), the forward input.</param>
    /// <param name="dOut">(N).</param>
    /// <remarks>
    /// gelu′ = ½(1 + th) + ½x(1 − th²)·√(2/π)(1 + 3·0.044715x²) = σ + 2√(2/π)·x(1 + 3·0.044715x²)·σ(1 − σ).
    /// </remarks>
    public static unsafe void Backward(Span<float> dInput, ReadOnlySpan<float> input, ReadOnlySpan<float> dOut, bool accumulate = true)
    {
        using var timer = KernelProfile.Time(KernelProfile.Part.Activations);
        int N = input.Length;
        fixed (float* pDin = dInput, pInp = input, pDout = dOut)
        {
            nint din = (nint)pDin, x = (nint)pInp, dout = (nint)pDout;
            Threads.For((N + ElementsPerUnit - 1) / ElementsPerUnit, 16L * N, unit =>
            {
                int i = unit * ElementsPerUnit, end = Math.Min(N, i + ElementsPerUnit), W = Vector<float>.Count;
                float* xs = (float*)x, dx = (float*)din, dy = (float*)dout;
                if (Vector512.IsHardwareAccelerated)
                    for (; i + 16 <= end; i += 16)
                    {
                        var v = Vector512.Load(xs + i);
                        var sigma = Sigma(v);
                        var slope = v * (Vector512<float>.One + 3 * A * v * v) * TwoS;
                        var derivative = sigma + slope * sigma * (Vector512<float>.One - sigma);
                        Vector512.FusedMultiplyAdd(Vector512.Load(dy + i), derivative, accumulate ? Vector512.Load(dx + i)
                            : Vector512<float>.Zero).Store(dx + i);
                    }
                for (; i + W <= end; i += W)
                {
                    var v = Vector.Load(xs + i);
                    var sigma = Sigma(v);
                    var slope = v * (Vector<float>.One + new Vector<float>(3 * A) * v * v) * new Vector<float>(TwoS);
                    var derivative = sigma + slope * sigma * (Vector<float>.One - sigma);
                    Vector.FusedMultiplyAdd(Vector.Load(dy + i), derivative, accumulate ? Vector.Load(dx + i)
                        : Vector<float>.Zero).Store(dx + i);
                }
                for (; i < end; i++)
                {
                    float sigma = Sigma(xs[i]), slope = xs[i] * (1 + 3 * A * xs[i] * xs[i]) * TwoS;
                    dx[i] = MathF.FusedMultiplyAdd(dy[i], sigma + slope * sigma * (1 - sigma), accumulate ? dx[i] : 0f);
                }
            });
        }
    }

    /// <summary>
    /// <c>σ(2z) = ½(1 + tanh z)</c> with <c>z = √(2/π)·x·(1 + 0.044715x²)</c>: the tanh form through the
    /// exponential, saturating cleanly to 0 or 1 where exp overflows.
    /// </summary>
    static Vector<float> Sigma(Vector<float> x) =>
        Vector<float>.One / (Vector<float>.One
            + Exponential.Exp(-(x * (Vector<float>.One + new Vector<float>(A) * x * x) * new Vector<float>(TwoS))));

    /// <summary><see cref="Sigma(Vector{float})"/> on 512-bit vectors: half the instructions per element where AVX-512 runs
    /// them (<see cref="Vector{T}"/> stays 256 bits wide there).</summary>
    static Vector512<float> Sigma(Vector512<float> x) =>
        Vector512<float>.One / (Vector512<float>.One + Exponential.Exp(-(x * (Vector512<float>.One + A * x * x) * TwoS)));

    /// <summary>The scalar <see cref="Sigma(Vector{float})"/>, for the elements after the last whole vector.</summary>
    static float Sigma(float x) => 1f / (1f + Exponential.Exp(-(x * (1f + A * x * x) * TwoS)));

    /// <summary>Plain scalar GELU in double precision: the test oracle.</summary>
    public static double Scalar(double x) => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
}
