using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
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
/// <para>
/// Layout: rows in blocks of 16; within a block, for each quad of dimensions (4t … 4t+3), 64 bytes
/// hold the four codes of each of the 16 rows, stored as unsigned bytes code + 128. For two quads, two
/// <c>vpmaddubsw</c> against the query quads broadcast to every lane, one int16 add and one <c>vpmaddwd</c> by
/// ones give 16 rows' partial dot products over 8 dimensions at once, one per int32 lane: no widening, no
/// horizontal sums, 3 multiplies per 8 dimensions. The int16 sums must not overflow, so the query is quantised
/// to ±31 (2 quads · 2 · 255 · 31 ≤ 2¹⁵ − 1: always exact; its larger residual only widens the bounds a little);
/// the +128 of the rows adds 128·Σ q8 to every dot, subtracted per block.
/// </para>
/// </summary>
sealed class CompactIndex
{
    /// <summary>Rows per work unit of a scan (a multiple of 16); fixed, so results never depend on the thread count.</summary>
    const int ChunkRows = 8192;

    /// <summary>Queries scanned together against each block of rows.</summary>
    const int QueryGroup = 4;

    const int BlockRows = 16;

    /// <summary>Largest query code: keeps the int16 sums of two vpmaddubsw exact (2 · 2 · 255 · 31 ≤ 32767).</summary>
    const int QueryLevels = 31;

    readonly int dims, quads, blocks;
    readonly byte[] codes;      // (blocks, quads, 16 rows, 4) code + 128
    readonly float[] scales;    // (blocks · 16) value = scale · code; 0 for padding rows
    readonly float[] residuals; // (blocks · 16) ‖u_i − scale_i·code_i‖₂

    CompactIndex(int rows, int dims)
    {
        this.dims = dims;
        quads = (dims + 3) / 4;
        blocks = (rows + BlockRows - 1) / BlockRows;
        codes = new byte[(long)blocks * quads * 4 * BlockRows];
        scales = new float[blocks * BlockRows];
        residuals = new float[blocks * BlockRows];
    }

    /// <summary>Quantises the unit rows <paramref name="unit"/> (rows × dims), one scale per row.</summary>
    public static CompactIndex Build(ReadOnlyMemory<float> unit, int rows, int dims)
    {
        var index = new CompactIndex(rows, dims);
        Threads.For((rows + ChunkRows - 1) / ChunkRows, c =>
        {
            var span = unit.Span;
            Span<sbyte> code = stackalloc sbyte[index.quads * 4];
            int end = Math.Min(rows, (c + 1) * ChunkRows);
            for (int i = c * ChunkRows; i < end; i++)
            {
                index.scales[i] = Quantise(span.Slice(i * dims, dims), 127, code, out index.residuals[i]);
                int block = i / BlockRows, lane = i % BlockRows;
                for (int t = 0; t < index.quads; t++)
                {
                    long at = ((long)block * index.quads + t) * 4 * BlockRows + 4 * lane;
                    for (int j = 0; j < 4; j++) index.codes[at + j] = (byte)(code[4 * t + j] + 128);
                }
            }
        });
        return index;
    }

    /// <summary>
    /// codes = round(x / s) with s = max|x| / <paramref name="levels"/> (codes beyond x.Length stay 0); returns s and
    /// ‖x − s·codes‖₂ (in double, rounded up a little so the bound stays a bound).
    /// </summary>
    static float Quantise(ReadOnlySpan<float> x, int levels, Span<sbyte> codes, out float residual)
    {
        float max = 0f;
        foreach (float v in x) max = Math.Max(max, Math.Abs(v));
        codes.Clear();
        residual = 0f;
        if (max == 0f) return 0f;
        float scale = max / levels;
        double r2 = 0;
        for (int j = 0; j < x.Length; j++)
        {
            int c = Math.Clamp((int)MathF.Round(x[j] / scale), -levels, levels);
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
        for (int b = 0; b < count; b++) prepared[b] = PreparedQuery.Create(queries.AsSpan(b * dims, dims), quads);

        // Units are chunk-major: one thread scores every query group against a chunk of rows while the chunk's codes sit in its
        // core's L2, so the codes stream from memory once per batch, not once per group. Any partition gives the same answer:
        // the final filter below only depends on the set of bounds.
        int rowChunks = Math.Max(1, (rowEnd + ChunkRows - 1) / ChunkRows);
        int groups = (count + QueryGroup - 1) / QueryGroup;
        var states = new ChunkState[count, rowChunks];
        var bars = new SharedBar[count];
        for (int b = 0; b < count; b++) bars[b] = new SharedBar();
        Threads.For(groups * rowChunks, unitId =>
        {
            int rc = unitId / groups, g = unitId % groups;
            int q0 = g * QueryGroup, q1 = Math.Min(count, q0 + QueryGroup);
            var group = new ChunkState[q1 - q0];
            for (int b = q0; b < q1; b++) group[b - q0] = states[b, rc] = new ChunkState(prepared[b], k, exclude[b], bars[b]);
            ScanChunk(group, rc * ChunkRows / BlockRows, Math.Min(rowEnd, (rc + 1) * ChunkRows), rowEnd);
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
                    if (upper >= bar) best.Offer(VectorMath.Dot(query, span.Slice(row * dims, dims)), row);
                }
            }
            results[b] = best.Sorted();
        });
        return results;
    }

    /// <summary>Scans blocks from <paramref name="firstBlock"/> until row <paramref name="end"/> for up to four queries.</summary>
    void ScanChunk(ChunkState[] group, int firstBlock, int end, int rowEnd)
    {
        int lastBlock = (end + BlockRows - 1) / BlockRows;
        Span<int> dots = stackalloc int[QueryGroup * BlockRows];
        for (int block = firstBlock; block < lastBlock; block++)
        {
            var blockCodes = codes.AsSpan(block * quads * 4 * BlockRows, quads * 4 * BlockRows);
            // A batch's last group may be short: its queries go one by one rather than beside idle lanes.
            if (group.Length == QueryGroup)
            {
                BlockDots4(blockCodes, group[0].Query.Quads, group[1].Query.Quads, group[2].Query.Quads, group[3].Query.Quads, dots);
            }
            else
            {
                for (int g = 0; g < group.Length; g++) BlockDots1(blockCodes, group[g].Query.Quads, dots.Slice(g * BlockRows, BlockRows));
            }
            for (int g = 0; g < group.Length; g++)
            {
                var state = group[g];
                var blockDots = dots.Slice(g * BlockRows, BlockRows);
                uint maybe = Maybe(state, block * BlockRows, blockDots);
                if (maybe != 0) Admit(state, block * BlockRows, maybe, blockDots, rowEnd);
            }
        }
    }

    /// <summary>
    /// One bit per row of the block at <paramref name="first"/> whose upper bound may reach the query's bar (every bit without
    /// 512-bit vectors; <see cref="Admit"/> checks each exactly). Most blocks hold none: this is the scan's per-block cost.
    /// </summary>
    uint Maybe(ChunkState state, int first, ReadOnlySpan<int> dots)
    {
        if (!Vector512.IsHardwareAccelerated) return 0xFFFF;
        var q8 = Vector512.Create(dots) - Vector512.Create(state.Query.Bias);
        var approx = Vector512.ConvertToSingle(q8) * state.Query.Scale * Vector512.Create(scales.AsSpan(first, BlockRows));
        var upper = approx + Vector512.Create(residuals.AsSpan(first, BlockRows)) * state.Slope + Vector512.Create(state.Offset);
        return (uint)Vector512.GreaterThanOrEqual(upper, Vector512.Create(state.Bar)).ExtractMostSignificantBits();
    }

    /// <summary>
    /// Turns the flagged rows' int dots into bounds and keeps the rows that may still be in the top k. The error
    /// bound (‖q‖·res + ‖rq‖·(1 + res))·(1 + 1e-4) + rounding is regrouped as slope·res + offset;
    /// the 1e-4 margin absorbs the float rounding of either form.
    /// </summary>
    void Admit(ChunkState state, int first, uint maybe, ReadOnlySpan<int> dots, int rowEnd)
    {
        while (maybe != 0)
        {
            int lane = System.Numerics.BitOperations.TrailingZeroCount(maybe);
            maybe &= maybe - 1;
            int i = first + lane;
            float approx = (dots[lane] - state.Query.Bias) * state.Query.Scale * scales[i];
            float error = residuals[i] * state.Slope + state.Offset;
            float upper = approx + error;
            if (upper < state.Bar || i >= rowEnd || Array.IndexOf(state.Exclude, i) >= 0) continue;
            state.Offer(approx - error, upper, i);
        }
    }

    /// <summary>
    /// dots[r] = Σ_j (code_rj + 128)·q_j for the 16 rows of one block (the stored bytes times the query codes); q holds the query's
    /// codes (each within ±31), four per int, lowest dimension in the lowest byte.
    /// </summary>
    internal static void BlockDots1(ReadOnlySpan<byte> block, ReadOnlySpan<int> q, Span<int> dots)
    {
        if (Avx512BW.IsSupported)
        {
            ref byte c = ref MemoryMarshal.GetReference(block);
            var ones = Vector512.Create((short)1);
            var acc = Vector512<int>.Zero;
            for (int t = 0; t < q.Length; t += 2)
            {
                var sum = Avx512BW.MultiplyAddAdjacent(Vector512.LoadUnsafe(ref c, (nuint)(t * 64)), Vector512.Create(q[t]).AsSByte());
                if (t + 1 < q.Length)
                {
                    sum += Avx512BW.MultiplyAddAdjacent(Vector512.LoadUnsafe(ref c, (nuint)(t * 64 + 64)), Vector512.Create(q[t + 1]).AsSByte());
                }
                acc += Avx512BW.MultiplyAddAdjacent(sum, ones);
            }
            acc.CopyTo(dots);
            return;
        }
        if (Avx2.IsSupported)
        {
            BlockDotsAvx2(block, q, dots);
            return;
        }
        BlockDotsScalar(block, q, dots);
    }

    /// <summary><see cref="BlockDots1"/> with 256-bit vectors: rows 0–7 and 8–15 of the block as two halves.</summary>
    internal static void BlockDotsAvx2(ReadOnlySpan<byte> block, ReadOnlySpan<int> q, Span<int> dots)
    {
        ref byte c = ref MemoryMarshal.GetReference(block);
        var ones = Vector256.Create((short)1);
        var low = Vector256<int>.Zero;
        var high = Vector256<int>.Zero;
        for (int t = 0; t < q.Length; t++)
        {
            // One quad at a time: 256-bit registers are not this kernel's hot path.
            var quad = Vector256.Create(q[t]).AsSByte();
            low += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Vector256.LoadUnsafe(ref c, (nuint)(t * 64)), quad), ones);
            high += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Vector256.LoadUnsafe(ref c, (nuint)(t * 64 + 32)), quad), ones);
        }
        low.CopyTo(dots);
        high.CopyTo(dots[8..]);
    }

    /// <summary><see cref="BlockDots1"/> for four queries sharing each loaded block; dots is (4, 16).</summary>
    internal static void BlockDots4(ReadOnlySpan<byte> block, ReadOnlySpan<int> q0, ReadOnlySpan<int> q1, ReadOnlySpan<int> q2,
        ReadOnlySpan<int> q3, Span<int> dots)
    {
        if (Avx512BW.IsSupported)
        {
            ref byte c = ref MemoryMarshal.GetReference(block);
            var ones = Vector512.Create((short)1);
            Vector512<int> a0 = default, a1 = default, a2 = default, a3 = default;
            int t = 0;
            for (; t + 1 < q0.Length; t += 2)
            {
                var r0 = Vector512.LoadUnsafe(ref c, (nuint)(t * 64));
                var r1 = Vector512.LoadUnsafe(ref c, (nuint)(t * 64 + 64));
                a0 += Avx512BW.MultiplyAddAdjacent(Quads(r0, r1, q0[t], q0[t + 1]), ones);
                a1 += Avx512BW.MultiplyAddAdjacent(Quads(r0, r1, q1[t], q1[t + 1]), ones);
                a2 += Avx512BW.MultiplyAddAdjacent(Quads(r0, r1, q2[t], q2[t + 1]), ones);
                a3 += Avx512BW.MultiplyAddAdjacent(Quads(r0, r1, q3[t], q3[t + 1]), ones);
            }
            if (t < q0.Length)
            {
                var r0 = Vector512.LoadUnsafe(ref c, (nuint)(t * 64));
                a0 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(r0, Vector512.Create(q0[t]).AsSByte()), ones);
                a1 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(r0, Vector512.Create(q1[t]).AsSByte()), ones);
                a2 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(r0, Vector512.Create(q2[t]).AsSByte()), ones);
                a3 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(r0, Vector512.Create(q3[t]).AsSByte()), ones);
            }
            a0.CopyTo(dots);
            a1.CopyTo(dots[16..]);
            a2.CopyTo(dots[32..]);
            a3.CopyTo(dots[48..]);
            return;
        }
        BlockDots1(block, q0, dots);
        BlockDots1(block, q1, dots[16..]);
        BlockDots1(block, q2, dots[32..]);
        BlockDots1(block, q3, dots[48..]);
    }

    /// <summary>The int16 sums, per pair of dimensions, of two quads of 16 rows times a query's two quads.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    static Vector512<short> Quads(Vector512<byte> rows0, Vector512<byte> rows1, int q0, int q1) =>
        Avx512BW.MultiplyAddAdjacent(rows0, Vector512.Create(q0).AsSByte()) + Avx512BW.MultiplyAddAdjacent(rows1, Vector512.Create(q1).AsSByte());

    /// <summary>The oracle (and fallback without AVX2) for the block kernels.</summary>
    internal static void BlockDotsScalar(ReadOnlySpan<byte> block, ReadOnlySpan<int> q, Span<int> dots)
    {
        for (int r = 0; r < BlockRows; r++)
        {
            int sum = 0;
            for (int t = 0; t < q.Length; t++)
            {
                for (int j = 0; j < 4; j++) sum += block[t * 64 + 4 * r + j] * (sbyte)(q[t] >> (8 * j));
            }
            dots[r] = sum;
        }
    }

    /// <summary>The exact oracle: every row scored with <see cref="VectorMath.Dot"/>.</summary>
    public static (int Row, float Score)[][] SearchExact(ReadOnlyMemory<float> unit, int dims, float[] queries, int k, int rowEnd,
        int[][] exclude)
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

    /// <summary>
    /// A query quantised to ±<see cref="QueryLevels"/> (codes packed four per int), the 128·Σ codes the rows' +128 adds to each
    /// dot, and the norms its error bound needs.
    /// </summary>
    internal readonly record struct PreparedQuery(int[] Quads, int Bias, float Scale, float Norm, float ResidualNorm, float Rounding)
    {
        public static PreparedQuery Create(ReadOnlySpan<float> q, int quads)
        {
            Span<sbyte> code = stackalloc sbyte[quads * 4];
            float scale = Quantise(q, QueryLevels, code, out float residual);
            var packed = new int[quads];
            int sum = 0;
            for (int j = 0; j < code.Length; j++)
            {
                packed[j / 4] |= (byte)code[j] << (8 * (j % 4));
                sum += code[j];
            }
            double norm = 0;
            foreach (float v in q) norm += (double)v * v;
            float n = (float)(Math.Sqrt(norm) * (1 + 1e-6));
            // Float32 rounding of the exact dot (≤ γ_D·‖q‖ for unit rows) and of the approximate
            // score (a few ulps of ‖q‖), with a generous factor.
            float rounding = (q.Length + 8) * MathF.Pow(2, -22) * n;
            return new PreparedQuery(packed, 128 * sum, scale, n, residual, rounding);
        }
    }

    /// <summary>
    /// The best k-th lower bound any chunk of one query has found so far. Each chunk's own k-th
    /// lower bound is at most the global one, so any of them is a safe bar for every chunk; sharing
    /// the highest keeps fewer candidates. Which value a chunk sees depends on timing, the answer does not.
    /// </summary>
    sealed class SharedBar
    {
        float value = float.NegativeInfinity;

        public float Value => Volatile.Read(ref value);

        public void Raise(float bar)
        {
            float seen = Value;
            while (bar > seen)
            {
                float previous = Interlocked.CompareExchange(ref value, bar, seen);
                if (previous == seen) return;
                seen = previous;
            }
        }
    }

    /// <summary>One query's progress through one chunk: the k best lower bounds and every row that may still beat them.</summary>
    sealed class ChunkState(PreparedQuery query, int k, int[] exclude, SharedBar shared)
    {
        public readonly PreparedQuery Query = query;
        public readonly int[] Exclude = exclude;
        public readonly TopK Lowers = new(k);
        public readonly List<(int Row, float Upper)> Candidates = [];

        /// <summary>The error bound of a row with residual norm res is Slope·res + Offset.</summary>
        public readonly float Slope = (query.Norm + query.ResidualNorm) * 1.0001f, Offset = query.ResidualNorm * 1.0002f + query.Rounding;

        int pruneAt = Math.Max(256, 4 * k);
        float own = float.NegativeInfinity; // Lowers.Threshold, kept here: it only changes in Offer

        /// <summary>Rows whose upper bound is below this cannot be in the top k.</summary>
        public float Bar => Math.Max(own, shared.Value);

        public void Offer(float lower, float upper, int row)
        {
            Lowers.Offer(lower, row);
            own = Lowers.Threshold;
            shared.Raise(own);
            Candidates.Add((row, upper));
            if (Candidates.Count < pruneAt) return;
            // Drop candidates whose upper bound fell below the bar.
            float bar = Bar;
            Candidates.RemoveAll(c => c.Upper < bar);
            pruneAt = Math.Max(pruneAt, 2 * Candidates.Count);
        }
    }
}
