using System.Numerics.Tensors;

namespace TokenSpace.Tensors;

// Legend: N rows (B·T flattened), C channels.

/// <summary>
/// Layer normalisation over the last axis: <c>out = (x − mean) · rstd · weight + bias</c> with
/// <c>rstd = 1/√(var + eps)</c> (biased variance, as PyTorch's <c>nn.LayerNorm</c>).
/// </summary>
public static class LayerNorm
{
    const int RowsPerUnit = 16;
    const int ColumnsPerUnit = 64;

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
        var xs = new ReadOnlySpan<float>(x, C);
        var os = new Span<float>(o, C);
        // Two passes (mean, then centred variance) rather than E[x²] − E[x]², which cancels badly.
        float m = TensorPrimitives.Sum(xs) / C;
        TensorPrimitives.Subtract(xs, m, os);
        float s = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(os) / C + eps);
        TensorPrimitives.Multiply(os, s, os);
        if (w != null) TensorPrimitives.Multiply(os, new ReadOnlySpan<float>(w, C), os);
        if (b != null) TensorPrimitives.Add(os, new ReadOnlySpan<float>(b, C), os);
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
                float[] rented = System.Buffers.ArrayPool<float>.Shared.Rent(2 * C);
                var norm = rented.AsSpan(0, C);
                var dnorm = rented.AsSpan(C, C);
                int end = Math.Min(N, (unit + 1) * RowsPerUnit);
                for (int n = unit * RowsPerUnit; n < end; n++)
                {
                    var g = new ReadOnlySpan<float>((float*)dout + (long)n * C, C);
                    var dx = new Span<float>((float*)din + (long)n * C, C);
                    float s = ((float*)r)[n];
                    TensorPrimitives.Subtract(new ReadOnlySpan<float>((float*)x + (long)n * C, C), ((float*)m)[n], norm);
                    TensorPrimitives.Multiply(norm, s, norm);
                    if (w != 0) TensorPrimitives.Multiply(g, new ReadOnlySpan<float>((float*)w, C), dnorm);
                    else g.CopyTo(dnorm);
                    // dx += rstd · (dnorm − mean(dnorm) − norm · mean(dnorm · norm)).
                    float dnormMean = TensorPrimitives.Sum(dnorm) / C;
                    float dnormNormMean = TensorPrimitives.Dot(dnorm, norm) / C;
                    TensorPrimitives.Subtract(dnorm, dnormMean, dnorm);
                    TensorPrimitives.MultiplyAdd(norm, -dnormNormMean, dnorm, dnorm);
                    TensorPrimitives.MultiplyAdd(dnorm, s, dx, dx);
                }
                System.Buffers.ArrayPool<float>.Shared.Return(rented);
            });
            if (dw == 0 && db == 0) return;
            // Each unit owns ColumnsPerUnit channels and sums its rows in order (thread-count independent).
            Work.For((C + ColumnsPerUnit - 1) / ColumnsPerUnit, (long)N * C, unit =>
            {
                int c0 = unit * ColumnsPerUnit, width = Math.Min(ColumnsPerUnit, C - c0);
                Span<float> sw = stackalloc float[width];
                Span<float> sb = stackalloc float[width];
                Span<float> norm = stackalloc float[width];
                sw.Clear();
                sb.Clear();
                for (int n = 0; n < N; n++)
                {
                    var g = new ReadOnlySpan<float>((float*)dout + (long)n * C + c0, width);
                    TensorPrimitives.Subtract(new ReadOnlySpan<float>((float*)x + (long)n * C + c0, width), ((float*)m)[n], norm);
                    TensorPrimitives.Multiply(norm, ((float*)r)[n], norm);
                    TensorPrimitives.MultiplyAdd(norm, g, sw, sw);
                    TensorPrimitives.Add(sb, g, sb);
                }
                if (dw != 0)
                {
                    var dst = new Span<float>((float*)dw + c0, width);
                    TensorPrimitives.Add(dst, sw, dst);
                }
                if (db != 0)
                {
                    var dst = new Span<float>((float*)db + c0, width);
                    TensorPrimitives.Add(dst, sb, dst);
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
