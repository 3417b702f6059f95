using System.Numerics.Tensors;

namespace TokenSpace.Tensors;

// Legend: N elements.

/// <summary>
/// GELU in its tanh form (GPT-2's, PyTorch <c>approximate="tanh"</c>):
/// <c>out = ½ x (1 + tanh(√(2/π) (x + 0.044715 x³)))</c>.
/// </summary>
public static class Gelu
{
    const int ElementsPerUnit = 16384;
    const int Block = 512;
    static readonly float Scale = MathF.Sqrt(2f / MathF.PI);

    /// <summary>Applies GELU elementwise.</summary>
    /// <param name="output">(N), overwritten.</param>
    /// <param name="input">(N).</param>
    public static unsafe void Forward(Span<float> output, ReadOnlySpan<float> input)
    {
        int N = input.Length;
        fixed (float* pOut = output, pInp = input)
        {
            nint o = (nint)pOut, x = (nint)pInp;
            Work.For((N + ElementsPerUnit - 1) / ElementsPerUnit, 8L * N, unit =>
            {
                Span<float> t = stackalloc float[Block];
                int end = Math.Min(N, (unit + 1) * ElementsPerUnit);
                for (int start = unit * ElementsPerUnit; start < end; start += Block)
                {
                    int n = Math.Min(Block, end - start);
                    var xs = new ReadOnlySpan<float>((float*)x + start, n);
                    var ts = t[..n];
                    SigmoidOfTwiceInner(xs, ts);
                    TensorPrimitives.Multiply(ts, xs, new Span<float>((float*)o + start, n));
                }
            });
        }
    }

    /// <summary>Adds <c>dOut · gelu′(x)</c> into <paramref name="dInput"/>.</summary>
    /// <param name="dInput">(N), accumulated into.</param>
    /// <param name="input">(N), the forward input.</param>
    /// <param name="dOut">(N).</param>
    public static unsafe void Backward(Span<float> dInput, ReadOnlySpan<float> input, ReadOnlySpan<float> dOut)
    {
        int N = input.Length;
        fixed (float* pDin = dInput, pInp = input, pDout = dOut)
        {
            nint din = (nint)pDin, x = (nint)pInp, dout = (nint)pDout;
            Work.For((N + ElementsPerUnit - 1) / ElementsPerUnit, 16L * N, unit =>
            {
                Span<float> th = stackalloc float[Block];
                Span<float> u = stackalloc float[Block];
                Span<float> w = stackalloc float[Block];
                int end = Math.Min(N, (unit + 1) * ElementsPerUnit);
                for (int start = unit * ElementsPerUnit; start < end; start += Block)
                {
                    int n = Math.Min(Block, end - start);
                    var xs = new ReadOnlySpan<float>((float*)x + start, n);
                    var ts = th[..n];
                    var us = u[..n];
                    var ws = w[..n];
                    SigmoidOfTwiceInner(xs, ts);                            // σ = ½(1 + th)
                    // gelu′ = ½(1 + th) + ½x(1 − th²)·√(2/π)(1 + 3·0.044715x²) = σ + 2x√(2/π)(1 + 3·0.044715x²)·σ(1 − σ).
                    TensorPrimitives.Multiply(xs, xs, us);
                    TensorPrimitives.Multiply(us, 3f * 0.044715f, us);
                    TensorPrimitives.Add(us, 1f, us);
                    TensorPrimitives.Multiply(us, xs, us);
                    TensorPrimitives.Multiply(us, 2f * Scale, us);
                    TensorPrimitives.Multiply(ts, ts, ws);
                    TensorPrimitives.Subtract(ts, ws, ws);
                    TensorPrimitives.MultiplyAdd(ws, us, ts, us);
                    var dx = new Span<float>((float*)din + start, n);
                    TensorPrimitives.MultiplyAdd(us, new ReadOnlySpan<float>((float*)dout + start, n), dx, dx);
                }
            });
        }
    }

    /// <summary>
    /// Writes <c>σ(2z) = ½(1 + tanh z)</c> with <c>z = √(2/π)·x·(1 + 0.044715x²)</c>: the same function as the
    /// tanh form, through the vectorised exponential (TensorPrimitives.Tanh runs scalar), and saturating
    /// cleanly to 0 or 1 where exp overflows.
    /// </summary>
    static void SigmoidOfTwiceInner(ReadOnlySpan<float> x, Span<float> destination)
    {
        TensorPrimitives.Multiply(x, x, destination);
        TensorPrimitives.Multiply(destination, 0.044715f, destination);
        TensorPrimitives.Add(destination, 1f, destination);
        TensorPrimitives.Multiply(destination, x, destination);
        TensorPrimitives.Multiply(destination, 2f * Scale, destination);
        TensorPrimitives.Sigmoid(destination, destination);
    }

    /// <summary>Plain scalar GELU in double precision: the test oracle.</summary>
    public static double Scalar(double x) => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
}
