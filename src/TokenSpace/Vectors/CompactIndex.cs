using TokenSpace.Tensors;

namespace TokenSpace.Vectors;

/// <summary>
/// An int8 copy of the unit-norm rows, a quarter of the float32 bytes, scanned first so a query
/// streams 4× less memory; the best candidates are then re-scored exactly in float32.
/// <para>
/// Exactness: row i is stored as <c>scale_i · code_i + r_i</c> and the query as
/// <c>qs · q8 + rq</c>; the approximate score <c>qs·scale_i·(q8·code_i)</c> differs from the
/// exact float32 score by at most <c>‖q‖·‖r_i‖ + ‖rq‖·(‖u_i‖ + ‖r_i‖)</c> (Cauchy–Schwarz) plus
/// float32 rounding of both dot products. With lower/upper bounds per row, every row whose upper
/// bound is below the k-th best lower bound provably cannot be in the top k, so re-ranking the
/// remaining candidates with the same <see cref="VectorMath.Dot"/> gives exactly the float32 answer.
/// </para>
/// </summary>
sealed class CompactIndex
{
    /// <summary>Rows per work unit of a scan; fixed, so results never depend on the thread count.</summary>
    const int ChunkRows = 16384;

    /// <summary>Queries per work unit of a batched scan; their codes stay in L1 while rows stream past.</summary>
    const int QueryBlock = 8;

    /// <summary>Rows scanned for all queries of a block before moving on (a tile of codes stays in L1).</summary>
    const int TileRows = 64;

    readonly int rows, dims, padded;
    readonly sbyte[] codes;     // (rows, padded)
    readonly float[] scales;    // (rows) value = scale · code
    readonly float[] residuals; // (rows) ‖u_i − scale_i·code_i‖₂

    CompactIndex(int rows, int dims)
    {
        this.rows = rows;
        this.dims = dims;
        padded = (dims + 15) / 16 * 16;
        codes = new sbyte[(long)rows * padded];
        scales = new float[rows];
        residuals = new float[rows];
    }

    /// <summary>Quantises the unit rows <paramref name="unit"/> (rows × dims), one scale per row.</summary>
    public static CompactIndex Build(ReadOnlyMemory<float> unit, int rows, int dims)
    {
        var index = new CompactIndex(rows, dims);
        int chunks = (rows + ChunkRows - 1) / ChunkRows;
        Threads.For(chunks, c =>
        {
            var span = unit.Span;
            int end = Math.Min(rows, (c + 1) * ChunkRows);
            for (int i = c * ChunkRows; i < end; i++)
            {
                var row = span.Slice(i * dims, dims);
                float scale = Quantise(row, index.codes.AsSpan(i * index.padded, index.padded), out float residual);
                index.scales[i] = scale;
                index.residuals[i] = residual;
            }
        });
        return index;
    }

    /// <summary>
    /// codes = round(x / s) with s = max|x| / 127; returns s and ‖x − s·codes‖₂ (in double, then
    /// rounded up a little so the bound stays a bound).
    /// </summary>
    static float Quantise(ReadOnlySpan<float> x, Span<sbyte> codes, out float residual)
    {
        float max = 0f;
        foreach (float v in x) max = Math.Max(max, Math.Abs(v));
        codes.Clear();
        if (max == 0f)
        {
            residual = 0f;
            return 0f;
        }
        float scale = max / 127f;
        double r2 = 0;
        for (int j = 0; j < x.Length; j++)
        {
            int c = Math.Clamp((int)MathF.Round(x[j] / scale), -127, 127);
            codes[j] = (sbyte)c;
            double d = x[j] - (double)scale * c;
            r2 += d * d;
        }
        residual = (float)(Math.Sqrt(r2) * (1 + 1e-6));
        return scale;
    }

    /// <summary>
    /// The top <paramref name="k"/> rows of [0, <paramref name="rowEnd"/>) by exact float32 score
    /// <see cref="VectorMath.Dot"/>(query, unit row) for each query of <paramref name="queries"/>
    /// (count × dims), best first, leaving out each query's <paramref name="exclude"/> rows.
    /// </summary>
    public (int Row, float Score)[][] Search(ReadOnlyMemory<float> unit, float[] queries, int k, int rowEnd, int[][] exclude)
    {
        int count = queries.Length / dims;
        var prepared = new PreparedQuery[count];
        for (int b = 0; b < count; b++) prepared[b] = PreparedQuery.Create(queries.AsSpan(b * dims, dims), padded);

        int rowChunks = Math.Max(1, (rowEnd + ChunkRows - 1) / ChunkRows);
        int queryBlocks = (count + QueryBlock - 1) / QueryBlock;
        var states = new ChunkState[count, rowChunks];
        Threads.For(queryBlocks * rowChunks, unitId =>
        {
            int qb = unitId / rowChunks, rc = unitId % rowChunks;
            int q0 = qb * QueryBlock, q1 = Math.Min(count, q0 + QueryBlock);
            int r0 = rc * ChunkRows, r1 = Math.Min(rowEnd, r0 + ChunkRows);
            for (int b = q0; b < q1; b++) states[b, rc] = new ChunkState(k);
            for (int t0 = r0; t0 < r1; t0 += TileRows)
            {
                int t1 = Math.Min(r1, t0 + TileRows);
                for (int b = q0; b < q1; b++) ScanTile(prepared[b], states[b, rc], exclude[b], t0, t1);
            }
        });

        var results = new (int Row, float Score)[count][];
        Threads.For(count, b =>
        {
            var lowers = new List<float>();
            for (int c = 0; c < rowChunks; c++) lowers.AddRange(states[b, c].Lowers.Sorted().Select(p => p.Score));
            lowers.Sort((x, y) => y.CompareTo(x));
            float bar = lowers.Count >= k && k > 0 ? lowers[k - 1] : float.NegativeInfinity;
            var best = new TopK(k);
            var span = unit.Span;
            var query = queries.AsSpan(b * dims, dims);
            for (int c = 0; c < rowChunks; c++)
            {
                foreach (var (row, upper) in states[b, c].Candidates)
                {
                    if (upper < bar) continue;
                    best.Offer(VectorMath.Dot(query, span.Slice(row * dims, dims)), row);
                }
            }
            results[b] = best.Sorted();
        });
        return results;
    }

    void ScanTile(PreparedQuery q, ChunkState state, int[] exclude, int t0, int t1)
    {
        var q8 = q.Codes.AsSpan();
        for (int i = t0; i < t1; i++)
        {
            float approx = q.Scale * scales[i] * VectorMath.DotInt8(q8, codes.AsSpan(i * padded, padded));
            float res = residuals[i];
            float error = (q.Norm * res + q.ResidualNorm * (1.00001f + res)) * 1.0001f + q.Rounding;
            float upper = approx + error;
            if (upper < state.Lowers.Threshold || Array.IndexOf(exclude, i) >= 0) continue;
            state.Lowers.Offer(approx - error, i);
            state.Candidates.Add((i, upper));
            if (state.Candidates.Count >= state.PruneAt) state.Prune();
        }
    }

    /// <summary>The exact oracle: every row scored with <see cref="VectorMath.Dot"/>.</summary>
    public static (int Row, float Score)[][] SearchExact(ReadOnlyMemory<float> unit, int dims, float[] queries, int k, int rowEnd, int[][] exclude)
    {
        int count = queries.Length / dims;
        var results = new (int Row, float Score)[count][];
        Threads.For(count, b =>
        {
            var span = unit.Span;
            var query = queries.AsSpan(b * dims, dims);
            var best = new TopK(k);
            for (int i = 0; i < rowEnd; i++)
            {
                float s = VectorMath.Dot(query, span.Slice(i * dims, dims));
                if (best.Admits(s, i) && Array.IndexOf(exclude[b], i) < 0) best.Offer(s, i);
            }
            results[b] = best.Sorted();
        });
        return results;
    }

    /// <summary>A query quantised like the rows, with the norms its error bound needs.</summary>
    readonly record struct PreparedQuery(short[] Codes, float Scale, float Norm, float ResidualNorm, float Rounding)
    {
        public static PreparedQuery Create(ReadOnlySpan<float> q, int padded)
        {
            var codes8 = new sbyte[padded];
            float scale = Quantise(q, codes8.AsSpan(0, q.Length), out float residual);
            var codes = new short[padded];
            for (int j = 0; j < padded; j++) codes[j] = codes8[j];
            double norm = 0;
            foreach (float v in q) norm += (double)v * v;
            float n = (float)(Math.Sqrt(norm) * (1 + 1e-6));
            // Float32 rounding of the exact dot (≤ γ_D·‖q‖ for unit rows) and of the approximate
            // score (a few ulps of ‖q‖), with a generous factor.
            float rounding = (q.Length + 8) * MathF.Pow(2, -22) * n;
            return new PreparedQuery(codes, scale, n, residual, rounding);
        }
    }

    /// <summary>One query's progress through one chunk: the k best lower bounds and every row that may still beat them.</summary>
    sealed class ChunkState(int k)
    {
        public readonly TopK Lowers = new(k);
        public readonly List<(int Row, float Upper)> Candidates = [];
        public int PruneAt = Math.Max(256, 4 * k);

        /// <summary>Drops candidates whose upper bound fell below the current k-th lower bound.</summary>
        public void Prune()
        {
            float bar = Lowers.Threshold;
            Candidates.RemoveAll(c => c.Upper < bar);
            PruneAt = Math.Max(PruneAt, 2 * Candidates.Count);
        }
    }
}
