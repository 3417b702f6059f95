namespace TokenSpace.Tensors;

// Legend: N elements.

/// <summary>
/// GELU in its tanh form (GPT-2's, PyTorch <c>approximate="tanh"</c>):
/// <c>out = ½ x (1 + tanh(√(2/π) (x + 0.044715 x³)))</c>.
/// </summary>
public static class Gelu
{
    const int ElementsPerUnit = 16384;
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
                int end = Math.Min(N, (unit + 1) * ElementsPerUnit);
                for (int i = unit * ElementsPerUnit; i < end; i++)
                {
                    float v = ((float*)x)[i];
                    ((float*)o)[i] = 0.5f * v * (1f + MathF.Tanh(Scale * (v + 0.044715f * v * v * v)));
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
            Work.For((N + ElementsPerUnit - 1) / ElementsPerUnit, 8L * N, unit =>
            {
                int end = Math.Min(N, (unit + 1) * ElementsPerUnit);
                for (int i = unit * ElementsPerUnit; i < end; i++)
                {
                    float v = ((float*)x)[i];
                    float th = MathF.Tanh(Scale * (v + 0.044715f * v * v * v));
                    // sech² = 1 − tanh², which stays finite where cosh would overflow.
                    float grad = 0.5f * (1f + th) + 0.5f * v * (1f - th * th) * Scale * (1f + 3f * 0.044715f * v * v);
                    ((float*)din)[i] += grad * ((float*)dout)[i];
                }
            });
        }
    }

    /// <summary>Plain scalar GELU in double precision: the test oracle.</summary>
    public static double Scalar(double x) => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
}
