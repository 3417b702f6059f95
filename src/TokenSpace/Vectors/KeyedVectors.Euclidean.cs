using TokenSpace.Tensors;

namespace TokenSpace.Vectors;

/// <summary>One result of a nearest-neighbour query by Euclidean distance: a key and ‖key − query‖₂ of the raw vectors.</summary>
public readonly record struct KeyDistance(string Key, float Distance);

public sealed partial class KeyedVectors
{
    /// <summary>
    /// The <paramref name="topN"/> keys whose raw vectors are closest to that of <paramref name="key"/> by
    /// Euclidean distance (the key itself left out), nearest first, ties to the earlier row; each distance is
    /// exactly <see cref="Distance"/> with <see cref="DistanceMetric.Euclidean"/>. <c>kv.ClosestByDistance("frog", 5)</c>.
    /// </summary>
    /// <exception cref="KeyNotFoundException">The key is unknown.</exception>
    public IReadOnlyList<KeyDistance> ClosestByDistance(string key, int topN = 10)
    {
        int row = IndexOf(key);
        return ClosestRows(Row(row).ToArray(), row, topN);
    }

    /// <summary>The <paramref name="topN"/> keys whose raw vectors are closest to <paramref name="vector"/> by Euclidean distance (nothing
    /// left out).</summary>
    /// <exception cref="ArgumentException">The vector's length is not <see cref="Dimensions"/>.</exception>
    public IReadOnlyList<KeyDistance> ClosestByDistance(ReadOnlySpan<float> vector, int topN = 10)
    {
        if (vector.Length != Dimensions) throw new ArgumentException($"vector has {vector.Length} dimensions, expected {Dimensions}");
        return ClosestRows(vector.ToArray(), -1, topN);
    }

    /// <summary>‖x − y‖₂ accumulated in double, the one Euclidean distance of the class.</summary>
    static float Euclidean(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        double sum = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double diff = (double)x[i] - y[i];
            sum += diff * diff;
        }
        return (float)Math.Sqrt(sum);
    }

    List<KeyDistance> ClosestRows(float[] query, int exclude, int topN)
    {
        if (topN < 1) return [];
        int chunks = Chunks(Count);
        var partial = new TopK[chunks];
        Threads.For(chunks, c =>
        {
            var scratch = new float[Dimensions];
            var best = new TopK(topN);
            var (start, end) = ChunkRange(c, Count);
            for (int i = start; i < end; i++)
            {
                // Negated, so TopK's "higher first, ties to the lower row" means nearest first.
                if (i != exclude) best.Offer(-Euclidean(RawRow(i, scratch), query), i);
            }
            partial[c] = best;
        });
        return Merge(partial, topN).Select(n => new KeyDistance(n.Key, -n.Similarity)).ToList();
    }
}
