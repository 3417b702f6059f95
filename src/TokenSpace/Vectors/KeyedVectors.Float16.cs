using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using TokenSpace.Tensors;

namespace TokenSpace.Vectors;

/// <summary>How <see cref="KeyedVectors"/> holds its raw matrix in memory.</summary>
public enum VectorStorage
{
    /// <summary>4 bytes per value.</summary>
    Float32,

    /// <summary>2 bytes per value (IEEE half): half the memory; every query widens the stored values to float32.</summary>
    Float16,

    /// <summary>2 bytes per value (bfloat16, the upper half of a float32), as large language models store their embeddings; widened like
    /// float16.</summary>
    BFloat16,
}

// The 16-bit storage of KeyedVectors (float16 or bfloat16): the raw matrix as stored, widened row by row
// wherever float32 is needed, so every answer equals the one computed on the widened values held as float32.
// Held in managed memory (--dtype float16, a float16 .npy), the unit rows are made once, as for float32. A
// memory-mapped 16-bit matrix (a safetensors BF16/F16 embedding of a large model) is never copied: each query
// widens and normalises the rows it scans (the same float32 unit rows, made on the fly), so memory stays the file's.
public sealed partial class KeyedVectors
{
    ReadOnlyMemory<ushort>? half; // (Count, Dimensions) bit patterns when the storage is 16-bit; `vectors` is then empty
    VectorStorage halfKind;
    double[]? rowNorms;

    /// <summary>
    /// For readers: a 16-bit matrix (keys.Count × dimensions) of <paramref name="kind"/>, held without widening;
    /// memory-mapped when <paramref name="owner"/> (the mapping) is given.
    /// </summary>
    internal KeyedVectors(KeyTable keys, ReadOnlyMemory<ushort> vectors, VectorStorage kind, int dimensions, IDisposable? owner)
        : this(keys, ReadOnlyMemory<float>.Empty, dimensions, owner)
    {
        if (kind == VectorStorage.Float32) throw new ArgumentException("a 16-bit matrix is float16 or bfloat16", nameof(kind));
        half = vectors;
        halfKind = kind;
    }

    /// <summary>How the raw matrix is held: float32, float16 (after <see cref="ToFloat16"/> or a load with <c>Storage = Float16</c>) or
    /// bfloat16 (a mapped BF16 tensor).</summary>
    public VectorStorage Storage => half is null ? VectorStorage.Float32 : halfKind;

    /// <summary>The 16-bit matrix (Count × Dimensions) as bit patterns when <see cref="Storage"/> is 16-bit, else empty.</summary>
    internal ReadOnlySpan<ushort> HalfVectors => half is { } h ? h.Span : default;

    /// <summary>True when queries make unit rows on the fly instead of holding them all (a memory-mapped 16-bit matrix).</summary>
    bool Streamed => half is not null && owner is not null;

    /// <summary>
    /// A copy of this set whose raw matrix is stored as float16 (each value rounded to nearest), half
    /// the memory; queries on it answer exactly as a float32 set holding the rounded values would.
    /// Returns this set itself when it is already float16. The copy shares the keys, not the file.
    /// </summary>
    /// <exception cref="ArgumentException">A value is beyond float16's range (±65504).</exception>
    public KeyedVectors ToFloat16()
    {
        if (Storage == VectorStorage.Float16) return this;
        var result = new ushort[(long)Count * Dimensions];
        var scratch = new float[Dimensions];
        for (int r = 0; r < Count; r++)
        {
            var row = RawRow(r, scratch);
            for (int j = 0; j < row.Length; j++)
            {
                var h = (Half)row[j];
                if (Half.IsInfinity(h))
                {
                    throw new ArgumentException($"value {j + 1} of row {r} ('{keys[r]}') is {row[j]}, beyond float16's range ±65504; " +
                        "keep " +
                        "float32 storage");
                }
                result[(long)r * Dimensions + j] = BitConverter.HalfToUInt16Bits(h);
            }
        }
        return new KeyedVectors(keys, result, VectorStorage.Float16, Dimensions, owner: null);
    }

    /// <summary>Row <paramref name="row"/> as float32: a slice of the matrix, or the 16-bit row widened into <paramref name="scratch"/>
    /// (length Dimensions).</summary>
    ReadOnlySpan<float> RawRow(int row, Span<float> scratch)
    {
        var matrix = Matrix; // checks for Dispose
        if (half is not { } h) return matrix.Span.Slice(row * Dimensions, Dimensions);
        Widen(h.Span.Slice(row * Dimensions, Dimensions), halfKind, scratch);
        return scratch[..Dimensions];
    }

    /// <summary>The unit rows as queries read them; take once per query, not per row.</summary>
    UnitRows Units() => Streamed ? new UnitRows(this, default, RowNorms) : new UnitRows(this, UnitMemory, null);

    /// <summary>Unit rows: slices of the held unit matrix, or (streamed) each row widened into a scratch span and divided by its norm
    /// there.</summary>
    readonly struct UnitRows(KeyedVectors owner, ReadOnlyMemory<float> held, double[]? norms)
    {
        /// <summary>Unit row <paramref name="row"/>; <paramref name="scratch"/> (length Dimensions) is needed only when streamed.</summary>
        public ReadOnlySpan<float> Get(int row, Span<float> scratch)
        {
            int d = owner.Dimensions;
            if (norms is null) return held.Span.Slice(row * d, d);
            var raw = owner.RawRow(row, scratch);
            VectorMath.Scale(raw, norms[row], scratch);
            return raw;
        }
    }

    /// <summary>‖row‖₂ of every row in double (computed once, in parallel): what the unit rows are divided by.</summary>
    double[] RowNorms
    {
        get
        {
            lock (gate)
            {
                ObjectDisposedException.ThrowIf(disposed, this);
                if (rowNorms is null)
                {
                    var result = new double[Count];
                    Threads.For(Chunks(Count), c =>
                    {
                        var scratch = new float[Dimensions];
                        var (start, end) = ChunkRange(c, Count);
                        for (int i = start; i < end; i++) result[i] = VectorMath.Norm(RawRow(i, scratch));
                    });
                    rowNorms = result;
                }
                return rowNorms;
            }
        }
    }

    /// <summary>The first row whose norm is not finite (it holds a NaN or an infinity), or -1; computes (and keeps) every row's
    /// norm.</summary>
    internal int FirstNonFiniteRow() => Array.FindIndex(RowNorms, n => !double.IsFinite(n));

    /// <summary>The whole raw matrix as float32: the matrix itself, or a widened copy of the 16-bit one.</summary>
    ReadOnlySpan<float> RawVectors()
    {
        var matrix = Matrix; // checks for Dispose
        if (half is not { } h) return matrix.Span;
        var wide = new float[h.Length];
        Widen(h.Span, halfKind, wide);
        return wide;
    }

    /// <summary>
    /// The exact top k of [0, rowEnd) for each query, as <see cref="CompactIndex.SearchExact"/> computes them over the unit
    /// matrix, without dividing every row: a first pass scores each widened row w as Dot(q, w) / ‖w‖. That and the exact
    /// score Dot(q, w/‖w‖) (float32, as the held unit rows give it) are roundings of one real number q·w/‖w‖, each within
    /// γ_d·‖q‖ + 2·2⁻²⁴ of it (Higham's dot-product bound, any summation order), so only rows whose first score comes within
    /// twice that slack of the k-th best can be in the top k, and just those are scored exactly. Rows whose norm is beyond
    /// [1e-30, 1e30] (where float32 products could underflow or overflow) are always scored exactly.
    /// </summary>
    (int Row, float Score)[][] SearchStreamed(float[] queries, int[][] exclude, int k, int rowEnd)
    {
        // Queries go in groups, so the first scores held at once stay StreamedGroup × rows floats.
        const int StreamedGroup = 64;
        int d = Dimensions;
        var result = new (int Row, float Score)[exclude.Length][];
        for (int g = 0; g < exclude.Length; g += StreamedGroup)
        {
            int n = Math.Min(StreamedGroup, exclude.Length - g);
            SearchStreamedGroup(queries.AsSpan(g * d, n * d).ToArray(), exclude[g..(g + n)], k, rowEnd).CopyTo(result, g);
        }
        return result;
    }

    (int Row, float Score)[][] SearchStreamedGroup(float[] queries, int[][] exclude, int k, int rowEnd)
    {
        int d = Dimensions, count = exclude.Length;
        var norms = RowNorms;
        var first = new float[count][]; // (count, rowEnd); +∞ marks a row to score exactly whatever the bar
        for (int q = 0; q < count; q++) first[q] = new float[rowEnd];
        Threads.For(Chunks(rowEnd), c =>
        {
            var scratch = new float[d];
            var (start, end) = ChunkRange(c, rowEnd);
            for (int i = start; i < end; i++)
            {
                var raw = RawRow(i, scratch);
                bool safe = norms[i] is >= 1e-30 and <= 1e30;
                for (int q = 0; q < count; q++)
                {
                    first[q][i] = safe ? (float)(VectorMath.Dot(queries.AsSpan(q * d, d), raw) / norms[i]) : float.PositiveInfinity;
                }
            }
        });
        double u = Math.Pow(2, -24), gamma = (d + 2) * u / (1 - (d + 2) * u);
        var units = Units();
        var result = new (int Row, float Score)[count][];
        Threads.For(count, q =>
        {
            var query = queries.AsSpan(q * d, d);
            var scores = first[q];
            var kth = new TopK(k);
            for (int i = 0; i < rowEnd; i++)
            {
                if (float.IsFinite(scores[i]) && kth.Admits(scores[i], i) && Array.IndexOf(exclude[q], i) < 0) kth.Offer(scores[i], i);
            }
            double slack = (2 * gamma + 4 * u) * VectorMath.Norm(query) * 1.01;
            double bar = kth.Count < k || gamma >= 0.25 ? double.NegativeInfinity : kth.Threshold - 2 * slack;
            var best = new TopK(k);
            var scratch = new float[d];
            for (int i = 0; i < rowEnd; i++)
            {
                if (scores[i] < bar || Array.IndexOf(exclude[q], i) >= 0) continue;
                float s = VectorMath.Dot(query, units.Get(i, scratch));
                if (best.Admits(s, i)) best.Offer(s, i);
            }
            result[q] = best.Sorted();
        });
        return result;
    }

    /// <summary>16-bit values (float16 or bfloat16 bit patterns) as float32; bfloat16 is the upper half of a float32, widened 16 at a
    /// time.</summary>
    internal static void Widen(ReadOnlySpan<ushort> src, VectorStorage kind, Span<float> dst)
    {
        if (kind == VectorStorage.Float16)
        {
            System.Numerics.Tensors.TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<ushort, Half>(src), dst);
            return;
        }
        var bits = MemoryMarshal.Cast<float, uint>(dst);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref ushort s = ref MemoryMarshal.GetReference(src);
            ref uint t = ref MemoryMarshal.GetReference(bits);
            for (; i <= src.Length - 16; i += 16)
            {
                var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref s, (nuint)i));
                Vector256.ShiftLeft(lo, 16).StoreUnsafe(ref t, (nuint)i);
                Vector256.ShiftLeft(hi, 16).StoreUnsafe(ref t, (nuint)(i + 8));
            }
        }
        for (; i < src.Length; i++) bits[i] = (uint)src[i] << 16;
    }
}
