using System.Runtime.Intrinsics.X86;

namespace TokenSpace.Tensors;

// Legend: N looked-up rows (B·T flattened), V rows in the table, C channels.

/// <summary>Row gather (embedding forward), its adjoint the scatter-add (embedding backward), and max-norm renormalisation.</summary>
public static class Embedding
{
    const int RowsPerUnit = 64;
    /// <summary>
    /// How many rows ahead the gather and scatter-add prefetch. A GPT-2 row is 3 KB (48 cache lines),
    /// so two rows in flight already fill the L2's outstanding misses (1, 4 and 8 were measured: 2 was best).
    /// </summary>
    const int PrefetchDistance = 2;
    /// <summary>Outputs above this size (half the L3 cache of the machines we measure on) are written with streaming stores.</summary>
    const long StreamingBytes = 16L << 20;
    /// <summary>Work units of the scatter-add: a fixed count, so the split never depends on the thread count.</summary>
    const int ScatterUnits = 64;

    [ThreadStatic] static int[]? startScratch;
    [ThreadStatic] static int[]? orderScratch;
    [ThreadStatic] static bool[]? seenScratch;

    /// <summary>Copies <c>table[ids[n]]</c> into <c>output[n]</c>. Ids must already be checked to lie in [0, V).</summary>
    /// <param name="output">(N, C), overwritten.</param>
    /// <param name="table">(V, C).</param>
    /// <param name="ids">(N).</param>
    /// <remarks>
    /// An output larger than <see cref="StreamingBytes"/> cannot stay in the caches anyway, so it is written
    /// with non-temporal stores: straight to memory, without first reading each line in (a third less traffic).
    /// </remarks>
    public static unsafe void Gather(Span<float> output, ReadOnlySpan<float> table, ReadOnlySpan<int> ids, int C)
    {
        using var timer = KernelProfile.Time(KernelProfile.Part.Embeddings);
        int N = ids.Length;
        bool streaming = Avx.IsSupported && (long)N * C * sizeof(float) > StreamingBytes;
        fixed (float* pOut = output, pTable = table)
        fixed (int* pIds = ids)
        {
            nint o = (nint)pOut, t = (nint)pTable, id = (nint)pIds;
            Threads.For((N + RowsPerUnit - 1) / RowsPerUnit, unit =>
            {
                int end = Math.Min(N, (unit + 1) * RowsPerUnit);
                for (int n = unit * RowsPerUnit; n < end; n++)
                {
                    if (n + PrefetchDistance < end) Prefetch((float*)t + (long)((int*)id)[n + PrefetchDistance] * C, C);
                    float* src = (float*)t + (long)((int*)id)[n] * C, dst = (float*)o + (long)n * C;
                    if (streaming) StreamRow(dst, src, C);
                    else new ReadOnlySpan<float>(src, C).CopyTo(new Span<float>(dst, C));
                }
                // Non-temporal stores are weakly ordered: make them visible before the unit counts as done.
                if (streaming) Sse.StoreFence();
            });
        }
    }

    /// <summary>Copies one row with 32-byte non-temporal stores (plain stores for the unaligned head and the tail).</summary>
    static unsafe void StreamRow(float* dst, float* src, int C)
    {
        int head = Math.Min(C, (int)((32 - ((nint)dst & 31)) & 31) / sizeof(float)), c = 0;
        for (; c < head; c++) dst[c] = src[c];
        for (; c + 8 <= C; c += 8) Avx.StoreAlignedNonTemporal(dst + c, Avx.LoadVector256(src + c));
        for (; c < C; c++) dst[c] = src[c];
    }

    /// <summary>
    /// Adds <c>dOut[n]</c> into <c>dTable[ids[n]]</c> for every n, in increasing n for each row: the
    /// same sums, bit for bit, as <see cref="ScatterAddScalar(Span{float}, ReadOnlySpan{float}, ReadOnlySpan{int}, int)"/>,
    /// for any thread count. Ids must already be checked to lie in [0, V).
    /// </summary>
    /// <param name="dTable">(V, C), accumulated into.</param>
    /// <param name="dOut">(N, C).</param>
    /// <param name="ids">(N), each in [0, V).</param>
    public static void ScatterAdd(Span<float> dTable, ReadOnlySpan<float> dOut, ReadOnlySpan<int> ids, int C) =>
        ScatterAdd(dTable, dOut, ids, C, skipId: -1, scaleByFrequency: false);

    /// <summary>
    /// <see cref="ScatterAdd(Span{float}, ReadOnlySpan{float}, ReadOnlySpan{int}, int)"/> with PyTorch
    /// <c>nn.Embedding</c>'s options: rows with id <paramref name="skipId"/> get nothing (padding_idx; −1
    /// for none), and with <paramref name="scaleByFrequency"/> each <c>dOut[n]</c> is multiplied by
    /// <c>1 / (number of times ids[n] occurs in ids)</c> before it is added (scale_grad_by_freq).
    /// </summary>
    /// <remarks>
    /// The ids are counting-sorted once (stably), so each table row's contributions form one run in
    /// increasing n. The sorted runs are split into <see cref="ScatterUnits"/> pieces of about equal row
    /// count, cut only between runs: no two units write the same row, no locks, and the split depends on
    /// the ids alone. Steady-state calls do not allocate (the sort's buffers are kept per thread).
    /// </remarks>
    public static unsafe void ScatterAdd(Span<float> dTable, ReadOnlySpan<float> dOut, ReadOnlySpan<int> ids, int C, int skipId,
        bool scaleByFrequency)
    {
        using var timer = KernelProfile.Time(KernelProfile.Part.Embeddings);
        int N = ids.Length;
        if (N == 0 || C == 0) return;
        int V = dTable.Length / C;
        Span<int> start = Scratch.Get(ref startScratch, V + 1).AsSpan(0, V + 1);
        Span<int> order = Scratch.Get(ref orderScratch, N).AsSpan(0, N);
        start.Clear();
        foreach (int id in ids) start[id + 1]++;
        for (int v = 0; v < V; v++) start[v + 1] += start[v];
        for (int n = 0; n < N; n++) order[start[ids[n]]++] = n;

        fixed (float* pDt = dTable, pDout = dOut)
        fixed (int* pIds = ids, pOrder = order)
        {
            nint dt = (nint)pDt, dout = (nint)pDout, pid = (nint)pIds, po = (nint)pOrder;
            Threads.For(ScatterUnits, unit =>
            {
                int* idOf = (int*)pid, sorted = (int*)po;
                int begin = RunStart(idOf, sorted, N, (int)((long)unit * N / ScatterUnits));
                int end = RunStart(idOf, sorted, N, (int)((long)(unit + 1) * N / ScatterUnits));
                for (int i = begin; i < end;)
                {
                    int row = idOf[sorted[i]], runEnd = i + 1;
                    while (runEnd < end && idOf[sorted[runEnd]] == row) runEnd++;
                    if (runEnd + PrefetchDistance < end)
                    {
                        // The run PrefetchDistance ahead almost always has length 1: fetch its dOut and grad rows.
                        int ahead = sorted[runEnd + PrefetchDistance];
                        Prefetch((float*)dout + (long)ahead * C, C);
                        Prefetch((float*)dt + (long)idOf[ahead] * C, C);
                    }
                    if (row != skipId)
                    {
                        var dst = new Span<float>((float*)dt + (long)row * C, C);
                        // PyTorch scales by the double 1/count, applied as a float.
                        float scale = scaleByFrequency ? (float)(1.0 / (runEnd - i)) : 1f;
                        for (int k = i; k < runEnd; k++)
                        {
                            var src = new ReadOnlySpan<float>((float*)dout + (long)sorted[k] * C, C);
                            if (scale == 1f) System.Numerics.Tensors.TensorPrimitives.Add(dst, src, dst);
                            else System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(src, scale, dst, dst);
                        }
                    }
                    i = runEnd;
                }
            });
        }
    }

    /// <summary>
    /// Requests a row into the L2 cache ahead of use. Rows are picked by id, so they lie at random
    /// places in a large table: the hardware prefetcher cannot guess them, and without this each row
    /// starts with a full memory (and page-table) latency. Into L2 (prefetcht2), not L1: two rows of
    /// 48 lines each outrun the core's few L1 miss buffers, and the prefetches themselves then stall
    /// (wte forward + backward at GPT-2 size: 7.1 → 4.7 ms, medians of six runs each).
    /// </summary>
    static unsafe void Prefetch(float* row, int C)
    {
        if (!Sse.IsSupported) return;
        for (int c = 0; c < C; c += 16) Sse.Prefetch2(row + c);
    }

    /// <summary>The first sorted position at or after <paramref name="i"/> that begins a run of equal ids.</summary>
    static unsafe int RunStart(int* idOf, int* sorted, int N, int i)
    {
        while (i > 0 && i < N && idOf[sorted[i]] == idOf[sorted[i - 1]]) i++;
        return i;
    }

    /// <summary>Plain scalar <see cref="ScatterAdd(Span{float}, ReadOnlySpan{float}, ReadOnlySpan{int}, int)"/>: the test oracle.</summary>
    public static void ScatterAddScalar(Span<float> dTable, ReadOnlySpan<float> dOut, ReadOnlySpan<int> ids, int C)
    {
        for (int n = 0; n < ids.Length; n++)
        {
            for (int c = 0; c < C; c++) dTable[ids[n] * C + c] += dOut[n * C + c];
        }
    }

    /// <summary>Plain scalar <see cref="ScatterAdd(Span{float}, ReadOnlySpan{float}, ReadOnlySpan{int}, int, int, bool)"/>: the test
    /// oracle.</summary>
    public static void ScatterAddScalar(Span<float> dTable, ReadOnlySpan<float> dOut, ReadOnlySpan<int> ids, int C, int skipId,
        bool scaleByFrequency)
    {
        var counts = new Dictionary<int, int>();
        foreach (int id in ids) counts[id] = counts.GetValueOrDefault(id) + 1;
        for (int n = 0; n < ids.Length; n++)
        {
            if (ids[n] == skipId) continue;
            float scale = scaleByFrequency ? (float)(1.0 / counts[ids[n]]) : 1f;
            for (int c = 0; c < C; c++) dTable[ids[n] * C + c] += scale == 1f ? dOut[n * C + c] : dOut[n * C + c] * scale;
        }
    }

    /// <summary>
    /// PyTorch's <c>embedding_renorm_</c>: every row named in <paramref name="ids"/> (each once) whose
    /// <paramref name="normType"/>-norm exceeds <paramref name="maxNorm"/> is scaled in place by
    /// <c>maxNorm / (norm + 1e-7)</c>. The norm is accumulated in double.
    /// </summary>
    /// <param name="table">(V, C), modified in place.</param>
    /// <param name="ids">(N), each in [0, V).</param>
    /// <param name="normType">p of the p-norm: any p &gt; 0, or <see cref="float.PositiveInfinity"/> for the largest |x|.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="normType"/> is not positive.</exception>
    public static void Renorm(Span<float> table, ReadOnlySpan<int> ids, int C, float maxNorm, float normType)
    {
        if (!(normType > 0)) throw new ArgumentOutOfRangeException(nameof(normType), normType, "the norm type p must be > 0 (or +∞)");
        Span<bool> seen = Scratch.Get(ref seenScratch, table.Length / C).AsSpan(0, table.Length / C);
        foreach (int id in ids)
        {
            if (seen[id]) continue;
            seen[id] = true;
            var row = table.Slice(id * C, C);
            double norm = Norm(row, normType);
            if (norm > maxNorm)
            {
                float scale = (float)(maxNorm / (norm + 1e-7));
                for (int c = 0; c < C; c++) row[c] *= scale;
            }
        }
        foreach (int id in ids) seen[id] = false;
    }

    /// <summary>The p-norm of <paramref name="row"/>, accumulated in double.</summary>
    public static double Norm(ReadOnlySpan<float> row, float p)
    {
        double sum = 0;
        if (float.IsPositiveInfinity(p))
        {
            foreach (float x in row) sum = Math.Max(sum, Math.Abs(x));
            return sum;
        }
        foreach (float x in row)
        {
            double a = Math.Abs((double)x);
            sum += p == 2 ? a * a : p == 1 ? a : Math.Pow(a, p);
        }
        return p == 2 ? Math.Sqrt(sum) : p == 1 ? sum : Math.Pow(sum, 1.0 / p);
    }

}
