using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace TokenSpace.Tensors;

// Legend: B batch rows, T positions, C channels, NH heads, hs = C / NH head size.
// qkv rows hold [q | k | v], each C wide, head h in columns h·hs … (h+1)·hs − 1 of its third.

/// <summary>
/// Causal multi-head self-attention (llm.c layout): for each head,
/// <c>att = softmax(q·kᵀ / √hs)</c> over positions t2 ≤ t, <c>out = att · v</c>.
/// </summary>
/// <remarks>
/// Each (batch row, head) is one unit, computed whole by one thread: its products are small matrix
/// multiplies on <see cref="Gemm"/>, taken over blocks of query rows (<see cref="ForwardQueryRows"/>, <see cref="QueryRows"/>) so that a
/// block only reaches the key positions the causal mask lets it see.
/// </remarks>
public static class Attention
{
    /// <summary>Query rows per causal block in <see cref="Backward"/>: four micro-tiles of <see cref="Gemm.MR"/> rows.</summary>
    const int QueryRows = 4 * Gemm.MR;
    /// <summary>
    /// Query rows per causal block in <see cref="Forward"/>: twice <see cref="QueryRows"/>, so a forward block's edge is a backward
    /// block's edge too. Fewer, larger products outweigh the masked scores computed: shakespeare-char-small's attention forward,
    /// 4 layers, 2 threads, Zen 5, three alternating runs, ms at 24 -> 48 rows: 2.09 -> 1.94, 2.01 -> 1.83, 1.93 -> 1.80 (the
    /// backward measured no better at 48).
    /// </summary>
    const int ForwardQueryRows = 2 * QueryRows;

    [ThreadStatic] static float[]? scratch;

    /// <summary>Computes the attention output and keeps the attention weights for backward.</summary>
    /// <param name="output">(B, T, C), overwritten: the heads side by side.</param>
    /// <param name="att">
    /// (B, NH, T, T): row t gets the softmax weights for t2 ≤ t and zeros up to the end of t's block of
    /// <see cref="ForwardQueryRows"/> query rows; past that nothing is written, and <see cref="Backward"/> (whose blocks end where
    /// these do, or sooner) reads nothing there.
    /// </param>
    /// <param name="qkv">(B, T, 3C).</param>
    /// <param name="dropMask">(B, NH, T, T) dropout mask on the attention weights (see <see cref="Dropout"/>), or empty.</param>
    public static unsafe void Forward(Span<float> output, Span<float> att, ReadOnlySpan<float> qkv, int B, int T, int C, int NH,
        ReadOnlySpan<float> dropMask = default)
    {
        using var timer = KernelProfile.Time(KernelProfile.Part.Attention);
        int hs = C / NH, C3 = 3 * C;
        float scale = 1f / MathF.Sqrt(hs);
        long keysLength = Gemm.PackedLength(hs, T), valuesLength = Gemm.PackedLength(T, hs);
        fixed (float* pOut = output, pAtt = att, pQkv = qkv, pMask = dropMask)
        {
            nint o = (nint)pOut, a = (nint)pAtt, x = (nint)pQkv, dm = (nint)pMask;
            Threads.For(B * NH, (long)B * NH * T * T * hs, unit =>
            {
                int b = unit / NH, h = unit % NH;
                float* q = (float*)x + (long)b * T * C3 + h * hs, k = q + C, v = q + 2 * C;
                float* p = (float*)a + (long)unit * T * T;
                float* y = (float*)o + (long)b * T * C + h * hs;
                // The head's kᵀ (hs, T), packed once for every block, and v (T, hs) as the products read it; with dropout also the
                // weights att ⊙ mask (T, T), since out = (att ⊙ mask) · v while att itself is kept for backward.
                float* keys = WorkSpace(keysLength + valuesLength + (dm == 0 ? 0 : (long)T * T));
                float* weights = dm == 0 ? p : keys + keysLength + valuesLength;
                PrefetchRows(q, T, C3, hs);
                PrefetchRows(k, T, C3, hs);
                PrefetchRows(v, T, C3, hs);
                Gemm.Pack(keys, k, 1, C3, hs, T);
                var values = Panels.Of(v, C3, T, hs, keys + keysLength);
                for (int t0 = 0; t0 < T; t0 += ForwardQueryRows)
                {
                    int rows = Math.Min(ForwardQueryRows, T - t0), seen = t0 + rows;
                    // att[t, t2] = q[t] · k[t2] for the rows of this block and every t2 < seen.
                    Gemm.RunPacked(p + (long)t0 * T, T, q + (long)t0 * C3, C3, 1, keys, (long)hs * Gemm.PanelWidth, Gemm.PanelWidth,
                        accumulate: false, rows, hs, seen);
                    for (int t = t0; t < seen; t++)
                    {
                        // Zeros up to the block's edge, which the products read; past it row t is neither read nor written.
                        var row = new Span<float>(p + (long)t * T, seen);
                        Softmax(row[..(t + 1)], scale);
                        row[(t + 1)..].Clear();
                        if (dm != 0) TensorPrimitives.Multiply(row, new ReadOnlySpan<float>((float*)dm + ((long)unit * T + t) * T, seen),
                            new Span<float>(weights + (long)t * T, seen));
                    }
                    // out[t] = Σ_{t2 < seen} weights[t, t2] · v[t2] (the weights are zero past t).
                    Gemm.RunPacked(y + (long)t0 * C, C, weights + (long)t0 * T, T, 1, values.Start, values.PanelStride, values.RowStride,
                        accumulate: false, rows, seen, hs);
                }
            });
        }
    }

    /// <summary>
    /// Attention of one new query over a key/value cache (decoding one token): for each head,
    /// <c>out = softmax(q·kᵀ / √hs) · v</c> over the cached positions 0 … T − 1, the new one included. The sums run
    /// in <see cref="Forward"/>'s order (increasing channel for a score, increasing position for the output, fused
    /// multiply-adds, the same softmax), so the result equals row T − 1 of a full forward bit for bit.
    /// </summary>
    /// <param name="output">(C), overwritten: the heads side by side.</param>
    /// <param name="scores">(NH, T) work space.</param>
    /// <param name="q">(C), the new position's query.</param>
    /// <param name="keys">(T, C), the cached keys, a row per position.</param>
    /// <param name="values">(T, C), the cached values.</param>
    public static void Decode(Span<float> output, Span<float> scores, ReadOnlySpan<float> q, ReadOnlySpan<float> keys,
        ReadOnlySpan<float> values, int T, int C, int NH)
    {
        using var timer = KernelProfile.Time(KernelProfile.Part.Attention);
        int hs = C / NH;
        float scale = 1f / MathF.Sqrt(hs);
        for (int h = 0; h < NH; h++)
        {
            var row = scores.Slice(h * T, T);
            var qh = q.Slice(h * hs, hs);
            for (int t2 = 0; t2 < T; t2++)
            {
                var k = keys.Slice(t2 * C + h * hs, hs);
                float dot = 0;
                for (int i = 0; i < hs; i++) dot = MathF.FusedMultiplyAdd(qh[i], k[i], dot);
                row[t2] = dot;
            }
            Softmax(row, scale);
            var y = output.Slice(h * hs, hs);
            y.Clear();
            for (int t2 = 0; t2 < T; t2++) TensorPrimitives.FusedMultiplyAdd(values.Slice(t2 * C + h * hs, hs), row[t2], y, y);
        }
    }

    /// <summary>
    /// Writes the gradient of <see cref="Forward"/> into <paramref name="dQkv"/>. Each (batch row, head)
    /// owns its own columns of dQkv and writes each of its rows once, so units never share an output and
    /// nothing is read from dQkv (accumulating would load every output tile from a cold buffer).
    /// </summary>
    /// <param name="dQkv">(B, T, 3C), overwritten.</param>
    /// <param name="dOut">(B, T, C).</param>
    /// <param name="qkv">(B, T, 3C), the forward input.</param>
    /// <param name="att">(B, NH, T, T) from <see cref="Forward"/>.</param>
    /// <param name="dropMask">(B, NH, T, T), the mask given to <see cref="Forward"/>, or empty.</param>
    public static unsafe void Backward(Span<float> dQkv, ReadOnlySpan<float> dOut, ReadOnlySpan<float> qkv,
        ReadOnlySpan<float> att, int B, int T, int C, int NH, ReadOnlySpan<float> dropMask = default)
    {
        using var timer = KernelProfile.Time(KernelProfile.Part.Attention);
        int hs = C / NH, C3 = 3 * C;
        float scale = 1f / MathF.Sqrt(hs);
        // Work space for the (T, hs) operands (dy, k, q) where they are packed, and the packed vᵀ (hs, T).
        long rowsLength = Gemm.PackedLength(T, hs), valuesLength = Gemm.PackedLength(hs, T);
        long valuesStride = (long)hs * Gemm.PanelWidth;
        fixed (float* pDqkv = dQkv, pDout = dOut, pQkv = qkv, pAtt = att, pMask = dropMask)
        {
            nint dx = (nint)pDqkv, dout = (nint)pDout, x = (nint)pQkv, a = (nint)pAtt, dm = (nint)pMask;
            Threads.For(B * NH, 2L * B * NH * T * T * hs, unit =>
            {
                int b = unit / NH, h = unit % NH;
                float* q = (float*)x + (long)b * T * C3 + h * hs, k = q + C, v = q + 2 * C;
                float* dq = (float*)dx + (long)b * T * C3 + h * hs, dk = dq + C, dv = dq + 2 * C;
                float* dy = (float*)dout + (long)b * T * C + h * hs;
                float* p = (float*)a + (long)unit * T * T;
                float* mask = dm == 0 ? null : (float*)dm + (long)unit * T * T;
                // Work space: the operands' packs, d(pre-softmax scores) (T, T), and with dropout the weights att ⊙ mask (T, T).
                float* work = WorkSpace(3 * rowsLength + valuesLength + (mask == null ? 1L : 2L) * T * T);
                float* values = work + 3 * rowsLength;
                float* ds = values + valuesLength;
                float* weights = mask == null ? p : ds + (long)T * T;
                PrefetchRows(q, T, C3, hs);
                PrefetchRows(k, T, C3, hs);
                PrefetchRows(v, T, C3, hs);
                PrefetchRows(dy, T, C, hs);
                for (int t = 0; t < T; t++) PrefetchRows(p + (long)t * T, 1, 0, t + 1);
                var dys = Panels.Of(dy, C, T, hs, work);
                var keys = Panels.Of(k, C3, T, hs, work + rowsLength);
                var queries = Panels.Of(q, C3, T, hs, work + 2 * rowsLength);
                Gemm.Pack(values, v, 1, C3, hs, T);
                if (mask != null) TensorPrimitives.Multiply(new ReadOnlySpan<float>(p, T * T), new ReadOnlySpan<float>(mask, T * T),
                    new Span<float>(weights, T * T));
                for (int t0 = 0; t0 < T; t0 += QueryRows)
                {
                    int rows = Math.Min(QueryRows, T - t0), seen = t0 + rows;
                    // dv[t2] = Σ_{t ≥ t0} weights[t, t2] · dy[t], for t2 in this block (the weights are zero for t < t2).
                    Gemm.RunPacked(dv + (long)t0 * C3, C3, weights + (long)t0 * T + t0, 1, T, dys.Start + t0 * dys.RowStride,
                        dys.PanelStride, dys.RowStride, accumulate: false, rows, T - t0, hs);
                    // d(att)[t, t2] = dy[t] · v[t2], then the softmax backward in O(T) a row:
                    // d(pre)[t2] = att[t2] · (d(att)[t2] − Σ att·d(att)) (d(att) through the mask first).
                    Gemm.RunPacked(ds + (long)t0 * T, T, dy + (long)t0 * C, C, 1, values, valuesStride, Gemm.PanelWidth, accumulate: false,
                        rows, hs, seen);
                    for (int t = t0; t < seen; t++)
                    {
                        var row = new Span<float>(ds + (long)t * T, t + 1);
                        if (mask != null) TensorPrimitives.Multiply(row, new ReadOnlySpan<float>(mask + (long)t * T, t + 1), row);
                        SoftmaxBackward(row, new ReadOnlySpan<float>(p + (long)t * T, t + 1), scale);
                        // Zero up to the block's edge: no product reads row t of d(pre) past seen.
                        new Span<float>(ds + (long)t * T + t + 1, seen - t - 1).Clear();
                    }
                    // dq[t] = Σ_{t2 < seen} d(pre)[t, t2] · k[t2].
                    Gemm.RunPacked(dq + (long)t0 * C3, C3, ds + (long)t0 * T, T, 1, keys.Start, keys.PanelStride, keys.RowStride,
                        accumulate: false, rows, seen, hs);
                }
                // dk[t2] = Σ_{t ≥ t2} d(pre)[t, t2] · q[t], once every row of d(pre) is known.
                for (int t0 = 0; t0 < T; t0 += QueryRows)
                {
                    int rows = Math.Min(QueryRows, T - t0);
                    Gemm.RunPacked(dk + (long)t0 * C3, C3, ds + (long)t0 * T + t0, 1, T, queries.Start + t0 * queries.RowStride,
                        queries.PanelStride, queries.RowStride, accumulate: false, rows, T - t0, hs);
                }
            });
        }
    }

    /// <summary>
    /// A (T, hs) operand of the products as <see cref="Gemm.RunPacked"/> reads it: panel p's row t at
    /// <c>Start + p·PanelStride + t·RowStride</c>.
    /// </summary>
    readonly unsafe struct Panels(float* start, long panelStride, nint rowStride)
    {
        public float* Start => start;
        public long PanelStride => panelStride;
        public nint RowStride => rowStride;

        /// <summary>
        /// The head's rows of q, k, v or dy, <paramref name="stride"/> floats apart: read in place where the kernel reads such rows
        /// in place (no copy; shakespeare-char-small's attention, 4 layers, 2 threads, Zen 5, alternating runs, ms packed -> in
        /// place: forward 2.24 -> 2.19, backward 2.71 -> 2.62), else packed into <paramref name="buffer"/>
        /// (<see cref="Gemm.PackedLength"/>(T, hs) floats) once for every block.
        /// </summary>
        public static Panels Of(float* rows, nint stride, int T, int hs, float* buffer)
        {
            if (Gemm.ReadsInPlace(stride, hs, Gemm.PanelWidth)) return new(rows, Gemm.PanelWidth, stride);
            Gemm.Pack(buffer, rows, stride, 1, T, hs);
            return new(buffer, (long)T * Gemm.PanelWidth, Gemm.PanelWidth);
        }
    }

    /// <summary>
    /// Asks for <paramref name="rows"/> rows of <paramref name="floats"/> floats, <paramref name="stride"/> apart, in L2.
    /// A unit's operands were written a whole layer or pass
    /// earlier and sit in L3 or memory; asked for at once, their misses overlap instead of stalling the packs and products one by one.
    /// </summary>
    static unsafe void PrefetchRows(float* start, int rows, long stride, int floats)
    {
        for (int r = 0; r < rows; r++)
        {
            for (int i = 0; i < floats; i += 16) Sse.Prefetch1(start + r * stride + i);
        }
    }

    /// <summary>In place: <c>row = softmax(scale · row)</c>, stable by the row maximum (scale &gt; 0).</summary>
    static void Softmax(Span<float> row, float scale)
    {
        float sum = Exponential.ExpSum(row, scale, -scale * TensorPrimitives.Max(row), row);
        TensorPrimitives.Multiply(row, 1f / sum, row);
    }

    /// <summary>
    /// In place: the gradient of the pre-softmax scores from <c>d(att)</c> = <paramref name="row"/>:
    /// <c>row[t2] = scale · att[t2] · (row[t2] − Σ att·row)</c>, O(T) a row.
    /// </summary>
    static void SoftmaxBackward(Span<float> row, ReadOnlySpan<float> att, float scale)
    {
        float weighted = TensorPrimitives.Dot(att, row);
        int W = Vector<float>.Count, i = 0;
        var vScale = new Vector<float>(scale);
        var vWeighted = new Vector<float>(weighted);
        for (; i + W <= row.Length; i += W)
        {
            ((new Vector<float>(row[i..]) - vWeighted) * new Vector<float>(att[i..]) * vScale).CopyTo(row[i..]);
        }
        for (; i < row.Length; i++) row[i] = (row[i] - weighted) * att[i] * scale;
    }

    /// <summary>This thread's work space of at least <paramref name="length"/> floats (pinned, see
    /// <see cref="Tensors.Scratch"/>).</summary>
    static unsafe float* WorkSpace(long length) =>
        (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(Scratch.Get(ref scratch, length)));

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
                        for (int i = 0; i < hs; i++) dot += (double)qkv[(b * T + t) * 3 * C + h * hs + i] * qkv[(b * T + t2) * 3 * C + C
                            + h * hs + i];
                        scores[t2] = dot / Math.Sqrt(hs);
                    }
                    double max = scores.Max(), sum = scores.Sum(s => Math.Exp(s - max));
                    for (int i = 0; i < hs; i++)
                    {
                        double y = 0;
                        for (int t2 = 0; t2 <= t; t2++) y += Math.Exp(scores[t2] - max) / sum * qkv[(b * T + t2) * 3 * C + 2 * C + h * hs
                            + i];
                        output[(b * T + t) * C + h * hs + i] = (float)y;
                    }
                }
            }
        }
    }

    /// <summary>
    /// Plain scalar <see cref="Backward"/> in double precision, adding into <paramref name="dQkv"/> and recomputing the attention weights
    /// from
    /// <paramref name="qkv"/>: the test oracle.
    /// </summary>
    public static void BackwardScalar(Span<float> dQkv, ReadOnlySpan<float> dOut, ReadOnlySpan<float> qkv, int B, int T, int C, int NH,
        ReadOnlySpan<float> dropMask = default)
    {
        int hs = C / NH, C3 = 3 * C;
        double scale = 1 / Math.Sqrt(hs);
        for (int b = 0; b < B; b++)
        {
            for (int h = 0; h < NH; h++)
            {
                int q = h * hs, k = C + h * hs, v = 2 * C + h * hs;
                for (int t = 0; t < T; t++)
                {
                    int row = (b * T + t) * C3;
                    var att = new double[t + 1];
                    for (int t2 = 0; t2 <= t; t2++)
                    {
                        for (int i = 0; i < hs; i++) att[t2] += (double)qkv[row + q + i] * qkv[(b * T + t2) * C3 + k + i] * scale;
                    }
                    double max = att.Max(), sum = att.Sum(a => Math.Exp(a - max));
                    for (int t2 = 0; t2 <= t; t2++) att[t2] = Math.Exp(att[t2] - max) / sum;

                    var dAtt = new double[t + 1];
                    double weighted = 0;
                    for (int t2 = 0; t2 <= t; t2++)
                    {
                        double keep = dropMask.IsEmpty ? 1 : dropMask[((b * NH + h) * T + t) * T + t2];
                        int row2 = (b * T + t2) * C3;
                        for (int i = 0; i < hs; i++)
                        {
                            double dy = dOut[(b * T + t) * C + h * hs + i];
                            dQkv[row2 + v + i] += (float)(att[t2] * keep * dy);
                            dAtt[t2] += dy * qkv[row2 + v + i] * keep;
                        }
                        weighted += att[t2] * dAtt[t2];
                    }
                    for (int t2 = 0; t2 <= t; t2++)
                    {
                        double dPre = att[t2] * (dAtt[t2] - weighted) * scale;
                        int row2 = (b * T + t2) * C3;
                        for (int i = 0; i < hs; i++)
                        {
                            dQkv[row + q + i] += (float)(dPre * qkv[row2 + k + i]);
                            dQkv[row2 + k + i] += (float)(dPre * qkv[row + q + i]);
                        }
                    }
                }
            }
        }
    }
}
