namespace TokenSpace.Tensors;

// Legend: N rows (B·T flattened), C channels.

/// <summary>
/// Layer normalisation over the last axis: <c>out = (x − mean) · rstd · weight + bias</c> with
/// <c>rstd = 1/√(var + eps)</c> (biased variance, as PyTorch's <c>nn.LayerNorm</c>).
/// </summary>
public static class LayerNorm
{
    const int RowsPerUnit = 16;

    /// <summary>Normalises each row of <paramref name="input"/> and saves the statistics backward needs.</summary>
    /// <param name="output">(N, C), overwritten.</param>
    /// <param name="mean">(N), overwritten.</param>
    /// <param name="rstd">(N), overwritten.</param>
    /// <param name="input">(N, C).</param>
    /// <param name="weight">(C), or empty for a unit scale.</param>
    /// <param name="bias">(C), or empty for no shift.</param>
    public static unsafe void Forward(Span<float> output, Span<float> mean, Span<float> rstd, ReadOnlySpan<float> input,
        ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int N, int C, float eps)
    {
        fixed (float* pOut = output, pMean = mean, pRstd = rstd, pInp = input, pW = weight, pB = bias)
        {
            nint o = (nint)pOut, m = (nint)pMean, r = (nint)pRstd, x = (nint)pInp, w = (nint)pW, b = (nint)pB;
            Work.For((N + RowsPerUnit - 1) / RowsPerUnit, (long)N * C, unit =>
            {
                int end = Math.Min(N, (unit + 1) * RowsPerUnit);
                for (int n = unit * RowsPerUnit; n < end; n++)
                {
                    ForwardRow((float*)o + (long)n * C, (float*)m + n, (float*)r + n, (float*)x + (long)n * C, (float*)w, (float*)b, C, eps);
                }
            });
        }
    }

    static unsafe void ForwardRow(float* o, float* mean, float* rstd, float* x, float* w, float* b, int C, float eps)
    {
        // Two passes (mean, then centred variance) rather than E[x²] − E[x]², which cancels badly.
        float sum = 0f;
        for (int c = 0; c < C; c++) sum += x[c];
        float m = sum / C;
        float v = 0f;
        for (int c = 0; c < C; c++) v += (x[c] - m) * (x[c] - m);
        float s = 1f / MathF.Sqrt(v / C + eps);
        for (int c = 0; c < C; c++)
        {
            float y = (x[c] - m) * s;
            if (w != null) y *= w[c];
            if (b != null) y += b[c];
            o[c] = y;
        }
        *mean = m;
        *rstd = s;
    }

    /// <summary>
    /// Adds the gradients of <see cref="Forward"/>: into <paramref name="dInput"/> row by row, and into
    /// <paramref name="dWeight"/>/<paramref name="dBias"/> channel by channel (each channel sums its rows
    /// in order, so the result does not depend on the thread count). Empty destinations are skipped.
    /// </summary>
    /// <param name="dInput">(N, C), accumulated into.</param>
    /// <param name="dWeight">(C), accumulated into, or empty.</param>
    /// <param name="dBias">(C), accumulated into, or empty.</param>
    /// <param name="dOut">(N, C).</param>
    /// <param name="input">(N, C).</param>
    /// <param name="weight">(C), or empty.</param>
    /// <param name="mean">(N) from <see cref="Forward"/>.</param>
    /// <param name="rstd">(N) from <see cref="Forward"/>.</param>
    public static unsafe void Backward(Span<float> dInput, Span<float> dWeight, Span<float> dBias, ReadOnlySpan<float> dOut,
        ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> mean, ReadOnlySpan<float> rstd, int N, int C)
    {
        fixed (float* pDin = dInput, pDw = dWeight, pDb = dBias, pDout = dOut, pInp = input, pW = weight, pMean = mean, pRstd = rstd)
        {
            nint din = (nint)pDin, dw = (nint)pDw, db = (nint)pDb, dout = (nint)pDout, x = (nint)pInp, w = (nint)pW, m = (nint)pMean, r = (nint)pRstd;
            Work.For((N + RowsPerUnit - 1) / RowsPerUnit, (long)N * C, unit =>
            {
                int end = Math.Min(N, (unit + 1) * RowsPerUnit);
                for (int n = unit * RowsPerUnit; n < end; n++)
                {
                    float* xr = (float*)x + (long)n * C, g = (float*)dout + (long)n * C, dx = (float*)din + (long)n * C;
                    float mu = ((float*)m)[n], s = ((float*)r)[n];
                    // dnorm = dout·w; dx = rstd · (dnorm − mean(dnorm) − norm · mean(dnorm · norm)).
                    float dnormMean = 0f, dnormNormMean = 0f;
                    for (int c = 0; c < C; c++)
                    {
                        float norm = (xr[c] - mu) * s;
                        float dnorm = w != 0 ? ((float*)w)[c] * g[c] : g[c];
                        dnormMean += dnorm;
                        dnormNormMean += dnorm * norm;
                    }
                    dnormMean /= C;
                    dnormNormMean /= C;
                    for (int c = 0; c < C; c++)
                    {
                        float norm = (xr[c] - mu) * s;
                        float dnorm = w != 0 ? ((float*)w)[c] * g[c] : g[c];
                        dx[c] += (dnorm - dnormMean - norm * dnormNormMean) * s;
                    }
                }
            });
            if (dw == 0 && db == 0) return;
            Work.For((C + RowsPerUnit - 1) / RowsPerUnit, (long)N * C, unit =>
            {
                int end = Math.Min(C, (unit + 1) * RowsPerUnit);
                for (int c = unit * RowsPerUnit; c < end; c++)
                {
                    float sw = 0f, sb = 0f;
                    for (int n = 0; n < N; n++)
                    {
                        float g = ((float*)dout)[(long)n * C + c];
                        sw += ((((float*)x)[(long)n * C + c] - ((float*)m)[n]) * ((float*)r)[n]) * g;
                        sb += g;
                    }
                    if (dw != 0) ((float*)dw)[c] += sw;
                    if (db != 0) ((float*)db)[c] += sb;
                }
            });
        }
    }

    /// <summary>Plain scalar <see cref="Forward"/> in double precision: the test oracle.</summary>
    public static void ForwardScalar(Span<float> output, ReadOnlySpan<float> input, ReadOnlySpan<float> weight,
        ReadOnlySpan<float> bias, int N, int C, float eps)
    {
        for (int n = 0; n < N; n++)
        {
            var x = input.Slice(n * C, C);
            double m = 0, v = 0;
            for (int c = 0; c < C; c++) m += x[c];
            m /= C;
            for (int c = 0; c < C; c++) v += (x[c] - m) * (x[c] - m);
            double s = 1 / Math.Sqrt(v / C + eps);
            for (int c = 0; c < C; c++)
            {
                output[n * C + c] = (float)((x[c] - m) * s * (weight.IsEmpty ? 1 : weight[c]) + (bias.IsEmpty ? 0 : bias[c]));
            }
        }
    }
}
