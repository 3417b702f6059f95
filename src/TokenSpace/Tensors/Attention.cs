using System.Numerics.Tensors;

namespace TokenSpace.Tensors;

// Legend: B batch rows, T positions, C channels, NH heads, hs = C / NH head size.
// qkv rows hold [q | k | v], each C wide, head h in columns h·hs … (h+1)·hs − 1 of its third.

/// <summary>
/// Causal multi-head self-attention (llm.c layout): for each head,
/// <c>att = softmax(q·kᵀ / √hs)</c> over positions t2 ≤ t, <c>out = att · v</c>.
/// </summary>
public static class Attention
{
    /// <summary>Computes the attention output and keeps the attention weights for backward.</summary>
    /// <param name="output">(B, T, C), overwritten: the heads side by side.</param>
    /// <param name="att">(B, NH, T, T), overwritten: softmax weights, zero above the diagonal.</param>
    /// <param name="qkv">(B, T, 3C).</param>
    /// <param name="dropMask">(B, NH, T, T) dropout mask on the attention weights (see <see cref="Dropout"/>), or empty.</param>
    public static unsafe void Forward(Span<float> output, Span<float> att, ReadOnlySpan<float> qkv, int B, int T, int C, int NH,
        ReadOnlySpan<float> dropMask = default)
    {
        int hs = C / NH;
        float scale = 1f / MathF.Sqrt(hs);
        fixed (float* pOut = output, pAtt = att, pQkv = qkv, pMask = dropMask)
        {
            nint o = (nint)pOut, a = (nint)pAtt, x = (nint)pQkv, dm = (nint)pMask;
            Work.For(B * NH, (long)B * NH * T * T * hs, unit =>
            {
                int b = unit / NH, h = unit % NH;
                float* inp = (float*)x + (long)b * T * 3 * C;
                for (int t = 0; t < T; t++)
                {
                    float* q = inp + (long)t * 3 * C + h * hs;
                    float* row = (float*)a + ((long)unit * T + t) * T;
                    float max = float.NegativeInfinity;
                    var qs = new ReadOnlySpan<float>(q, hs);
                    for (int t2 = 0; t2 <= t; t2++)
                    {
                        float dot = TensorPrimitives.Dot(qs, new ReadOnlySpan<float>(inp + (long)t2 * 3 * C + C + h * hs, hs)) * scale;
                        row[t2] = dot;
                        if (dot > max) max = dot;
                    }
                    float sum = 0f;
                    for (int t2 = 0; t2 <= t; t2++)
                    {
                        float e = MathF.Exp(row[t2] - max);
                        row[t2] = e;
                        sum += e;
                    }
                    float inv = 1f / sum;
                    for (int t2 = 0; t2 <= t; t2++) row[t2] *= inv;
                    for (int t2 = t + 1; t2 < T; t2++) row[t2] = 0f;

                    var y = new Span<float>((float*)o + ((long)b * T + t) * C + h * hs, hs);
                    float* mask = dm == 0 ? null : (float*)dm + ((long)unit * T + t) * T;
                    y.Clear();
                    for (int t2 = 0; t2 <= t; t2++)
                    {
                        float w = mask == null ? row[t2] : row[t2] * mask[t2];
                        TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(inp + (long)t2 * 3 * C + 2 * C + h * hs, hs), w, y, y);
                    }
                }
            });
        }
    }

    /// <summary>
    /// Adds the gradient of <see cref="Forward"/> into <paramref name="dQkv"/>. Each (batch row, head)
    /// owns its own columns of dQkv, so units never share an output.
    /// </summary>
    /// <param name="dQkv">(B, T, 3C), accumulated into.</param>
    /// <param name="scratch">(B, NH, T): work space for d(att) rows, overwritten.</param>
    /// <param name="dOut">(B, T, C).</param>
    /// <param name="qkv">(B, T, 3C), the forward input.</param>
    /// <param name="att">(B, NH, T, T) from <see cref="Forward"/>.</param>
    /// <param name="dropMask">(B, NH, T, T), the mask given to <see cref="Forward"/>, or empty.</param>
    public static unsafe void Backward(Span<float> dQkv, Span<float> scratch, ReadOnlySpan<float> dOut, ReadOnlySpan<float> qkv,
        ReadOnlySpan<float> att, int B, int T, int C, int NH, ReadOnlySpan<float> dropMask = default)
    {
        int hs = C / NH;
        float scale = 1f / MathF.Sqrt(hs);
        fixed (float* pDqkv = dQkv, pScratch = scratch, pDout = dOut, pQkv = qkv, pAtt = att, pMask = dropMask)
        {
            nint dx = (nint)pDqkv, sc = (nint)pScratch, dout = (nint)pDout, x = (nint)pQkv, a = (nint)pAtt, dm = (nint)pMask;
            Work.For(B * NH, 2L * B * NH * T * T * hs, unit =>
            {
                int b = unit / NH, h = unit % NH;
                float* inp = (float*)x + (long)b * T * 3 * C;
                float* dinp = (float*)dx + (long)b * T * 3 * C;
                float* datt = (float*)sc + (long)unit * T;
                for (int t = 0; t < T; t++)
                {
                    float* row = (float*)a + ((long)unit * T + t) * T;
                    var dy = new ReadOnlySpan<float>((float*)dout + ((long)b * T + t) * C + h * hs, hs);
                    float* mask = dm == 0 ? null : (float*)dm + ((long)unit * T + t) * T;
                    // out = (att ⊙ mask) · v: d(att)[t2] = mask[t2] · (dy · v[t2]); dv[t2] += att[t2] · mask[t2] · dy.
                    float weighted = 0f;
                    for (int t2 = 0; t2 <= t; t2++)
                    {
                        var v = new ReadOnlySpan<float>(inp + (long)t2 * 3 * C + 2 * C + h * hs, hs);
                        var dv = new Span<float>(dinp + (long)t2 * 3 * C + 2 * C + h * hs, hs);
                        float keep = mask == null ? 1f : mask[t2];
                        TensorPrimitives.MultiplyAdd(dy, row[t2] * keep, dv, dv);
                        datt[t2] = TensorPrimitives.Dot(dy, v) * keep;
                        weighted += row[t2] * datt[t2];
                    }
                    // Softmax backward in O(T): d(pre)[t2] = att[t2] · (d(att)[t2] − Σ att·d(att)).
                    var q = new ReadOnlySpan<float>(inp + (long)t * 3 * C + h * hs, hs);
                    var dq = new Span<float>(dinp + (long)t * 3 * C + h * hs, hs);
                    for (int t2 = 0; t2 <= t; t2++)
                    {
                        float dpre = row[t2] * (datt[t2] - weighted) * scale;
                        var dk = new Span<float>(dinp + (long)t2 * 3 * C + C + h * hs, hs);
                        TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(inp + (long)t2 * 3 * C + C + h * hs, hs), dpre, dq, dq);
                        TensorPrimitives.MultiplyAdd(q, dpre, dk, dk);
                    }
                }
            });
        }
    }

    /// <summary>Plain scalar <see cref="Forward"/> in double precision: the test oracle.</summary>
    public static void ForwardScalar(Span<float> output, ReadOnlySpan<float> qkv, int B, int T, int C, int NH)
    {
        int hs = C / NH;
        for (int b = 0; b < B; b++)
        {
            for (int h = 0; h < NH; h++)
            {
                for (int t = 0; t < T; t++)
                {
                    var scores = new double[t + 1];
                    for (int t2 = 0; t2 <= t; t2++)
                    {
                        double dot = 0;
                        for (int i = 0; i < hs; i++) dot += (double)qkv[(b * T + t) * 3 * C + h * hs + i] * qkv[(b * T + t2) * 3 * C + C + h * hs + i];
                        scores[t2] = dot / Math.Sqrt(hs);
                    }
                    double max = scores.Max(), sum = scores.Sum(s => Math.Exp(s - max));
                    for (int i = 0; i < hs; i++)
                    {
                        double y = 0;
                        for (int t2 = 0; t2 <= t; t2++) y += Math.Exp(scores[t2] - max) / sum * qkv[(b * T + t2) * 3 * C + 2 * C + h * hs + i];
                        output[(b * T + t) * C + h * hs + i] = (float)y;
                    }
                }
            }
        }
    }
}
