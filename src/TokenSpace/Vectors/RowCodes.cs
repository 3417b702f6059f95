using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TokenSpace.Vectors;

/// <summary>
/// How an <see cref="ApproximateIndex"/> stores a unit row in its graph and scores a query against it
/// (higher is nearer). Rows are padded with zeros to the kernel's block, so the kernels have no tails.
/// A query is first turned into the code's query form (<see cref="Query"/>, or <see cref="RowQuery"/> for a
/// stored row, which the build links as a query).
/// </summary>
unsafe interface IRowCode
{
    /// <summary>Bytes of one stored row of <paramref name="dims"/> values.</summary>
    static abstract int RowBytes(int dims);

    /// <summary>Bytes of one query in the code's query form.</summary>
    static abstract int QueryBytes(int dims);

    /// <summary>Stores the unit row <paramref name="unit"/> at <paramref name="row"/> (RowBytes, padding zeroed).</summary>
    static abstract void Encode(ReadOnlySpan<float> unit, byte* row);

    /// <summary>The query form of the unit vector <paramref name="unit"/> (QueryBytes, padding zeroed).</summary>
    static abstract void Query(ReadOnlySpan<float> unit, byte* query);

    /// <summary>The query form of the stored row at <paramref name="row"/>.</summary>
    static abstract void RowQuery(byte* row, byte* query, int dims);

    /// <summary>The kernel's similarity of a query and a stored row (≈ their cosine).</summary>
    static abstract float Score(byte* query, byte* row, int dims);

    /// <summary>The oracle for <see cref="Score"/>: a plain loop in double.</summary>
    static abstract double ScoreScalar(byte* query, byte* row, int dims);
}

/// <summary>Float32 rows, padded to 16 values: the scores are float32 dot products.</summary>
readonly unsafe struct Float32Rows : IRowCode
{
    static int Padded(int dims) => (dims + 15) & ~15;

    public static int RowBytes(int dims) => Padded(dims) * sizeof(float);

    public static int QueryBytes(int dims) => RowBytes(dims);

    public static void Encode(ReadOnlySpan<float> unit, byte* row)
    {
        var dst = new Span<float>(row, Padded(unit.Length));
        unit.CopyTo(dst);
        dst[unit.Length..].Clear();
    }

    public static void Query(ReadOnlySpan<float> unit, byte* query) => Encode(unit, query);

    public static void RowQuery(byte* row, byte* query, int dims) => Buffer.MemoryCopy(row, query, RowBytes(dims), RowBytes(dims));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Score(byte* query, byte* row, int dims)
    {
        float* a = (float*)query, b = (float*)row;
        int n = Padded(dims);
        if (Vector512.IsHardwareAccelerated)
        {
            var acc = Vector512<float>.Zero;
            for (int i = 0; i < n; i += 16) acc = Vector512.FusedMultiplyAdd(Vector512.Load(a + i), Vector512.Load(b + i), acc);
            return Vector512.Sum(acc);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> acc0 = Vector256<float>.Zero, acc1 = Vector256<float>.Zero;
            for (int i = 0; i < n; i += 16)
            {
                acc0 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i), Vector256.Load(b + i), acc0);
                acc1 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i + 8), Vector256.Load(b + i + 8), acc1);
            }
            return Vector256.Sum(acc0 + acc1);
        }
        return (float)ScoreScalar(query, row, dims);
    }

    public static double ScoreScalar(byte* query, byte* row, int dims)
    {
        double sum = 0;
        for (int i = 0; i < dims; i++) sum += (double)((float*)query)[i] * ((float*)row)[i];
        return sum;
    }
}

/// <summary>
/// Float16 rows, padded to 16 values, against float32 queries: half the memory the graph walks reads.
/// The kernel widens a half to a float by moving its exponent and mantissa into place and multiplying by
/// 2^112, which is exact for every finite half (subnormals and zero included); unit rows hold no ∞ or NaN.
/// </summary>
readonly unsafe struct Float16Rows : IRowCode
{
    static int Padded(int dims) => (dims + 15) & ~15;

    public static int RowBytes(int dims) => Padded(dims) * sizeof(ushort);

    public static int QueryBytes(int dims) => Padded(dims) * sizeof(float);

    public static void Encode(ReadOnlySpan<float> unit, byte* row)
    {
        var dst = new Span<Half>(row, Padded(unit.Length));
        for (int i = 0; i < unit.Length; i++) dst[i] = (Half)unit[i];
        dst[unit.Length..].Clear();
    }

    public static void Query(ReadOnlySpan<float> unit, byte* query) => Float32Rows.Encode(unit, query);

    public static void RowQuery(byte* row, byte* query, int dims)
    {
        for (int i = 0; i < Padded(dims); i++) ((float*)query)[i] = (float)((Half*)row)[i];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Score(byte* query, byte* row, int dims)
    {
        if (!Vector256.IsHardwareAccelerated) return (float)ScoreScalar(query, row, dims);
        float* a = (float*)query;
        ushort* b = (ushort*)row;
        int n = Padded(dims);
        Vector256<float> acc0 = Vector256<float>.Zero, acc1 = Vector256<float>.Zero;
        for (int i = 0; i < n; i += 16)
        {
            var (lo, hi) = Vector256.Widen(Vector256.Load(b + i));
            acc0 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i), Widen(lo), acc0);
            acc1 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i + 8), Widen(hi), acc1);
        }
        return Vector256.Sum(acc0 + acc1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Widen(Vector256<uint> h)
    {
        var bits = ((h & Vector256.Create(0x7fffu)) << 13) | ((h & Vector256.Create(0x8000u)) << 16);
        return bits.AsSingle() * Vector256.Create(0x77800000u).AsSingle(); // 2^112
    }

    public static double ScoreScalar(byte* query, byte* row, int dims)
    {
        double sum = 0;
        for (int i = 0; i < dims; i++) sum += (double)((float*)query)[i] * (float)((Half*)row)[i];
        return sum;
    }
}

/// <summary>
/// Int8 rows: each row scaled so its largest value is ±127, padded to 32 codes, then its float32 scale
/// (largest |value| / 127). Queries take the same form, and a score is the integer dot product times both
/// scales: a quarter of the memory, coarser scores (the index re-ranks its answers exactly).
/// </summary>
readonly unsafe struct Int8Rows : IRowCode
{
    static int Padded(int dims) => (dims + 31) & ~31;

    public static int RowBytes(int dims) => Padded(dims) + sizeof(float);

    public static int QueryBytes(int dims) => RowBytes(dims);

    public static void Encode(ReadOnlySpan<float> unit, byte* row)
    {
        float max = 0;
        foreach (float x in unit) max = Math.Max(max, Math.Abs(x));
        float scale = max / 127;
        var codes = new Span<sbyte>(row, Padded(unit.Length));
        codes.Clear();
        if (scale > 0)
        {
            for (int i = 0; i < unit.Length; i++) codes[i] = (sbyte)Math.Clamp(MathF.Round(unit[i] / scale), -127, 127);
        }
        *(float*)(row + codes.Length) = scale;
    }

    public static void Query(ReadOnlySpan<float> unit, byte* query) => Encode(unit, query);

    public static void RowQuery(byte* row, byte* query, int dims) => Buffer.MemoryCopy(row, query, RowBytes(dims), RowBytes(dims));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Score(byte* query, byte* row, int dims)
    {
        int n = Padded(dims);
        float scales = *(float*)(query + n) * *(float*)(row + n);
        if (!Avx2.IsSupported) return (float)ScoreScalar(query, row, dims);
        sbyte* a = (sbyte*)query, b = (sbyte*)row;
        var acc = Vector256<int>.Zero;
        for (int i = 0; i < n; i += 16)
        {
            // Widened to int16, multiplied and summed in adjacent pairs to int32: no overflow (2·127² < 2^15·2).
            var x = Avx2.ConvertToVector256Int16(Vector128.Load(a + i));
            var y = Avx2.ConvertToVector256Int16(Vector128.Load(b + i));
            acc += Avx2.MultiplyAddAdjacent(x, y);
        }
        return Vector256.Sum(acc) * scales;
    }

    public static double ScoreScalar(byte* query, byte* row, int dims)
    {
        int n = Padded(dims);
        long sum = 0;
        for (int i = 0; i < dims; i++) sum += ((sbyte*)query)[i] * ((sbyte*)row)[i];
        return sum * (double)*(float*)(query + n) * *(float*)(row + n);
    }
}
