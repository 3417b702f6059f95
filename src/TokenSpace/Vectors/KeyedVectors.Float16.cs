namespace TokenSpace.Vectors;

/// <summary>How <see cref="KeyedVectors"/> holds its raw matrix in memory.</summary>
public enum VectorStorage
{
    /// <summary>4 bytes per value.</summary>
    Float32,

    /// <summary>2 bytes per value (IEEE half): half the memory; every query widens the stored values to float32.</summary>
    Float16,
}

// The float16 storage of KeyedVectors: the raw matrix as Half, widened row by row wherever float32 is
// needed, so every answer equals the one computed on the widened values held as float32.
public sealed partial class KeyedVectors
{
    Half[]? half; // (Count, Dimensions) when the storage is float16; `vectors` is then empty

    /// <summary>For readers that already checked the keys: a float16 matrix (keys.Length × dimensions), held without widening.</summary>
    internal KeyedVectors(string[] keys, Lazy<Dictionary<string, int>> index, Half[] vectors, int dimensions)
        : this(keys, index, ReadOnlyMemory<float>.Empty, dimensions, owner: null)
    {
        half = vectors;
    }

    /// <summary>How the raw matrix is held: float32, or float16 (after <see cref="ToFloat16"/> or a load with <c>Storage = Float16</c>).</summary>
    public VectorStorage Storage => half is null ? VectorStorage.Float32 : VectorStorage.Float16;

    /// <summary>The float16 matrix (Count × Dimensions) when <see cref="Storage"/> is float16, else empty.</summary>
    internal ReadOnlySpan<Half> HalfVectors => half;

    /// <summary>
    /// A copy of this set whose raw matrix is stored as float16 (each value rounded to nearest), half
    /// the memory; queries on it answer exactly as a float32 set holding the rounded values would.
    /// Returns this set itself when it is already float16. The copy shares the keys, not the file.
    /// </summary>
    /// <exception cref="ArgumentException">A value is beyond float16's range (±65504).</exception>
    public KeyedVectors ToFloat16()
    {
        if (half is not null) return this;
        var src = Matrix.Span;
        var result = new Half[src.Length];
        for (int i = 0; i < src.Length; i++)
        {
            result[i] = (Half)src[i];
            if (Half.IsInfinity(result[i]))
            {
                throw new ArgumentException($"value {i % Dimensions + 1} of row {i / Dimensions} ('{keys[i / Dimensions]}') is {src[i]}, beyond float16's range ±65504; keep float32 storage");
            }
        }
        return new KeyedVectors(keys, index, result, Dimensions);
    }

    /// <summary>Row <paramref name="row"/> as float32: a slice of the matrix, or the float16 row widened into <paramref name="scratch"/> (length Dimensions).</summary>
    ReadOnlySpan<float> RawRow(int row, Span<float> scratch)
    {
        var matrix = Matrix; // checks for Dispose
        if (half is null) return matrix.Span.Slice(row * Dimensions, Dimensions);
        var src = half.AsSpan(row * Dimensions, Dimensions);
        for (int j = 0; j < src.Length; j++) scratch[j] = (float)src[j];
        return scratch;
    }

    /// <summary>The whole raw matrix as float32: the matrix itself, or a widened copy of the float16 one.</summary>
    ReadOnlySpan<float> RawVectors()
    {
        var matrix = Matrix; // checks for Dispose
        if (half is null) return matrix.Span;
        var wide = new float[half.Length];
        for (int i = 0; i < wide.Length; i++) wide[i] = (float)half[i];
        return wide;
    }
}
