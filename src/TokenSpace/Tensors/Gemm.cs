using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TokenSpace.Tensors;

// Legend: Out (M, Ncols) = A (M, K) · B (K, Ncols), plus an initial value (a bias row, or Out itself).
// A is read in place through two strides (row, k), so A can be a matrix or its transpose. B is packed
// into panels of NR columns, [panel][k][NR], so the micro-kernel reads it with unit stride (read in
// place, rows of a wide B lie kilobytes apart: the backward at GPT-2 size fell from 175 to 124 GFLOP/s),
// except where B's rows are short and already hold whole panels: then the kernel steps down B itself.

/// <summary>
/// The one matrix-multiply engine behind <see cref="MatMul"/>: a register-tiled micro-kernel (MR rows ×
/// NR columns of accumulators, NR = two SIMD vectors) over packed panels of B, cache-blocked over K,
/// parallel over a fixed grid of output blocks. Each output is a single fused-multiply-add chain in
/// increasing k, so the result depends neither on the blocking nor on the thread count.
/// </summary>
static unsafe class Gemm
{
    /// <summary>Rows of A per micro-tile: 6 rows × 2 vectors = 12 accumulators, enough to hide the FMA latency on both FMA pipes.</summary>
    internal const int MR = 6;
    /// <summary>
    /// Rows per micro-tile where 32 vector registers hold 24 accumulators (AVX-512): half the loads of B per FMA. Training-shape
    /// products (N 2048, C 128 to 512), 1 thread, Zen 4: 78 -> 83 GFLOP/s; tiles that do not fill 12 rows run at <see cref="MR"/>.
    /// </summary>
    const int WideMR = 12;
    /// <summary>Micro-tiles per output block: a block's A rows (48 × KC) stay in L2 while its panels pass.</summary>
    const int TilesPerBlock = 8;
    /// <summary>Panels per output block.</summary>
    const int PanelsPerBlock = 4;
    /// <summary>Panels per output block when the block packs its slice of A: their B slices (KC × NR each) still fit in L2.</summary>
    const int PackedAPanelsPerBlock = 12;
    /// <summary>
    /// K per cache block: one packed panel slice (KC × NR floats, 64 KB at NR = 32) stays in L2 while every
    /// tile of a block reads it; a larger KC means fewer reloads of the output tile. Chosen by measurement
    /// (128, 256, 512, 768 were within noise of each other on Zen 4; 512 was never the slowest).
    /// </summary>
    const int KC = 512;
    /// <summary>
    /// K per slice where <see cref="Run"/> cuts a product along k. Measured (2 threads, Zen 4, in-process alternation): slices of
    /// 512, 1,024, 2,048, 4,096 and none gave dW at N 8192 x C 768 x OC 3072 190, 188, 193, 211, 228 ms and lm_head's dInput 401,
    /// 397, 400, 413, 435 ms; the training shapes were within 2 % of each other.
    /// </summary>
    const int KSlice = 4 * KC;
    /// <summary>The fewest output blocks a parallel product is cut into, when its shape allows.</summary>
    const int MinBlocks = 16;
    /// <summary>The longest row stride (floats) of a B that <see cref="Run"/> reads in place instead of packing.</summary>
    const int InPlaceRow = 512;

    [ThreadStatic] static float[]? scratch;
    /// <summary>A block's packed slice of A, on the thread running the block.</summary>
    [ThreadStatic] static float[]? aScratch;

    /// <summary>
    /// <c>out[m, j] = (accumulate ? out[m, j] : bias[j] or 0) + Σ_k a[m·aRow + k·aK] · b[k·bK + j·bJ]</c>,
    /// on the widest SIMD the CPU runs well (Vector512, else Vector256 with FMA, else scalar).
    /// </summary>
    public static void Run(float* output, int ldo, float* a, nint aRow, nint aK, float* b, nint bK, nint bJ,
        float* bias, bool accumulate, int M, int K, int Ncols)
    {
        if (Vector512.IsHardwareAccelerated) Run<Vector512<float>,
            Ops512>(output, ldo, a, aRow, aK, b, bK, bJ, bias, accumulate, M, K, Ncols);
        else if (Wide256) Run<Vector256<float>, Ops256>(output, ldo, a, aRow, aK, b, bK, bJ, bias, accumulate, M, K, Ncols);
        else Run<float, OpsScalar>(output, ldo, a, aRow, aK, b, bK, bJ, bias, accumulate, M, K, Ncols);
    }

    /// <summary><see cref="Run"/> at one vector width (tests call every width the CPU supports).</summary>
    internal static void Run<TVec, TOps>(float* output, int ldo, float* a, nint aRow, nint aK, float* b, nint bK, nint bJ,
        float* bias, bool accumulate, int M, int K, int Ncols)
        where TVec : unmanaged
        where TOps : IVectorOps<TVec>
    {
        if (M == 0 || Ncols == 0) return;
        // Where the output is smaller than the operands streaming past it, one KSlice of k at a time: each slice of B is packed
        // into a buffer that stays in cache, each slice of A and B is read once, and the small output again per slice (lm_head's
        // dInput: A 206 MB, B 154 MB, output 3 MB). Every output's chain still runs over k in order.
        if (K > KSlice && !Serial(M, K, Ncols) && (long)M * Ncols < (long)K * Math.Max(M, Ncols))
        {
            for (int k0 = 0; k0 < K; k0 += KSlice)
                Run<TVec, TOps>(output, ldo, a + k0 * aK, aRow, aK, b + k0 * bK, bK, bJ, bias, accumulate || k0 > 0, M,
                    Math.Min(KSlice, K - k0), Ncols);
            return;
        }
        int NR = 2 * TOps.Count;
        int panels = (Ncols + NR - 1) / NR;
        // B's rows already hold whole panels side by side (bJ = 1, Ncols a multiple of NR) and lie close together: the kernel
        // reads B in place, a panel's row k at b + p·NR + k·bK, and nothing is packed. Measured (2 threads, Zen 5, GFLOP/s packed ->
        // in place, same run): dW at N 2048 C 128 OC 384 414 -> 496, C 512 OC 128 395 -> 460; dInput C 128 OC 128 444 -> 463. Rows
        // further apart than InPlaceRow floats miss the TLB and prefetcher: dInput at N 8192 C 768 OC 3072 fell 469 -> 384.
        if (bJ == 1 && ReadsInPlace(bK, Ncols, NR))
        {
            Multiply<TVec, TOps>(output, ldo, a, aRow, aK, b, NR, bK, bias, accumulate, M, K, Ncols);
            return;
        }
        long packedLength = (long)panels * K * NR;
        float[] buffer = Scratch.Get(ref scratch, packedLength + (long)panels * NR);
        fixed (float* pBuffer = buffer)
        {
            float* packed = pBuffer, init = pBuffer + packedLength;
            for (int j = 0; j < panels * NR; j++) init[j] = bias != null && j < Ncols ? bias[j] : 0f;
            if (Serial(M, K, Ncols))
            {
                for (int p = 0; p < panels; p++) PackPanel(packed, b, bK, bJ, K, Ncols, NR, p);
            }
            else
            {
                nint pb = (nint)b, pp = (nint)packed;
                Threads.For(panels, p => PackPanel((float*)pp, (float*)pb, bK, bJ, K, Ncols, NR, p));
            }
            Multiply<TVec, TOps>(output, ldo, a, aRow, aK, packed, (long)K * NR, NR, init, accumulate, M, K, Ncols);
        }
    }

    /// <summary>Columns per packed panel at the width <see cref="Run"/> uses.</summary>
    public static int PanelWidth => Vector512.IsHardwareAccelerated ? 2 * Vector512<float>.Count : Wide256 ? 2 * Vector256<float>.Count : 2;

    /// <summary>Floats that <see cref="Pack"/> writes for a (K, Ncols) matrix.</summary>
    public static long PackedLength(int K, int Ncols) => (long)(Ncols + PanelWidth - 1) / PanelWidth * PanelWidth * K;

    /// <summary>
    /// Packs B (K, Ncols), read as <c>b[k·bK + j·bJ]</c>, into panels of <see cref="PanelWidth"/> columns,
    /// <c>packed[p·K·NR + k·NR + j]</c>, on the calling thread: for an operand that several products share.
    /// </summary>
    public static void Pack(float* packed, float* b, nint bK, nint bJ, int K, int Ncols)
    {
        int NR = PanelWidth;
        for (int p = 0; p < (Ncols + NR - 1) / NR; p++) PackPanel(packed, b, bK, bJ, K, Ncols, NR, p);
    }

    /// <summary>
    /// <c>out[m, j] = (accumulate ? out[m, j] : 0) + Σ_{k &lt; K} a[m·aRow + k·aK] · B[k, j]</c>, with B given
    /// in panels of <see cref="PanelWidth"/> columns: <paramref name="packed"/> points at row k = 0 of panel 0, panel p starts
    /// <paramref name="panelStride"/> floats after panel 0 and its row k <paramref name="ldb"/> floats after its row k − 1. Packed
    /// by <see cref="Pack"/> (<paramref name="packed"/> may start partway down), ldb is <see cref="PanelWidth"/>; a B whose rows
    /// already hold whole panels (<see cref="ReadsInPlace"/>) is read where it lies, ldb its row stride and panelStride
    /// <see cref="PanelWidth"/>.
    /// </summary>
    public static void RunPacked(float* output, int ldo, float* a, nint aRow, nint aK, float* packed, long panelStride, nint ldb,
        bool accumulate, int M, int K, int Ncols)
    {
        if (M == 0 || Ncols == 0) return;
        if (Vector512.IsHardwareAccelerated) Multiply<Vector512<float>,
            Ops512>(output, ldo, a, aRow, aK, packed, panelStride, ldb, null, accumulate, M, K, Ncols);
        else if (Wide256) Multiply<Vector256<float>, Ops256>(output, ldo, a, aRow, aK, packed, panelStride, ldb, null, accumulate, M, K, Ncols);
        else Multiply<float, OpsScalar>(output, ldo, a, aRow, aK, packed, panelStride, ldb, null, accumulate, M, K, Ncols);
    }

    /// <summary>
    /// Whether the kernel reads a B of <paramref name="Ncols"/> columns in place, rows <paramref name="rowStride"/> floats apart
    /// (columns adjacent): its rows hold whole panels of <paramref name="NR"/> and lie close enough for the TLB and prefetcher.
    /// </summary>
    public static bool ReadsInPlace(nint rowStride, int Ncols, int NR) => Ncols % NR == 0 && rowStride <= InPlaceRow;

    /// <summary>
    /// <see cref="RunPacked"/> for one row accumulating onto <paramref name="output"/>
    /// (<c>out[j] += Σ_k a[k] · B[k, j]</c>): the micro-kernel's chains, without its tiles of MR rows (which would
    /// compute the one row MR times) and on the calling thread. For decoding one token.
    /// </summary>
    public static void RunPackedRow(float* output, float* a, float* packed, long panelStride, int K, int Ncols)
    {
        if (Vector512.IsHardwareAccelerated) Row<Vector512<float>, Ops512>(output, a, packed, panelStride, K, Ncols);
        else if (Wide256) Row<Vector256<float>, Ops256>(output, a, packed, panelStride, K, Ncols);
        else Row<float, OpsScalar>(output, a, packed, panelStride, K, Ncols);
    }

    static void Row<TVec, TOps>(float* output, float* a, float* packed, long panelStride, int K, int Ncols)
        where TVec : unmanaged
        where TOps : IVectorOps<TVec>
    {
        int W = TOps.Count, NR = 2 * W;
        float* tile = stackalloc float[NR];
        for (int p = 0; p * NR < Ncols; p++)
        {
            int j0 = p * NR, cols = Math.Min(NR, Ncols - j0);
            for (int j = 0; j < NR; j++) tile[j] = j < cols ? output[j0 + j] : 0f;
            TVec c0 = TOps.Load(tile), c1 = TOps.Load(tile + W);
            float* b = packed + p * panelStride;
            for (int k = 0; k < K; k++)
            {
                TVec x = TOps.Broadcast(a[k]);
                c0 = TOps.Fma(x, TOps.Load(b + (long)k * NR), c0);
                c1 = TOps.Fma(x, TOps.Load(b + (long)k * NR + W), c1);
            }
            TOps.Store(c0, tile);
            TOps.Store(c1, tile + W);
            for (int j = 0; j < cols; j++) output[j0 + j] = tile[j];
        }
    }

    static bool Wide256 => Vector256.IsHardwareAccelerated && Fma.IsSupported;

    /// <summary>
    /// Small products (attention's per-head blocks) and calls from inside a parallel loop run their blocks
    /// in order on the calling thread, without the cost of handing them out.
    /// </summary>
    static bool Serial(int M, int K, int Ncols) => Threads.Serial((long)M * K * Ncols);

    /// <summary>
    /// The product over B's panels (panel p's row k at <c>packed + p·panelStride + k·ldb</c>), split into a grid of output
    /// blocks (<paramref name="init"/>: the initial row, whole panels long, or null for zero).
    /// </summary>
    static void Multiply<TVec, TOps>(float* output, int ldo, float* a, nint aRow, nint aK, float* packed, long panelStride, nint ldb, float* init,
        bool accumulate, int M, int K, int Ncols)
        where TVec : unmanaged
        where TOps : IVectorOps<TVec>
    {
        int NR = 2 * TOps.Count;
        int panels = (Ncols + NR - 1) / NR;
        // The grid never changes a result (every output is one chain over k in fixed KC blocks). Run in order on
        // one thread, the blocks are as large as the caches allow: fewer calls, which weigh on small products.
        // A block that packs its A slice (A read down its columns) spans more panels, so each slice is copied fewer times.
        int rowsPer = MR * TilesPerBlock, panelsPer = PacksA(aRow, aK) ? PackedAPanelsPerBlock : PanelsPerBlock;
        if (Serial(M, K, Ncols))
        {
            int serialPanelBlocks = (panels + panelsPer - 1) / panelsPer;
            for (int unit = 0; unit < (M + rowsPer - 1) / rowsPer * serialPanelBlocks; unit++)
                Block<TVec, TOps>(output, ldo, a, aRow, aK, packed, panelStride, ldb, init, accumulate, unit, rowsPer, panelsPer,
                    serialPanelBlocks, false, M, panels, K, Ncols);
            return;
        }
        // Few large blocks would leave a thread idle (dW of a 128 × 128 layer is 3 blocks): below MinBlocks, cut them smaller, rows
        // halving from 48 through 24 and 12 (still whole wide tiles) to 6. Cutting straight to 6 rows gave up the wide kernel:
        // shakespeare-char-small's matmul backward, 2 threads, Zen 5, alternating runs: 17.0 -> 16.4 ms per step.
        if (Blocks(M, rowsPer, panels, panelsPer) < MinBlocks) panelsPer = 1;
        while (rowsPer > MR && Blocks(M, rowsPer, panels, panelsPer) < MinBlocks) rowsPer /= 2;
        int rowBlocks = (M + rowsPer - 1) / rowsPer, panelBlocks = (panels + panelsPer - 1) / panelsPer;
        nint o = (nint)output, pa = (nint)a, pp = (nint)packed, pi = (nint)init;
        // Where B is wider than A is tall, the units of one panel block run together: a thread streams each panel of B once and
        // A's rows again per panel block (lm_head's forward would read all 154 MB of packed wte once per 48 rows of A).
        bool panelMajor = (long)panels * NR > M;
        Threads.For(rowBlocks * panelBlocks, unit =>
            Block<TVec, TOps>((float*)o, ldo, (float*)pa, aRow, aK, (float*)pp, panelStride, ldb, (float*)pi, accumulate, unit, rowsPer,
                panelsPer, panelBlocks, panelMajor, M, panels, K, Ncols));
    }

    /// <summary>
    /// One output block of the grid (<paramref name="rowsPer"/> rows × <paramref name="panelsPer"/> panels; units numbered along panels,
    /// or along rows when <paramref name="panelMajor"/>), over all of K in blocks of KC.
    /// </summary>
    [SkipLocalsInit] // the edge tile and row table are written before they are read
    static void Block<TVec, TOps>(float* output, int ldo, float* a, nint aRow, nint aK, float* packed, long panelStride, nint ldb, float* init,
        bool accumulate, int unit, int rowsPer, int panelsPer, int panelBlocks, bool panelMajor, int M, int panels, int K, int Ncols)
        where TVec : unmanaged
        where TOps : IVectorOps<TVec>
    {
        int NR = 2 * TOps.Count;
        int rowBlocks = (M + rowsPer - 1) / rowsPer;
        int rowBlock = panelMajor ? unit % rowBlocks : unit / panelBlocks, panelBlock = panelMajor ? unit / rowBlocks : unit % panelBlocks;
        int m0 = rowBlock * rowsPer, m1 = Math.Min(M, m0 + rowsPer);
        int p0 = panelBlock * panelsPer, p1 = Math.Min(panels, p0 + panelsPer);
        // Edge tiles (fewer rows than the tile or fewer than NR columns) run on this copy so the kernel never writes past Out.
        float* tile = stackalloc float[WideMR * NR];
        float** rows = stackalloc float*[MR];
        bool packA = PacksA(aRow, aK);
        // Twelve rows at a time where the width has the registers (AVX-512), unless they lie a multiple of 4 KB apart: then all
        // twelve map to one set of the 8-way L1 and evict each other (dInput at OC 3072 measured 185 -> 130 GFLOP/s).
        bool wide = TOps.Count == 16 && (packA || aRow % 1024 != 0);
        float[]? packedA = packA ? Scratch.Get(ref aScratch, (long)rowsPer * KC) : null;
        fixed (float* pa = packedA)
        // K == 0 still runs one pass, which writes the initial value.
        for (int k0 = 0; k0 < Math.Max(K, 1); k0 += KC)
        {
            int kc = Math.Min(KC, K - k0);
            bool load = accumulate || k0 > 0;
            // The rows of this slice: row m at ab + (m - m0)·aRow (packed rows are adjacent too: aRow is 1), step abK along k.
            float* ab = a + m0 * aRow + k0 * aK;
            nint abK = aK;
            if (packA)
            {
                PackRows(pa, rowsPer, ab, aK, m1 - m0, kc);
                ab = pa;
                abK = rowsPer;
            }
            for (int p = p0; p < p1; p++)
            {
                int j0 = p * NR, cols = Math.Min(NR, Ncols - j0);
                float* panel = packed + p * panelStride + (long)k0 * ldb;
                for (int m = m0; m < m1; )
                {
                    int step = wide && m1 - m >= WideMR ? WideMR : MR, count = Math.Min(step, m1 - m);
                    float* dst = output + (long)m * ldo + j0, target = cols == NR && count == step ? dst : tile;
                    nint ldt = target == dst ? ldo : NR;
                    if (target == tile && load) CopyTile(tile, NR, dst, ldo, count, cols);
                    float* start = init == null ? null : init + j0;
                    if (step == WideMR) MicroWide<TVec, TOps>(target, ldt, ab + (m - m0) * aRow, aRow, abK, panel, ldb, kc, start, load);
                    else
                    {
                        // Missing rows repeat the first one: computed, then dropped with the rest of the tile copy.
                        for (int r = 0; r < MR; r++) rows[r] = ab + (m - m0 + (r < count ? r : 0)) * aRow;
                        Micro<TVec, TOps>(target, ldt, rows, abK, panel, ldb, kc, start, load);
                    }
                    if (target == tile) CopyTile(dst, ldo, tile, NR, count, cols);
                    m += step;
                }
            }
        }
    }

    /// <summary>
    /// The micro-kernel: a tile of MR × NR outputs held in 12 registers, each updated with one FMA per
    /// k: broadcast a[r, k], multiply by the panel's two vectors for row k.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Micro<TVec, TOps>(float* c, nint ldc, float** rows, nint aK, float* panel, nint ldb, int kc, float* init, bool load)
        where TVec : unmanaged
        where TOps : IVectorOps<TVec>
    {
        nint W = TOps.Count;
        TVec c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        if (load)
        {
            c00 = TOps.Load(c); c01 = TOps.Load(c + W);
            c10 = TOps.Load(c + ldc); c11 = TOps.Load(c + ldc + W);
            c20 = TOps.Load(c + 2 * ldc); c21 = TOps.Load(c + 2 * ldc + W);
            c30 = TOps.Load(c + 3 * ldc); c31 = TOps.Load(c + 3 * ldc + W);
            c40 = TOps.Load(c + 4 * ldc); c41 = TOps.Load(c + 4 * ldc + W);
            c50 = TOps.Load(c + 5 * ldc); c51 = TOps.Load(c + 5 * ldc + W);
        }
        else if (init != null)
        {
            c00 = c10 = c20 = c30 = c40 = c50 = TOps.Load(init);
            c01 = c11 = c21 = c31 = c41 = c51 = TOps.Load(init + W);
        }
        else
        {
            c00 = c10 = c20 = c30 = c40 = c50 = c01 = c11 = c21 = c31 = c41 = c51 = TOps.Zero;
        }
        float* a0 = rows[0], a1 = rows[1], a2 = rows[2], a3 = rows[3], a4 = rows[4], a5 = rows[5];
        nint o = 0;
        for (int k = 0; k < kc; k++, o += aK, panel += ldb)
        {
            TVec b0 = TOps.Load(panel), b1 = TOps.Load(panel + W);
            TVec x = TOps.Broadcast(a0[o]); c00 = TOps.Fma(x, b0, c00); c01 = TOps.Fma(x, b1, c01);
            x = TOps.Broadcast(a1[o]); c10 = TOps.Fma(x, b0, c10); c11 = TOps.Fma(x, b1, c11);
            x = TOps.Broadcast(a2[o]); c20 = TOps.Fma(x, b0, c20); c21 = TOps.Fma(x, b1, c21);
            x = TOps.Broadcast(a3[o]); c30 = TOps.Fma(x, b0, c30); c31 = TOps.Fma(x, b1, c31);
            x = TOps.Broadcast(a4[o]); c40 = TOps.Fma(x, b0, c40); c41 = TOps.Fma(x, b1, c41);
            x = TOps.Broadcast(a5[o]); c50 = TOps.Fma(x, b0, c50); c51 = TOps.Fma(x, b1, c51);
        }
        TOps.Store(c00, c); TOps.Store(c01, c + W);
        TOps.Store(c10, c + ldc); TOps.Store(c11, c + ldc + W);
        TOps.Store(c20, c + 2 * ldc); TOps.Store(c21, c + 2 * ldc + W);
        TOps.Store(c30, c + 3 * ldc); TOps.Store(c31, c + 3 * ldc + W);
        TOps.Store(c40, c + 4 * ldc); TOps.Store(c41, c + 4 * ldc + W);
        TOps.Store(c50, c + 5 * ldc); TOps.Store(c51, c + 5 * ldc + W);
    }

    /// <summary>
    /// The micro-kernel at <see cref="WideMR"/> rows, row r at <c>a + r·aRow</c>: 24 accumulators. The row pointers would not fit in
    /// the general registers, so six pointers step along k and reach the other six rows at a fixed offset.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void MicroWide<TVec, TOps>(float* c, nint ldc, float* a, nint aRow, nint aK, float* panel, nint ldb, int kc, float* init, bool load)
        where TVec : unmanaged
        where TOps : IVectorOps<TVec>
    {
        nint W = TOps.Count;
        TVec c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71, c80, c81, c90, c91, cA0, cA1, cB0, cB1;
        if (load)
        {
            c00 = TOps.Load(c + 0 * ldc); c01 = TOps.Load(c + 0 * ldc + W);
            c10 = TOps.Load(c + 1 * ldc); c11 = TOps.Load(c + 1 * ldc + W);
            c20 = TOps.Load(c + 2 * ldc); c21 = TOps.Load(c + 2 * ldc + W);
            c30 = TOps.Load(c + 3 * ldc); c31 = TOps.Load(c + 3 * ldc + W);
            c40 = TOps.Load(c + 4 * ldc); c41 = TOps.Load(c + 4 * ldc + W);
            c50 = TOps.Load(c + 5 * ldc); c51 = TOps.Load(c + 5 * ldc + W);
            c60 = TOps.Load(c + 6 * ldc); c61 = TOps.Load(c + 6 * ldc + W);
            c70 = TOps.Load(c + 7 * ldc); c71 = TOps.Load(c + 7 * ldc + W);
            c80 = TOps.Load(c + 8 * ldc); c81 = TOps.Load(c + 8 * ldc + W);
            c90 = TOps.Load(c + 9 * ldc); c91 = TOps.Load(c + 9 * ldc + W);
            cA0 = TOps.Load(c + 10 * ldc); cA1 = TOps.Load(c + 10 * ldc + W);
            cB0 = TOps.Load(c + 11 * ldc); cB1 = TOps.Load(c + 11 * ldc + W);
        }
        else if (init != null)
        {
            c00 = c10 = c20 = c30 = c40 = c50 = c60 = c70 = c80 = c90 = cA0 = cB0 = TOps.Load(init);
            c01 = c11 = c21 = c31 = c41 = c51 = c61 = c71 = c81 = c91 = cA1 = cB1 = TOps.Load(init + W);
        }
        else
        {
            c00 = c10 = c20 = c30 = c40 = c50 = c60 = c70 = c80 = c90 = cA0 = cB0 = TOps.Zero;
            c01 = c11 = c21 = c31 = c41 = c51 = c61 = c71 = c81 = c91 = cA1 = cB1 = TOps.Zero;
        }
        float* a0 = a, a1 = a + aRow, a2 = a + 2 * aRow, a3 = a + 3 * aRow, a4 = a + 4 * aRow, a5 = a + 5 * aRow;
        nint six = 6 * aRow;
        for (int k = 0; k < kc; k++, a0 += aK, a1 += aK, a2 += aK, a3 += aK, a4 += aK, a5 += aK, panel += ldb)
        {
            TVec b0 = TOps.Load(panel), b1 = TOps.Load(panel + W);
            TVec x = TOps.Broadcast(a0[0]); c00 = TOps.Fma(x, b0, c00); c01 = TOps.Fma(x, b1, c01);
            x = TOps.Broadcast(a1[0]); c10 = TOps.Fma(x, b0, c10); c11 = TOps.Fma(x, b1, c11);
            x = TOps.Broadcast(a2[0]); c20 = TOps.Fma(x, b0, c20); c21 = TOps.Fma(x, b1, c21);
            x = TOps.Broadcast(a3[0]); c30 = TOps.Fma(x, b0, c30); c31 = TOps.Fma(x, b1, c31);
            x = TOps.Broadcast(a4[0]); c40 = TOps.Fma(x, b0, c40); c41 = TOps.Fma(x, b1, c41);
            x = TOps.Broadcast(a5[0]); c50 = TOps.Fma(x, b0, c50); c51 = TOps.Fma(x, b1, c51);
            x = TOps.Broadcast(a0[six]); c60 = TOps.Fma(x, b0, c60); c61 = TOps.Fma(x, b1, c61);
            x = TOps.Broadcast(a1[six]); c70 = TOps.Fma(x, b0, c70); c71 = TOps.Fma(x, b1, c71);
            x = TOps.Broadcast(a2[six]); c80 = TOps.Fma(x, b0, c80); c81 = TOps.Fma(x, b1, c81);
            x = TOps.Broadcast(a3[six]); c90 = TOps.Fma(x, b0, c90); c91 = TOps.Fma(x, b1, c91);
            x = TOps.Broadcast(a4[six]); cA0 = TOps.Fma(x, b0, cA0); cA1 = TOps.Fma(x, b1, cA1);
            x = TOps.Broadcast(a5[six]); cB0 = TOps.Fma(x, b0, cB0); cB1 = TOps.Fma(x, b1, cB1);
        }
        TOps.Store(c00, c + 0 * ldc); TOps.Store(c01, c + 0 * ldc + W);
        TOps.Store(c10, c + 1 * ldc); TOps.Store(c11, c + 1 * ldc + W);
        TOps.Store(c20, c + 2 * ldc); TOps.Store(c21, c + 2 * ldc + W);
        TOps.Store(c30, c + 3 * ldc); TOps.Store(c31, c + 3 * ldc + W);
        TOps.Store(c40, c + 4 * ldc); TOps.Store(c41, c + 4 * ldc + W);
        TOps.Store(c50, c + 5 * ldc); TOps.Store(c51, c + 5 * ldc + W);
        TOps.Store(c60, c + 6 * ldc); TOps.Store(c61, c + 6 * ldc + W);
        TOps.Store(c70, c + 7 * ldc); TOps.Store(c71, c + 7 * ldc + W);
        TOps.Store(c80, c + 8 * ldc); TOps.Store(c81, c + 8 * ldc + W);
        TOps.Store(c90, c + 9 * ldc); TOps.Store(c91, c + 9 * ldc + W);
        TOps.Store(cA0, c + 10 * ldc); TOps.Store(cA1, c + 10 * ldc + W);
        TOps.Store(cB0, c + 11 * ldc); TOps.Store(cB1, c + 11 * ldc + W);
    }

    /// <summary>
    /// Packs panel <paramref name="p"/> of B: <c>packed[p][k][j] = B[k, p·NR + j]</c>, zero past Ncols.
    /// Pure copies, so any thread split is exact.
    /// </summary>
    static void PackPanel(float* packed, float* b, nint bK, nint bJ, int K, int Ncols, int NR, int p)
    {
        float* dst = packed + (long)p * K * NR;
        int j0 = p * NR, cols = Math.Min(NR, Ncols - j0);
        if (cols < NR) new Span<float>(dst, K * NR).Clear();
        if (bJ == 1 && cols % Vector256<float>.Count == 0)
        {
            // Whole vectors: a panel row is 64 or 128 bytes, too short for a memmove call to pay.
            for (int k = 0; k < K; k++)
            {
                float* src = b + k * bK + j0, row = dst + (long)k * NR;
                for (int j = 0; j < cols; j += Vector256<float>.Count) Vector256.Store(Vector256.Load(src + j), row + j);
            }
        }
        else if (bJ == 1)
        {
            for (int k = 0; k < K; k++)
            {
                new ReadOnlySpan<float>(b + k * bK + j0, cols).CopyTo(new Span<float>(dst + (long)k * NR, cols));
            }
        }
        else
        {
            // Transposing: 8 × 8 blocks in registers where B's rows run along k, then the rest one by one,
            // gathering each packed row from the cols source rows (all in L1 after the first k).
            int k8 = bK == 1 && Avx.IsSupported ? K / 8 * 8 : 0, j8 = k8 > 0 ? cols / 8 * 8 : 0;
            for (int j = 0; j < j8; j += 8)
            {
                for (int k = 0; k < k8; k += 8) Transpose8(dst + (long)k * NR + j, NR, b + (j0 + j) * bJ + k, bJ);
            }
            float* src = b + j0 * bJ;
            for (int k = 0; k < K; k++, src += bK)
            {
                float* row = dst + (long)k * NR;
                for (int j = k < k8 ? j8 : 0; j < cols; j++) row[j] = src[j * bJ];
            }
        }
    }

    /// <summary><c>dst[c·ldDst + r] = src[r·ldSrc + c]</c> for an 8 × 8 block, in AVX registers.</summary>
    static void Transpose8(float* dst, nint ldDst, float* src, nint ldSrc)
    {
        Vector256<float> v0 = Avx.LoadVector256(src), v1 = Avx.LoadVector256(src + ldSrc), v2 = Avx.LoadVector256(src + 2 * ldSrc),
            v3 = Avx.LoadVector256(src + 3 * ldSrc), v4 = Avx.LoadVector256(src + 4 * ldSrc), v5 = Avx.LoadVector256(src + 5 * ldSrc),
            v6 = Avx.LoadVector256(src + 6 * ldSrc), v7 = Avx.LoadVector256(src + 7 * ldSrc);
        // Interleave pairs of rows, then pairs of pairs, then swap 128-bit halves.
        var t0 = Avx.UnpackLow(v0, v1); var t1 = Avx.UnpackHigh(v0, v1);
        var t2 = Avx.UnpackLow(v2, v3); var t3 = Avx.UnpackHigh(v2, v3);
        var t4 = Avx.UnpackLow(v4, v5); var t5 = Avx.UnpackHigh(v4, v5);
        var t6 = Avx.UnpackLow(v6, v7); var t7 = Avx.UnpackHigh(v6, v7);
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + ldDst, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 2 * ldDst, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + 3 * ldDst, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 4 * ldDst, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + 5 * ldDst, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 6 * ldDst, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + 7 * ldDst, Avx.Permute2x128(u3, u7, 0x31));
    }

    /// <summary><c>dst[k·width + r] = src[k·srcK + r]</c> for r &lt; <paramref name="count"/>, k &lt; <paramref name="kc"/>: pure copies.</summary>
    static void PackRows(float* dst, int width, float* src, nint srcK, int count, int kc)
    {
        int whole = count / Vector256<float>.Count * Vector256<float>.Count;
        for (int k = 0; k < kc; k++, src += srcK, dst += width)
        {
            int r = 0;
            for (; r < whole; r += Vector256<float>.Count) Vector256.Store(Vector256.Load(src + r), dst + r);
            for (; r < count; r++) dst[r] = src[r];
        }
    }

    /// <summary>
    /// Whether a block first copies its KC slice of A into [k][rows of the block]: A read down its columns with k a page or more
    /// apart (GPT-2-size dW, dOutᵀ with OC ≥ 1024), where reading in place touches a new page per k for every tile and panel.
    /// Shorter strides (the training shapes' dW, attention's dV and dK) read in place: packing them measured slower.
    /// </summary>
    static bool PacksA(nint aRow, nint aK) => aRow == 1 && aK >= 1024;

    static int Blocks(int M, int rowsPer, int panels, int panelsPer) =>
        (M + rowsPer - 1) / rowsPer * ((panels + panelsPer - 1) / panelsPer);

    static void CopyTile(float* dst, nint ldDst, float* src, nint ldSrc, int rows, int cols)
    {
        for (int r = 0; r < rows; r++)
        {
            new ReadOnlySpan<float>(src + r * ldSrc, cols).CopyTo(new Span<float>(dst + r * ldDst, cols));
        }
    }
}

/// <summary>The handful of vector operations the micro-kernel (and the bias gradient's column sums) need, at one width.</summary>
interface IVectorOps<TVec> where TVec : unmanaged
{
    static abstract int Count { get; }
    static abstract unsafe TVec Load(float* p);
    static abstract unsafe void Store(TVec v, float* p);
    static abstract TVec Broadcast(float x);
    static abstract TVec Zero { get; }
    /// <summary>a · b + c.</summary>
    static abstract TVec Fma(TVec a, TVec b, TVec c);
    static abstract TVec Add(TVec a, TVec b);
}

readonly struct Ops512 : IVectorOps<Vector512<float>>
{
    public static int Count => Vector512<float>.Count;
    public static unsafe Vector512<float> Load(float* p) => Vector512.Load(p);
    public static unsafe void Store(Vector512<float> v, float* p) => v.Store(p);
    public static Vector512<float> Broadcast(float x) => Vector512.Create(x);
    public static Vector512<float> Zero => Vector512<float>.Zero;
    public static Vector512<float> Fma(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);
    public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;
}

readonly struct Ops256 : IVectorOps<Vector256<float>>
{
    public static int Count => Vector256<float>.Count;
    public static unsafe Vector256<float> Load(float* p) => Vector256.Load(p);
    public static unsafe void Store(Vector256<float> v, float* p) => v.Store(p);
    public static Vector256<float> Broadcast(float x) => Vector256.Create(x);
    public static Vector256<float> Zero => Vector256<float>.Zero;
    public static Vector256<float> Fma(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);
    public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;
}

/// <summary>The scalar fallback: plain multiply then add, exactly as the scalar oracles.</summary>
readonly struct OpsScalar : IVectorOps<float>
{
    public static int Count => 1;
    public static unsafe float Load(float* p) => *p;
    public static unsafe void Store(float v, float* p) => *p = v;
    public static float Broadcast(float x) => x;
    public static float Zero => 0f;
    public static float Fma(float a, float b, float c) => a * b + c;
    public static float Add(float a, float b) => a + b;
}
