namespace TokenSpace.Tensors;

// Legend: N rows (B·T flattened), C channels.

/// <summary>
/// Root-mean-square normalisation without weights (as microgpt): <c>out = x · rstd</c> with
/// <c>rstd = 1/√(mean(x²) + eps)</c>.
/// </summary>
public static class RmsNorm
{
    const int RowsPerUnit = 16;

    /// <summary>Normalises each row and saves <c>rstd</c> for backward.</summary>
    /// <param name="output">(N, C), overwritten.</param>
    /// <param name="rstd">(N), overwritten.</param>
    /// <param name="input">(N, C).</param>
    public static unsafe void Forward(Span<float> output, Span<float> rstd, ReadOnlySpan<float> input, int N, int C, float eps)
    {
        using var timer = KernelProfile.Time(KernelProfile.Part.Norms);
        fixed (float* pOut = output, pRstd = rstd, pInp = input)
        {
            nint o = (nint)pOut, r = (nint)pRstd, x = (nint)pInp;
            Threads.For((N + RowsPerUnit - 1) / RowsPerUnit, (long)N * C, unit =>
            {
                int end = Math.Min(N, (unit + 1) * RowsPerUnit);
                for (int n = unit * RowsPerUnit; n < end; n++)
                {
                    float* xr = (float*)x + (long)n * C, or = (float*)o + (long)n * C;
                    float ss = 0f;
                    for (int c = 0; c < C; c++) ss += xr[c] * xr[c];
                    float s = 1f / MathF.Sqrt(ss / C + eps);
                    for (int c = 0; c < C; c++) or[c] = xr[c] * s;
                    ((float*)r)[n] = s;
                }
            });
        }
    }

    /// <summary>
    /// Adds the gradient of <see cref="Forward"/>: <c>dInput += rstd · (dOut − norm · mean(dOut · norm))</c>
    /// where <c>norm = x · rstd</c>.
    /// </summary>
    /// <param name="dInput">(N, C), accumulated into.</param>
    /// <param name="dOut">(N, C).</param>
    /// <param name="input">(N, C).</param>
    /// <param name="rstd">(N) from <see cref="Forward"/>.</param>
    public static unsafe void Backward(Span<float> dInput, ReadOnlySpan<float> dOut, ReadOnlySpan<float> input,
        ReadOnlySpan<float> rstd, int N, int C)
    {
        using var timer = KernelProfile.Time(KernelProfile.Part.Norms);
        fixed (float* pDin = dInput, pDout = dOut, pInp = input, pRstd = rstd)
        {
            nint din = (nint)pDin, dout = (nint)pDout, x = (nint)pInp, r = (nint)pRstd;
            Threads.For((N + RowsPerUnit - 1) / RowsPerUnit, (long)N * C, unit =>
            {
                int end = Math.Min(N, (unit + 1) * RowsPerUnit);
                for (int n = unit * RowsPerUnit; n < end; n++)
                {
                    float* xr = (float*)x + (long)n * C, g = (float*)dout + (long)n * C, dx = (float*)din + (long)n * C;
                    float s = ((float*)r)[n];
                    float dot = 0f;
                    for (int c = 0; c < C; c++) dot += g[c] * xr[c] * s;
                    dot /= C;
                    for (int c = 0; c < C; c++) dx[c] += s * (g[c] - xr[c] * s * dot);
                }
            });
        }
    }

    /// <summary>Plain scalar <see cref="Forward"/> in double precision: the test oracle.</summary>
    public static void ForwardScalar(Span<float> output, ReadOnlySpan<float> input, int N, int C, float eps)
    {
        for (int n = 0; n < N; n++)
        {
            double ss = 0;
            for (int c = 0; c < C; c++) ss += (double)input[n * C + c] * input[n * C + c];
            double s = 1 / Math.Sqrt(ss / C + eps);
            for (int c = 0; c < C; c++) output[n * C + c] = (float)(input[n * C + c] * s);
        }
    }
}
