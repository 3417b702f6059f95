using System.Numerics;
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
        using var timer = KernelProfile.Time(KernelProfile.Part.Norms);
        fixed (float* pOut = output, pMean = mean, pRstd = rstd, pInp = input, pW = weight, pB = bias)
        {
            nint o = (nint)pOut, m = (nint)pMean, r = (nint)pRstd, x = (nint)pInp, w = (nint)pW, b = (nint)pB;
            Threads.For((N + RowsPerUnit - 1) / RowsPerUnit, (long)N * C, unit =>
            {
                int end = Math.Min(N, (unit + 1) * RowsPerUnit);
                for (int n = unit * RowsPerUnit; n < end; n++)
                {
                    ForwardRow((float*)o + (long)n * C, (float*)m + n, (float*)r + n, (float*)x + (long)n * C, (float*)w, (float*)b, C,
                        eps);
                }
            });
        }
    }

    static unsafe void ForwardRow(float* o, float* mean, float* rstd, float* x, float* w, float* b, int C, float eps)
    {
        int W = Vector<float>.Count, c;
        // Two passes (mean, then centred variance) rather than E[x²] − E[x]², which cancels badly.
        float m = TensorPrimitives.Sum(new ReadOnlySpan<float>(x, C)) / C;
        var vm = new Vector<float>(m);
        var squares = Vector<float>.Zero;
        for (c = 0; c + W <= C; c += W)
        {
            var d = Vector.Load(x + c) - vm;
            squares += d * d;
        }
        float sum = Vector.Sum(squares);
        for (; c < C; c++) sum += (x[c] - m) * (x[c] - m);
        float s = 1f / MathF.Sqrt(sum / C + eps);
        var vs = new Vector<float>(s);
        for (c = 0; c + W <= C; c += W)
        {
            var y = (Vector.Load(x + c) - vm) * vs;
            if (w != null) y *= Vector.Load(w + c);
            if (b != null) y += Vector.Load(b + c);
            y.Store(o + c);
        }
        for (; c < C; c++) o[c] = (x[c] - m) * s * (w != null ? w[c] : 1f) + (b != null ? b[c] : 0f);
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
        using var timer = KernelProfile.Time(KernelProfile.Part.Norms);
        fixed (float* pDin = dInput, pDw = dWeight, pDb = dBias, pDout = dOut, pInp = input, pW = weight, pMean = mean, pRstd = rstd)
        {
            nint din = (nint)pDin, dw = (nint)pDw, db = (nint)pDb, dout = (nint)pDout, x = (nint)pInp, w = (nint)pW, m = (nint)pMean,
                r = (nint)pRstd;
            Threads.For((N + RowsPerUnit - 1) / RowsPerUnit, (long)N * C, unit =>
            {
                int end = Math.Min(N, (unit + 1) * RowsPerUnit);
                for (int n = unit * RowsPerUnit; n < end; n++)
                {
                    BackwardRow((float*)din + (long)n * C, (float*)dout + (long)n * C, (float*)x + (long)n * C, (float*)w, ((float*)m)[n],
                        ((float*)r)[n], C);
                }
            });
            if (dw == 0 && db == 0) return;
            // Each unit owns ColumnsPerUnit channels and sums its rows in order (thread-count independent).
            Threads.For((C + ColumnsPerUnit - 1) / ColumnsPerUnit, (long)N * C, unit =>
            {
                int c0 = unit * ColumnsPerUnit, width = Math.Min(ColumnsPerUnit, C - c0);
                Span<float> sw = stackalloc float[width];
                Span<float> sb = stackalloc float[width];
                sw.Clear();
                sb.Clear();
                fixed (float* pw = sw, pb = sb)
                {
                    for (int n = 0; n < N; n++)
                    {
                        float* g = (float*)dout + (long)n * C + c0, xs = (float*)x + (long)n * C + c0;
                        float mean = ((float*)m)[n], s = ((float*)r)[n];
                        int c = 0;
                        for (; c + Vector<float>.Count <= width; c += Vector<float>.Count)
                        {
                            var gv = Vector.Load(g + c);
                            Vector.FusedMultiplyAdd((Vector.Load(xs + c) - new Vector<float>(mean)) * new Vector<float>(s), gv,
                                Vector.Load(pw + c)).Store(pw + c);
                            (Vector.Load(pb + c) + gv).Store(pb + c);
                        }
                        for (; c < width; c++)
                        {
                            pw[c] = MathF.FusedMultiplyAdd((xs[c] - mean) * s, g[c], pw[c]);
                            pb[c] += g[c];
                        }
                    }
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

    /// <summary>
    /// One row of dInput: with <c>norm = (x − mean)·rstd</c> and <c>dnorm = dOut·weight</c>,
    /// <c>dx += rstd · (dnorm − mean(dnorm) − norm · mean(dnorm · norm))</c>.
    /// </summary>
    static unsafe void BackwardRow(float* dx, float* g, float* x, float* w, float mean, float s, int C)
    {
        int W = Vector<float>.Count, c;
        var vm = new Vector<float>(mean);
        var vs = new Vector<float>(s);
        Vector<float> sumD = Vector<float>.Zero, sumDN = Vector<float>.Zero;
        for (c = 0; c + W <= C; c += W)
        {
            var dnorm = w != null ? Vector.Load(g + c) * Vector.Load(w + c) : Vector.Load(g + c);
            sumD += dnorm;
            sumDN += dnorm * (Vector.Load(x + c) - vm) * vs;
        }
        float dMean = Vector.Sum(sumD), dnMean = Vector.Sum(sumDN);
        for (int i = c; i < C; i++)
        {
            float dnorm = w != null ? g[i] * w[i] : g[i];
            dMean += dnorm;
            dnMean += dnorm * (x[i] - mean) * s;
        }
        dMean /= C;
        dnMean /= C;
        var vdMean = new Vector<float>(dMean);
        var vdnMean = new Vector<float>(dnMean);
        for (c = 0; c + W <= C; c += W)
        {
            var dnorm = w != null ? Vector.Load(g + c) * Vector.Load(w + c) : Vector.Load(g + c);
            var norm = (Vector.Load(x + c) - vm) * vs;
            Vector.FusedMultiplyAdd(dnorm - vdMean - norm * vdnMean, vs, Vector.Load(dx + c)).Store(dx + c);
        }
        for (; c < C; c++)
        {
            float dnorm = w != null ? g[c] * w[c] : g[c];
            dx[c] = MathF.FusedMultiplyAdd(dnorm - dMean - (x[c] - mean) * s * dnMean, s, dx[c]);
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
